import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Form, Progress, Row, Select, Space, Statistic, Tag, Upload } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { PagedTable, usePaged } from '../../components/Paged';
import { QueryState } from '../../components/QueryState';
import { showServerErrors } from '../../components/forms';
import { useI18n } from '../../i18n/I18n';
import { download, upload } from './files';

type Import = components['schemas']['ImportOut'];
type Rejection = components['schemas']['RejectionOut'];

const LIVE: Import['state'][] = ['queued', 'running'];
const STATE_COLOURS: Record<Import['state'], string> = {
  queued: 'default', running: 'processing', done: 'success', cancelled: 'warning', failed: 'error',
};

export function useTemplates() {
  return useQuery({
    queryKey: ['import-templates'],
    queryFn: async () => ok(await api.GET('/api/v1/imports/templates')),
    staleTime: Infinity,
  });
}

function useDistricts() {
  return useQuery({
    queryKey: ['org-units', 'districts'],
    queryFn: async () => ok(await api.GET('/api/v1/org-units', { params: { query: { level: 'district', limit: 100 } } })),
  });
}

/** Step 1 and 2: a registry's template to fill in, and the filled file uploaded to a district. */
function UploadForm({ onCreated }: { onCreated: (created: Import) => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const templates = useTemplates();
  const districts = useDistricts();
  const registry = Form.useWatch<string | undefined>('registry', form);
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: async (values: { registry: string; district_id: string; file: { originFileObj: File }[] }) =>
      upload<Import>('/api/v1/imports', {
        registry: values.registry,
        district_id: values.district_id,
        file: values.file[0]?.originFileObj as File,
      }),
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ['imports'] });
      form.resetFields(['file']);
      onCreated(created);
    },
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  const fetchTemplate = (format: 'xlsx' | 'csv') =>
    registry && download(`/api/v1/imports/templates/${registry}?format=${format}`, `${registry}.${format}`).catch((e: Error) => setBanner(e.message));
  return (
    <Form form={form} layout="vertical" data-testid="import-form"
      onFinish={(values) => { setBanner(null); create.mutate(values as Parameters<typeof create.mutate>[0]); }}>
      {banner && <Alert type="error" showIcon message={banner} role="alert" style={{ marginBottom: 12 }} />}
      <Form.Item name="registry" label={t('imp.registry')} rules={[{ required: true }]}>
        <Select showSearch optionFilterProp="label" loading={templates.isPending}
          options={(templates.data ?? []).map((tpl) => ({ value: tpl.registry, label: tpl.label }))} />
      </Form.Item>
      <Space style={{ marginBottom: 16 }}>
        <span>{t('imp.templates')}:</span>
        <Button disabled={!registry} onClick={() => void fetchTemplate('xlsx')} data-testid="template-xlsx">XLSX</Button>
        <Button disabled={!registry} onClick={() => void fetchTemplate('csv')} data-testid="template-csv">CSV</Button>
      </Space>
      <Form.Item name="district_id" label={t('imp.district')} rules={[{ required: true }]}>
        <Select loading={districts.isPending} options={(districts.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))} />
      </Form.Item>
      <Form.Item name="file" label={t('imp.file')} valuePropName="fileList" rules={[{ required: true }]}
        getValueFromEvent={(e: { fileList: unknown[] }) => e.fileList.slice(-1)}>
        <Upload beforeUpload={() => false} maxCount={1} accept=".xlsx,.csv,.xml">
          <Button>{t('imp.file')}</Button>
        </Upload>
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={create.isPending} data-testid="upload">{t('imp.upload')}</Button>
    </Form>
  );
}

function Rejections({ id }: { id: string }) {
  const { t } = useI18n();
  const paged = usePaged<Rejection>(['imports', id, 'rejections'], async (cursor) =>
    ok(await api.GET('/api/v1/imports/{import_id}/rejections', { params: { path: { import_id: id }, query: { cursor, limit: 50 } } })),
  );
  return (
    <PagedTable<Rejection>
      paged={paged}
      rowKey={(r) => `${r.row_no}:${r.field}`}
      title={() => t('imp.rejections')}
      data-testid="rejections"
      columns={[
        { title: t('imp.row'), dataIndex: 'row_no', width: 80 },
        { title: t('imp.field'), dataIndex: 'header' },
        { title: t('imp.message'), dataIndex: 'message' },
      ]}
    />
  );
}

