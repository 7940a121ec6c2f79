import { useQuery } from '@tanstack/react-query';
import { Select } from 'antd';
import { useState } from 'react';

import { api, ok } from '../api/client';

interface PickerProps<T> {
  value?: T;
  onChange?: (value: T) => void;
  id?: string;
  placeholder?: string;
}

function useUnits(q: string) {
  return useQuery({
    queryKey: ['org-units', 'pick', q],
    queryFn: async () =>
      ok(await api.GET('/api/v1/org-units', { params: { query: { q: q || undefined, limit: 50 } } })),
  });
}

function useDepartments() {
  return useQuery({
    queryKey: ['departments', 'pick'],
    queryFn: async () => ok(await api.GET('/api/v1/departments', { params: { query: { limit: 200 } } })),
  });
}

/** A unit or a department, as "unit:<id>" or "department:<id>" (see vocab.actionBody). */
export function TargetPicker({ value, onChange, id, placeholder }: PickerProps<string> & { placeholder?: string }) {
  const [q, setQ] = useState('');
  const units = useUnits(q);
  const departments = useDepartments();
  const options = [
    ...(units.data?.items ?? []).map((u) => ({ value: `unit:${u.id}`, label: `${u.name}（${u.code}）` })),
    ...(departments.data?.items ?? [])
      .filter((d) => !q || d.name.includes(q))
      .map((d) => ({ value: `department:${d.id}`, label: `${d.name}` })),
  ];
  return (
    <Select
      id={id}
      showSearch
      allowClear
      value={value}
      onChange={onChange}
      filterOption={false}
      onSearch={setQ}
      options={options}
      loading={units.isPending}
      placeholder={placeholder}
      style={{ width: '100%' }}
    />
  );
}

function UnitSelect<T extends string | string[]>({
  value,
  onChange,
  id,
  placeholder,
  multiple,
}: PickerProps<T> & { multiple?: boolean }) {
  const [q, setQ] = useState('');
  const units = useUnits(q);
  return (
    <Select
      id={id}
      mode={multiple ? 'multiple' : undefined}
      allowClear={!multiple}
      placeholder={placeholder}
      showSearch
      value={value}
      onChange={onChange}
      filterOption={false}
      onSearch={setQ}
      loading={units.isPending}
      options={(units.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.name}（${u.code}）` }))}
    />
  );
}

export function UnitsPicker(props: PickerProps<string[]>) {
  return <UnitSelect {...props} multiple />;
}

export function UnitPicker(props: PickerProps<string>) {
  return <UnitSelect {...props} />;
}

export function DepartmentPicker({ value, onChange, id }: PickerProps<string>) {
  const departments = useDepartments();
  return (
    <Select
      id={id}
      allowClear
      showSearch
      optionFilterProp="label"
      value={value}
      onChange={onChange}
      loading={departments.isPending}
      options={(departments.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))}
    />
  );
}

export function GridPicker({ value, onChange, id }: PickerProps<string>) {
  const [q, setQ] = useState('');
  const grids = useQuery({
    queryKey: ['grids', 'pick', q],
    queryFn: async () => ok(await api.GET('/api/v1/grids', { params: { query: { q: q || undefined, limit: 50 } } })),
  });
  return (
    <Select
      id={id}
      showSearch
      value={value}
      onChange={onChange}
      filterOption={false}
      onSearch={setQ}
      loading={grids.isPending}
      options={(grids.data?.items ?? []).map((g) => ({ value: g.id, label: `${g.name}（${g.code}）` }))}
    />
  );
}
