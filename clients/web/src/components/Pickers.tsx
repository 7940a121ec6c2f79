import { useQuery } from '@tanstack/react-query';
import { Select } from 'antd';
import { useState } from 'react';

import { api, ok } from '../api/client';

interface PickerProps<T> {
  value?: T;
  onChange?: (value: T) => void;
  id?: string;
}

function useUnits(q: string) {
  return useQuery({
    queryKey: ['org-units', 'pick', q],
    queryFn: async () =>
      ok(await api.GET('/api/v1/org-units', { params: { query: { q: q || undefined, limit: 50 } } })),
  });
}

/** A unit or a department, as "unit:<id>" or "department:<id>" (see vocab.actionBody). */
export function TargetPicker({ value, onChange, id, placeholder }: PickerProps<string> & { placeholder?: string }) {
  const [q, setQ] = useState('');
  const units = useUnits(q);
  const departments = useQuery({
    queryKey: ['departments', 'pick'],
    queryFn: async () => ok(await api.GET('/api/v1/departments', { params: { query: { limit: 200 } } })),
  });
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

export function UnitsPicker({ value, onChange, id }: PickerProps<string[]>) {
  const [q, setQ] = useState('');
  const units = useUnits(q);
  return (
    <Select
      id={id}
      mode="multiple"
      showSearch
      value={value}
      onChange={onChange}
      filterOption={false}
      onSearch={setQ}
      options={(units.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.name}（${u.code}）` }))}
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