/** Step 3: the progress, polled while the import is queued or running; then what was refused. */
function ImportProgress({ id, onPool }: { id: string; onPool: (importId: string) => void }) {
  const { t } = useI18n();
  const [failure, setFailure] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const progress = useQuery({
    queryKey: ['imports', id],
    queryFn: async () => ok(await api.GET('/api/v1/imports/{import_id}', { params: { path: { import_id: id } } })),
    refetchInterval: (query) => (query.state.data && !LIVE.includes(query.state.data.state) ? false : 1000),
  });
  const cancel = useMutation({
    mutationFn: async () => ok(await api.POST('/api/v1/imports/{import_id}/cancel', { params: { path: { import_id: id } }, headers: idempotent() })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['imports'] }),
    onError: (error) => setFailure(error.message),
  });
  return (
    <Card title={t('imp.progress')} size="small" data-testid="import-progress">
      <QueryState query={progress}>
        {(record) => (
          <>
            {failure && <Alert type="error" showIcon message={failure} role="alert" style={{ marginBottom: 12 }} />}
            {record.error && <Alert type="error" showIcon message={record.error} style={{ marginBottom: 12 }} />}
            <Space style={{ marginBottom: 8 }}>
              <span>{record.filename}</span>
              <Tag color={STATE_COLOURS[record.state]} data-testid="import-state">{record.state}</Tag>
            </Space>
            <Progress percent={Math.round(record.percent)} status={record.state === 'failed' ? 'exception' : LIVE.includes(record.state) ? 'active' : undefined} />
            <Row gutter={16} style={{ margin: '12px 0' }}>
              <Col span={8} data-testid="import-read"><Statistic title={t('imp.read')} value={record.rows_read} /></Col>
              <Col span={8} data-testid="import-accepted"><Statistic title={t('imp.accepted')} value={record.rows_accepted} /></Col>
              <Col span={8} data-testid="import-rejected"><Statistic title={t('imp.rejected')} value={record.rows_rejected} /></Col>
            </Row>
            <Space style={{ marginBottom: 12 }}>
              {LIVE.includes(record.state) && <Button danger onClick={() => cancel.mutate()} loading={cancel.isPending}>{t('imp.cancel')}</Button>}
              {record.state === 'done' && record.rows_accepted > 0 && (
                <Button type="primary" onClick={() => onPool(record.id)} data-testid="to-pool">{t('imp.pool')}</Button>
              )}
            </Space>
            {record.state === 'done' && record.rows_rejected > 0 && <Rejections id={record.id} />}
          </>
        )}
      </QueryState>
    </Card>
  );
}

export function Wizard({ onPool }: { onPool: (importId: string) => void }) {
  const { t } = useI18n();
  const templates = useTemplates();
  const [current, setCurrent] = useState<string | null>(null);
  const [state, setState] = useState<Import['state'] | undefined>();
  const labels = new Map((templates.data ?? []).map((tpl) => [tpl.registry, tpl.label]));
  const history = usePaged<Import>(['imports', 'list', state], async (cursor) =>
    ok(await api.GET('/api/v1/imports', { params: { query: { state, cursor, limit: 20 } } })),
  );
  return (
    <Row gutter={16}>
      <Col xs={24} lg={10}><UploadForm onCreated={(created) => setCurrent(created.id)} /></Col>
      <Col xs={24} lg={14}>
        {current && <ImportProgress key={current} id={current} onPool={onPool} />}
        <Space style={{ margin: '16px 0 8px' }}>
          <strong>{t('imp.history')}</strong>
          <Select allowClear placeholder={t('imp.state')} value={state} onChange={setState} style={{ width: 140 }}
            options={Object.keys(STATE_COLOURS).map((s) => ({ value: s, label: s }))} />
        </Space>
        <PagedTable<Import>
          paged={history}
          rowKey="id"
          data-testid="imports"
          onRow={(row) => ({ onClick: () => setCurrent(row.id), style: { cursor: 'pointer' } })}
          columns={[
            { title: t('imp.filename'), dataIndex: 'filename' },
            { title: t('imp.registry'), dataIndex: 'registry', render: (r: string) => labels.get(r) ?? r },
            { title: t('imp.state'), dataIndex: 'state', render: (s: Import['state']) => <Tag color={STATE_COLOURS[s]}>{s}</Tag> },
            { title: t('imp.accepted'), dataIndex: 'rows_accepted' },
            { title: t('imp.rejected'), dataIndex: 'rows_rejected' },
            { title: t('imp.at'), dataIndex: 'created_at', render: (at: string) => new Date(at).toLocaleString() },
          ]}
        />
      </Col>
    </Row>
  );
}
