import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Form, Input, Modal, Space, Table, Typography } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { ifMatch } from '../../components/Paged';
import { QueryState } from '../../components/QueryState';
import { showServerErrors } from '../../components/forms';
import { useI18n } from '../../i18n/I18n';

export type Claim = components['schemas']['ClaimOut'];
type Failed = components['schemas']['ClaimFailed'];
type Field = components['schemas']['SideBySideField'];

function claimOne(gridId: string, rowId: string) {
  return async () =>
    ok(await api.POST('/api/v1/import-pool/claims', { body: { grid_id: gridId, row_ids: [rowId] }, headers: idempotent() }));
}

/** An incomplete row: correct the fields the claim named, then claim it again (R-IMP-2). */
export function FixRow({ failed, gridId, onDone }: { failed: Failed; gridId: string; onDone: (claim?: Claim) => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const row = useQuery({
    queryKey: ['import-pool', 'one', failed.row_id],
    queryFn: async () => ok(await api.GET('/api/v1/import-pool/{row_id}', { params: { path: { row_id: failed.row_id } } })),
  });
  const fix = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      const current = row.data;
      if (!current) throw new Error(t('state.error'));
      ok(await api.PATCH('/api/v1/import-pool/{row_id}', {
        params: { path: { row_id: failed.row_id } },
        body: { values },
        headers: ifMatch(current.version),
      }));
      return claimOne(gridId, failed.row_id)();
    },
    onSuccess: (claim) => onDone(claim),
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  const errors = failed.errors ?? [];
  return (
    <Modal open title={t('imp.fixThenClaim')} onOk={() => form.submit()} onCancel={() => onDone()} confirmLoading={fix.isPending}
      okText={t('common.submit')} cancelText={t('common.cancel')}>
      <QueryState query={row}>
        {(detail) => (
          <Form form={form} layout="vertical" data-testid="fix-form"
            initialValues={Object.fromEntries(errors.map((e) => [e.field, String((detail.values as Record<string, unknown>)[e.field] ?? '')]))}
            onFinish={(values) => { setBanner(null); fix.mutate(values as Record<string, string>); }}>
            {banner && <Alert type="error" showIcon message={banner} role="alert" style={{ marginBottom: 12 }} />}
            <Typography.Paragraph>{detail.name} · {detail.id_number}</Typography.Paragraph>
            {errors.map((e) => (
              <Form.Item key={e.field} name={e.field} label={e.header} rules={[{ required: true }]}>
                <Input />
              </Form.Item>
            ))}
          </Form>
        )}
      </QueryState>
    </Modal>
  );
}

/** A duplicate: the imported row beside the grid's record, then merge into it or skip the row. */
export function CompareRow({ failed, gridId, onDone }: { failed: Failed; gridId: string; onDone: (outcome?: 'merged' | 'skipped') => void }) {
  const { t } = useI18n();
  const [failure, setFailure] = useState<string | null>(null);
  const resolve = useMutation({
    mutationFn: async (how: 'merge' | 'skip') => {
      const path = { row_id: failed.row_id };
      return how === 'merge'
        ? ok(await api.POST('/api/v1/import-pool/{row_id}/merge', { params: { path }, body: { grid_id: gridId }, headers: idempotent() }))
        : ok(await api.POST('/api/v1/import-pool/{row_id}/skip', { params: { path }, headers: idempotent() }));
    },
    onSuccess: (resolution) => onDone(resolution.outcome),
    onError: (error) => setFailure(error.message),
  });
  const show = (value: unknown) => (value === null || value === undefined || value === '' ? '—' : String(value));
  return (
    <Modal open width={760} title={t('imp.compare')} onCancel={() => onDone()} footer={
      <Space>
        <Button onClick={() => onDone()}>{t('common.cancel')}</Button>
        <Button onClick={() => resolve.mutate('skip')} loading={resolve.isPending}>{t('imp.skip')}</Button>
        <Button type="primary" onClick={() => resolve.mutate('merge')} loading={resolve.isPending} data-testid="merge">{t('imp.merge')}</Button>
      </Space>
    }>
      {failure && <Alert type="error" showIcon message={failure} role="alert" style={{ marginBottom: 12 }} />}
      <Table<Field>
        size="small"
        rowKey="field"
        pagination={false}
        dataSource={failed.existing?.fields ?? []}
        data-testid="side-by-side"
        rowClassName={(f) => (f.differs ? 'ant-table-row-selected' : '')}
        columns={[
          { title: t('imp.field'), dataIndex: 'header' },
          { title: t('imp.imported'), dataIndex: 'row', render: show },
          { title: t('imp.existing'), dataIndex: 'record', render: show },
        ]}
      />
    </Modal>
  );
}
