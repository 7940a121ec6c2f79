import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Badge, Button, Card, Input, Select, Space, Switch, Table, Tabs, Tag } from 'antd';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';

import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { Allowed } from '../auth/auth';
import { useI18n } from '../i18n/I18n';
import type { MessageKey } from '../i18n/messages';
import { Light } from '../events/Light';
import { ReportEvent } from '../events/ReportEvent';
import { CATEGORIES, STATES, name } from '../events/vocab';

type Box = 'todo' | 'done' | 'sub_todo' | 'closed' | 'legacy' | 'typical' | 'dispatch';
type Category = components['schemas']['Category'];
const BOXES: Box[] = ['todo', 'done', 'sub_todo', 'dispatch', 'closed', 'legacy', 'typical'];

export function Workbench() {
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  const [box, setBox] = useState<Box>('todo');
  const [q, setQ] = useState('');
  const [category, setCategory] = useState<Category | undefined>();
  const [supervised, setSupervised] = useState(false);
  const [reporting, setReporting] = useState(false);
  const counts = useQuery({
    queryKey: ['events', 'counts'],
    queryFn: async () => ok(await api.GET('/api/v1/events/counts')),
    refetchInterval: 30_000,
  });
  const list = useInfiniteQuery({
    queryKey: ['events', 'list', box, q, category, supervised],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      ok(
        await api.GET('/api/v1/events', {
          params: {
            query: { box, q: q || undefined, category, supervised: supervised || undefined, cursor: pageParam, limit: 50 },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card
      title={t('menu.workbench')}
      extra={
        <Allowed permission="event:report">
          <Button type="primary" onClick={() => setReporting(true)} data-testid="report-event">
            {t('event.report')}
          </Button>
        </Allowed>
      }
    >
      <Tabs
        activeKey={box}
        onChange={(key) => setBox(key as Box)}
        items={BOXES.map((key) => ({
          key,
          label: (
            <span data-testid={`box-${key}`}>
              {t(`box.${key}` as MessageKey)} <Badge count={counts.data?.[key] ?? 0} showZero color="#8c8c8c" />
            </span>
          ),
        }))}
      />
      <Space style={{ marginBottom: 16 }} wrap>
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 240 }} />
        <Select
          allowClear
          placeholder={t('event.category')}
          style={{ width: 180 }}
          value={category}
          onChange={setCategory}
          options={Object.keys(CATEGORIES).map((code) => ({ value: code, label: name(CATEGORIES, code, lang) }))}
        />
        <Switch checked={supervised} onChange={setSupervised} /> {t('event.supervised')}
      </Space>
      <Table
        rowKey="id"
        size="middle"
        loading={list.isPending}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: list.isError ? `${t('state.error')}: ${list.error.message}` : t('state.empty') }}
        onRow={(row) => ({ onClick: () => navigate(`/events/${row.id}`), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('event.serviceNo'), dataIndex: 'service_no', render: (v: string, row) => <Link to={`/events/${row.id}`}>{v}</Link> },
          { title: t('event.title'), dataIndex: 'title' },
          { title: t('event.category'), dataIndex: 'category', render: (v: string) => name(CATEGORIES, v, lang) },
          { title: t('event.state'), dataIndex: 'state', render: (v: string) => <span data-testid="event-state">{name(STATES, v, lang)}</span> },
          { title: t('event.light'), dataIndex: 'light', render: (v: string | null) => <Light light={v} /> },
          {
            title: t('event.flags'),
            render: (_, row) => (
              <Space size={2}>
                {row.is_major && <Tag color="volcano">{t('event.major')}</Tag>}
                {row.is_urgent && <Tag color="orange">{t('event.urgent')}</Tag>}
                {row.expedited && <Tag color="red">{t('event.expedited')}</Tag>}
              </Space>
            ),
          },
          { title: t('event.occurredAt'), dataIndex: 'occurred_at', render: (v: string) => v.slice(0, 16).replace('T', ' ') },
        ]}
      />
      {list.hasNextPage && (
        <Button block onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 12 }}>
          {t('common.more')}
        </Button>
      )}
      <ReportEvent
        open={reporting}
        onClose={(id) => {
          setReporting(false);
          if (id) navigate(`/events/${id}`);
        }}
      />
    </Card>
  );
}
