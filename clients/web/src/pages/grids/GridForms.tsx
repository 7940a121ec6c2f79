// The forms of the grid editor: draw (create), split, merge and reshape all go through one
// modal shell. Field errors land on the form; a refusal about the shape itself closes the
// form so the map, where the offending geometry is drawn, can be seen.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Form, Input, InputNumber, Modal, Select, Space } from 'antd';
import { useState, type ReactNode } from 'react';

import { api, ApiError, idempotent, ok } from '../../api/client';
import { showServerErrors } from '../../components/forms';
import { useI18n } from '../../i18n/I18n';
import type { Unit } from './UnitTree';

type Values = Record<string, unknown>;

/** True when the server refused the shape (overlap, overhang, invalid ring, failed cut). */
export function isShapeProblem(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  const { problem } = error;
  return !!problem.geometry || (problem.errors ?? []).some((e) => ['geometry', 'line'].includes(e.field.split('.')[0] ?? ''));
}

interface ShellProps {
  title: string;
  initial?: Values;
  submit: (values: Values) => Promise<Unit | Unit[]>;
  onDone: (result: Unit | Unit[]) => void;
  onShapeError: (error: unknown) => void;
  onClose: () => void;
  children: ReactNode;
}

function GridModal({ title, initial, submit, onDone, onShapeError, onClose, children }: ShellProps) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const run = useMutation({
    mutationFn: submit,
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: ['grids'] });
      void queryClient.invalidateQueries({ queryKey: ['org-units'] });
      onDone(result);
    },
    onError: (error) => {
      if (isShapeProblem(error)) onShapeError(error);
      else setBanner(showServerErrors(form, error));
    },
  });
  return (
    <Modal open title={title} onOk={() => form.submit()} onCancel={onClose} confirmLoading={run.isPending}
      okText={t('common.submit')} cancelText={t('common.cancel')} destroyOnClose>
      {banner && <Alert type="error" showIcon message={banner} style={{ marginBottom: 12 }} role="alert" />}
      <Form form={form} layout="vertical" initialValues={initial}
        onFinish={(values: Values) => { setBanner(null); run.mutate(values); }}>
        {children}
        <Form.Item name="reason" label={t('grids.reason')}>
          <Input />
        </Form.Item>
      </Form>
    </Modal>
  );
}

type Outcome = Pick<ShellProps, 'onDone' | 'onShapeError' | 'onClose'>;

function CodeName({ prefix = [] }: { prefix?: (string | number)[] }) {
  const { t } = useI18n();
  return (
    <Space align="start">
      <Form.Item name={[...prefix, 'code']} label={t('grids.code')} rules={[{ required: true }]} extra={t('grids.codeHint')}>
        <Input style={{ width: 200 }} />
      </Form.Item>
      <Form.Item name={[...prefix, 'name']} label={t('grids.name')} rules={[{ required: true }]}>
        <Input style={{ width: 200 }} />
      </Form.Item>
    </Space>
  );
}

export function CreateGrid({ parentId, geometry, ...outcome }: { parentId: string; geometry: GeoJSON.Geometry } & Outcome) {
  const { t } = useI18n();
  return (
    <GridModal title={t('grids.create')} {...outcome}
      submit={async (values) =>
        ok(await api.POST('/api/v1/grids', {
          body: { ...values, parent_id: parentId, geometry } as never,
          headers: idempotent(),
        }))
      }>
      <CodeName />
      <Form.Item name="household_target" label={t('grids.householdTarget')}>
        <InputNumber min={0} />
      </Form.Item>
    </GridModal>
  );
}

export function SplitGrid({ grid, line, ...outcome }: { grid: Unit; line: GeoJSON.Geometry } & Outcome) {
  const { t } = useI18n();
  return (
    <GridModal title={`${t('grids.split')}：${grid.name}`} initial={{ new_grids: [{}] }} {...outcome}
      submit={async (values) =>
        ok(await api.POST('/api/v1/grids/{grid_id}/split', {
          params: { path: { grid_id: grid.id } },
          body: { ...values, line } as never,
        }))
      }>
      <Form.List name="new_grids">
        {(fields, { add, remove }) => (
          <>
            {fields.map((field) => (
              <Space key={field.key} align="baseline">
                <CodeName prefix={[field.name]} />
                {fields.length > 1 && <Button onClick={() => remove(field.name)}>−</Button>}
              </Space>
            ))}
            <Form.Item extra={t('grids.splitHint')}>
              <Button onClick={() => add({})}>{t('grids.addPiece')}</Button>
            </Form.Item>
          </>
        )}
      </Form.List>
    </GridModal>
  );
}

export function MergeGrids({ grids, first, ...outcome }: { grids: Unit[]; first?: Unit } & Outcome) {
  const { t } = useI18n();
  return (
    <GridModal title={t('grids.merge')} initial={{ grid_ids: first ? [first.id] : [] }} {...outcome}
      submit={async (values) => ok(await api.POST('/api/v1/grids/merge', { body: values as never }))}>
      <Form.Item name="grid_ids" label={t('grids.mergeWhich')} rules={[{ required: true }]} extra={t('grids.mergeHint')}>
        <Select mode="multiple" options={grids.map((g) => ({ value: g.id, label: `${g.name}（${g.code}）` }))} />
      </Form.Item>
      <Form.Item name="name" label={t('grids.name')}>
        <Input />
      </Form.Item>
    </GridModal>
  );
}

export function ReshapeGrid({ grid, geometry, ...outcome }: { grid: Unit; geometry: GeoJSON.Polygon } & Outcome) {
  const { t } = useI18n();
  return (
    <GridModal title={`${t('grids.reshape')}：${grid.name}`} {...outcome}
      submit={async (values) =>
        ok(await api.PATCH('/api/v1/grids/{grid_id}', {
          params: { path: { grid_id: grid.id } },
          body: { ...values, geometry } as never,
          headers: { 'If-Match': `"${grid.version}"` },
        }))
      }>
      <Alert type="info" message={t('grids.reshapeHint')} style={{ marginBottom: 12 }} />
    </GridModal>
  );
}
