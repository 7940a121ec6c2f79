import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Input, List, Row, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { PagedTable, usePaged } from '../../components/Paged';
import { GridPicker } from '../../components/Pickers';
import { useI18n } from '../../i18n/I18n';
import type { MessageKey } from '../../i18n/messages';
import { CompareRow, FixRow, type Claim } from './Resolve';
import { useTemplates } from './Wizard';

type PoolRow = components['schemas']['PoolRowOut'];
type Failed = Claim['failed'][number];

const REASONS: Partial<Record<Failed['reason'], MessageKey>> = { incomplete: 'imp.incomplete', duplicate: 'imp.duplicate' };

/** A later claim's outcome folded into the shown one: a row moves from failed to succeeded. */
export function fold(shown: Claim, next: Claim): Claim {
  const settled = new Set([...next.succeeded, ...next.failed].map((r) => r.row_id));
  return {
    grid_id: next.grid_id,
    succeeded: [...shown.succeeded.filter((s) => !settled.has(s.row_id)), ...next.succeeded],
    failed: [...shown.failed.filter((f) => !settled.has(f.row_id)), ...next.failed],
  };
}

function Outcome({ claim, names, onChange }: { claim: Claim; names: Map<string, string>; onChange: (claim: Claim) => void }) {
  const { t } = useI18n();
  const [fixing, setFixing] = useState<Failed | null>(null);
  const [comparing, setComparing] = useState<Failed | null>(null);
  const queryClient = useQueryClient();
  const settle = (next?: Claim) => {
    if (next) onChange(fold(claim, next));
    void queryClient.invalidateQueries({ queryKey: ['import-pool'] });
  };
  return (
    <Row gutter={16} style={{ marginBottom: 16 }}>
      <Col span={12}>
        <Card size="small" title={`${t('imp.succeeded')} (${claim.succeeded.length})`} data-testid="claim-succeeded">
          <List size="small" dataSource={claim.succeeded}
            renderItem={(s) => <List.Item>{names.get(s.row_id) ?? s.row_id}{s.with.length > 0 && <Tag style={{ marginLeft: 8 }}>+{s.with.length}</Tag>}</List.Item>} />
        </Card>
      </Col>
      <Col span={12}>
        <Card size="small" title={`${t('imp.failed')} (${claim.failed.length})`} data-testid="claim-failed">
          <List size="small" dataSource={claim.failed}
            renderItem={(f) => (
              <List.Item actions={[
                f.reason === 'incomplete' && <Button key="fix" size="small" onClick={() => setFixing(f)}>{t('imp.fix')}</Button>,
                f.reason === 'duplicate' && <Button key="cmp" size="small" onClick={() => setComparing(f)}>{t('imp.compare')}</Button>,
              ].filter(Boolean)}>
                <Space direction="vertical" size={0}>
                  <span>{names.get(f.row_id) ?? f.row_id} <Tag color="red">{REASONS[f.reason] ? t(REASONS[f.reason] as MessageKey) : f.reason}</Tag></span>
                  {(f.errors ?? []).map((e) => <Typography.Text key={e.field} type="danger">{e.header}</Typography.Text>)}
                </Space>
              </List.Item>
            )} />
        </Card>
      </Col>
      {fixing && <FixRow failed={fixing} gridId={claim.grid_id} onDone={(next) => { setFixing(null); settle(next); }} />}
      {comparing && (
        <CompareRow failed={comparing} gridId={claim.grid_id} onDone={(outcome) => {
          setComparing(null);
          if (outcome === 'merged')
            settle({ grid_id: claim.grid_id, succeeded: [{ row_id: comparing.row_id, record_id: comparing.existing?.record_id ?? '', with: [] }], failed: [] });
          if (outcome === 'skipped') {
            onChange({ ...claim, failed: claim.failed.filter((f) => f.row_id !== comparing.row_id) });
            settle();
          }
        }} />
      )}
    </Row>
  );
}

export function Pool({ importId, onImport }: { importId: string | undefined; onImport: (id: string | undefined) => void }) {
  const { t } = useI18n();
  const templates = useTemplates();
  const [registry, setRegistry] = useState<string | undefined>();
  const [q, setQ] = useState('');
  const [claimed, setClaimed] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [grid, setGrid] = useState<string | undefined>();
  const [claim, setClaim] = useState<Claim | null>(null);
  const [names] = useState(() => new Map<string, string>());
  const queryClient = useQueryClient();
  const paged = usePaged<PoolRow>(['import-pool', importId, registry, q, claimed], async (cursor) =>
    ok(await api.GET('/api/v1/import-pool', {
      params: { query: { import_id: importId, registry, q: q || undefined, claimed, cursor, limit: 50 } },
    })),
  );
  for (const row of paged.rows) names.set(row.id, `${row.name ?? '—'}（${row.row_no}）`);
  const run = useMutation({
    mutationFn: async () =>
      ok(await api.POST('/api/v1/import-pool/claims', { body: { grid_id: grid as string, row_ids: selected }, headers: idempotent() })),
    onSuccess: (result) => {
      setClaim(result);
      setSelected([]);
      void queryClient.invalidateQueries({ queryKey: ['import-pool'] });
    },
  });
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Select allowClear placeholder={t('imp.registry')} value={registry} onChange={setRegistry} style={{ width: 200 }}
          options={(templates.data ?? []).map((tpl) => ({ value: tpl.registry, label: tpl.label }))} />
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 200 }} />
        <Select value={claimed} onChange={setClaimed} style={{ width: 120 }}
          options={[{ value: false, label: t('imp.unclaimed') }, { value: true, label: t('imp.claimedOnly') }]} />
        {importId && <Tag closable onClose={() => onImport(undefined)}>{t('imp.history')}: {importId.slice(0, 8)}</Tag>}
        {paged.total !== undefined && <Typography.Text type="secondary">{paged.total}</Typography.Text>}
      </Space>
      {!claimed && (
        <Space style={{ marginBottom: 16 }} wrap>
          <span>{t('imp.grid')}</span>
          <div style={{ width: 260 }} data-testid="claim-grid"><GridPicker value={grid} onChange={setGrid} /></div>
          <Button type="primary" disabled={!grid || selected.length === 0} loading={run.isPending} onClick={() => run.mutate()} data-testid="claim">
            {t('imp.claim')} ({selected.length})
          </Button>
        </Space>
      )}
      {run.isError && <Alert type="error" showIcon message={run.error.message} role="alert" style={{ marginBottom: 12 }} />}
      {claim && <Outcome claim={claim} names={names} onChange={setClaim} />}
      <PagedTable<PoolRow>
        paged={paged}
        rowKey="id"
        data-testid="pool"
        rowSelection={claimed ? undefined : { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]) }}
        columns={[
          { title: t('imp.row'), dataIndex: 'row_no', width: 70 },
          { title: t('people.name'), dataIndex: 'name' },
          { title: t('people.idNumber'), dataIndex: 'id_number' },
          { title: t('people.grid'), dataIndex: 'grid_code', render: (v: string | null) => v ?? '—' },
          { title: t('imp.registry'), dataIndex: 'registry', render: (r: string) => templates.data?.find((tpl) => tpl.registry === r)?.label ?? r },
          { title: t('imp.claimed'), dataIndex: 'claimed', render: (v: string | null) => (v ? <Tag>{v}</Tag> : '—') },
        ]}
      />
    </>
  );
}
