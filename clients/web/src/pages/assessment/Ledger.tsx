import { Button, Input, Space, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { PagedTable, usePaged } from '../../components/Paged';
import { TargetPicker } from '../../components/Pickers';
import { useI18n } from '../../i18n/I18n';
import type { MessageKey } from '../../i18n/messages';
import { useNames } from './units';

// `finding_id` (a spot-check finding) comes with the findings API; optional until then.
type Line = components['schemas']['LedgerLineOut'] & { finding_id?: string | null };

/** What caused a line, most specific first: a supervision card or an appeal belongs to an event. */
export function causeOf(line: Line): { label: MessageKey; to: string | null } | null {
  if (line.review_id) return { label: 'asm.causeReview', to: `/assessment?tab=reviews&review=${line.review_id}` };
  if (line.event_id) {
    const label: MessageKey = line.supervision_id ? 'asm.causeCard' : line.appeal_id ? 'asm.causeAppeal' : 'asm.causeEvent';
    return { label, to: `/events/${line.event_id}` };
  }
  if (line.finding_id) return { label: 'asm.causeFinding', to: null };
  if (line.reverses_id) return { label: 'asm.causeReversal', to: null };
  return null;
}

function Cause({ line }: { line: Line }) {
  const { t } = useI18n();
  const cause = causeOf(line);
  if (!cause) return <>—</>;
  return cause.to ? <Link to={cause.to} data-testid="ledger-cause">{t(cause.label)}</Link> : <>{t(cause.label)}</>;
}

export function Ledger() {
  const { t } = useI18n();
  const { names } = useNames();
  const [period, setPeriod] = useState('');
  const [target, setTarget] = useState<string | undefined>();
  const [q, setQ] = useState('');
  const [kindOf, id] = target?.split(':') ?? [];
  const paged = usePaged<Line>(['ledger', period, target, q], async (cursor) =>
    ok(await api.GET('/api/v1/assessment/ledger', {
      params: {
        query: {
          period: period || undefined,
          unit_id: kindOf === 'unit' ? id : undefined,
          department_id: kindOf === 'department' ? id : undefined,
          q: q || undefined,
          cursor,
          limit: 50,
        },
      },
    })),
  );
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Input.Search placeholder={`${t('asm.period')} 2026-05`} allowClear onSearch={setPeriod} style={{ width: 180 }} />
        <div style={{ width: 260 }}><TargetPicker value={target} onChange={setTarget} placeholder={t('asm.unit')} /></div>
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 220 }} />
        {paged.total !== undefined && <Typography.Text type="secondary">{paged.total}</Typography.Text>}
        {target && <Button type="link" onClick={() => setTarget(undefined)}>{t('common.all')}</Button>}
      </Space>
      <PagedTable<Line>
        paged={paged}
        rowKey="id"
        data-testid="ledger"
        columns={[
          { title: t('asm.period'), dataIndex: 'period', width: 100 },
          { title: t('asm.unit'), render: (_, line) => names.get(line.unit_id ?? line.department_id ?? '') ?? '—' },
          { title: t('asm.code'), dataIndex: 'item_code' },
          { title: t('asm.points'), dataIndex: 'points', render: (p: number) => <Typography.Text type={p < 0 ? 'danger' : 'success'}>{p > 0 ? `+${p}` : p}</Typography.Text> },
          { title: t('asm.reason'), dataIndex: 'reason' },
          { title: t('asm.cause'), render: (_, line) => <Cause line={line} /> },
          { title: t('asm.at'), dataIndex: 'created_at', render: (at: string) => new Date(at).toLocaleString() },
        ]}
      />
    </>
  );
}
