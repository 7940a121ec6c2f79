import { useMutation } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Input } from 'antd';
import { useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { useI18n } from '../../i18n/I18n';
import { Filters, PagedTable, usePaged, when } from './kit';

type Entry = components['schemas']['AuditEntryOut'];
type Report = components['schemas']['ChainReportOut'];

/** The outcome of recomputing the hash chain (R-AUD-1): intact, tampered from an entry, or truncated. */
export function ChainReport({ report }: { report: Report }) {
  const { t } = useI18n();
  const message = report.intact
    ? t('adm.audit.intact')
    : report.tail_missing
      ? t('adm.audit.tail')
      : `${t('adm.audit.broken')} #${report.first_broken_id ?? '?'}`;
  return (
    <Alert
      data-testid="chain-report"
      type={report.intact ? 'success' : 'error'}
      showIcon
      message={message}
      description={`${t('adm.audit.entries')}: ${report.entries} · ${t('adm.audit.head')}: ${report.head_id ?? '—'}`}
      style={{ marginBottom: 16 }}
    />
  );
}

function Change({ entry }: { entry: Entry }) {
  const { t } = useI18n();
  return (
    <Descriptions column={1} size="small" bordered>
      <Descriptions.Item label={t('adm.audit.before')}>
        <pre style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{JSON.stringify(entry.before, null, 2)}</pre>
      </Descriptions.Item>
      <Descriptions.Item label={t('adm.audit.after')}>
        <pre style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{JSON.stringify(entry.after, null, 2)}</pre>
      </Descriptions.Item>
      <Descriptions.Item label="request_id">{entry.request_id ?? '—'}</Descriptions.Item>
      <Descriptions.Item label="hash">{entry.hash}</Descriptions.Item>
    </Descriptions>
  );
}

export function Audit() {
  const { t } = useI18n();
  const [filters, setFilters] = useState<{ target_type?: string; action?: string; target_id?: string }>({});
  const list = usePaged<Entry>(['audit', filters], async (cursor) =>
    ok(await api.GET('/api/v1/audit', { params: { query: { ...filters, cursor, limit: 50 } } })),
  );
  const verify = useMutation({ mutationFn: async () => ok(await api.GET('/api/v1/audit/verify')) });
  const search = (key: keyof typeof filters) => (value: string) => setFilters((f) => ({ ...f, [key]: value || undefined }));
  return (
    <Card
      title={t('menu.audit')}
      extra={
        <Button type="primary" onClick={() => verify.mutate()} loading={verify.isPending} data-testid="verify-chain">
          {t('adm.audit.verify')}
        </Button>
      }
    >
      {verify.data && <ChainReport report={verify.data} />}
      {verify.isError && <Alert type="error" showIcon role="alert" message={verify.error.message} style={{ marginBottom: 16 }} />}
      <Filters>
        <Input.Search placeholder={t('adm.audit.action')} allowClear onSearch={search('action')} style={{ width: 200 }} />
        <Input.Search placeholder={t('adm.audit.targetType')} allowClear onSearch={search('target_type')} style={{ width: 200 }} />
        <Input.Search placeholder={t('adm.audit.target')} allowClear onSearch={search('target_id')} style={{ width: 300 }} />
      </Filters>
      <PagedTable<Entry>
        list={list}
        rowKey="id"
        testId="audit-list"
        expandable={(entry) => <Change entry={entry} />}
        columns={[
          { title: '#', dataIndex: 'id' },
          { title: t('adm.audit.at'), dataIndex: 'at', render: when },
          { title: t('adm.audit.actor'), dataIndex: 'actor_name' },
          { title: t('adm.audit.action'), dataIndex: 'action' },
          { title: t('adm.audit.targetType'), dataIndex: 'target_type' },
          { title: t('adm.audit.target'), dataIndex: 'target_id' },
          { title: t('field.reason'), dataIndex: 'reason' },
        ]}
      />
    </Card>
  );
}
