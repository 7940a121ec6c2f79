import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Card, Drawer, Input, Select, Space, Table, Tabs, Tag } from 'antd';
import { useState } from 'react';

import { ApiError, authFetch, type Problem } from '../api/client';
import { useAuth } from '../auth/auth';
import { RecordFields } from '../components/RecordFields';
import { useI18n } from '../i18n/I18n';
import type { MessageKey } from '../i18n/messages';

type Row = Record<string, unknown>;

interface Registry {
  key: string;
  path: string;
  permission: string;
  label: MessageKey;
  // The columns the list shows, as [field, Chinese, English]; the drawer shows every field.
  columns: [string, string, string][];
}

// The registries' lists share one shape (API.md lists), so one page serves them all; the
// values are shown as the server returns them, masked by the caller's permissions.
export const REGISTRIES: Registry[] = [
  { key: 'households', path: '/api/v1/households', permission: 'population:read', label: 'reg.households',
    columns: [['household_no', '户号', 'Household no.'], ['head_name', '户主', 'Head'], ['address', '地址', 'Address'], ['member_count', '人数', 'Members']] },
  { key: 'tags', path: '/api/v1/tags', permission: 'tag:read', label: 'subject.tags',
    columns: [['name', '姓名', 'Name'], ['id_number', '身份证号', 'ID number'], ['kind_label', '类别', 'Kind']] },
  { key: 'houses', path: '/api/v1/houses', permission: 'house:read', label: 'subject.houses',
    columns: [['house_no', '房屋编号', 'House no.'], ['address', '地址', 'Address'], ['owner_name', '房主', 'Owner'], ['owner_phone', '电话', 'Phone']] },
  { key: 'rentals', path: '/api/v1/rentals', permission: 'house:read', label: 'subject.rentals',
    columns: [['house_no', '房屋编号', 'House no.'], ['address', '地址', 'Address'], ['landlord_name', '房东', 'Landlord'], ['hazard_level', '隐患等级', 'Hazard']] },
  { key: 'places', path: '/api/v1/places', permission: 'place:read', label: 'subject.places',
    columns: [['name', '名称', 'Name'], ['address', '地址', 'Address'], ['principal', '负责人', 'Principal'], ['highest_level', '关注等级', 'Level']] },
  { key: 'organisations', path: '/api/v1/organisations', permission: 'place:read', label: 'subject.organisations',
    columns: [['name', '名称', 'Name'], ['category', '类别', 'Category'], ['industry', '行业', 'Industry'], ['legal_representative', '法人', 'Representative']] },
  { key: 'teams', path: '/api/v1/teams', permission: 'team:read', label: 'subject.teams',
    columns: [['name', '名称', 'Name'], ['category', '类别', 'Category'], ['leader', '负责人', 'Leader'], ['phone', '电话', 'Phone']] },
  { key: 'components', path: '/api/v1/components', permission: 'place:read', label: 'subject.components',
    columns: [['code', '编码', 'Code'], ['name', '名称', 'Name'], ['kind', '类型', 'Kind'], ['condition', '状况', 'Condition']] },
];

async function page(path: string, query: Record<string, string | undefined>): Promise<{ items: Row[]; next_cursor: string | null; total: number }> {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => !!entry[1]));
  const response = await authFetch(`${path}?${params}`);
  const body: unknown = await response.json();
  if (!response.ok) throw new ApiError({ ...(body as Problem), status: response.status });
  return body as { items: Row[]; next_cursor: string | null; total: number };
}

function RegistryList({ registry }: { registry: Registry }) {
  const { t, lang } = useI18n();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<string | undefined>();
  const [shown, setShown] = useState<Row | null>(null);
  const list = useInfiniteQuery({
    queryKey: ['registry', registry.key, q, status],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => page(registry.path, { q: q || undefined, status, cursor: pageParam, limit: '50' }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <Space style={{ marginBottom: 16 }}>
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 240 }} />
        <Select value={status} onChange={setStatus} allowClear style={{ width: 180 }} placeholder={t('people.status')}
          options={['active', 'deregistered', 'followed', 'unfollowed'].map((v) => ({ value: v, label: v }))} />
        <span>{list.data ? `${list.data.pages[0]?.total ?? 0}` : ''}</span>
      </Space>
      <Table
        rowKey={(row) => String(row.id)}
        size="middle"
        loading={list.isPending}
        dataSource={rows}
        pagination={false}
        data-testid={`registry-${registry.key}`}
        locale={{ emptyText: list.isError ? `${t('state.error')}: ${list.error.message}` : t('state.empty') }}
        onRow={(row) => ({ onClick: () => setShown(row), style: { cursor: 'pointer' } })}
        columns={[
          ...registry.columns.map(([field, zh, en]) => ({
            title: lang === 'en' ? en : zh,
            dataIndex: field,
            render: (value: unknown) => (value === null || value === undefined ? '—' : String(value)),
          })),
          { title: t('people.status'), dataIndex: 'status', render: (value: unknown) => <Tag>{String(value)}</Tag> },
        ]}
      />
      {list.hasNextPage && (
        <Button block onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 12 }}>
          {t('common.more')}
        </Button>
      )}
      <Drawer open={!!shown} onClose={() => setShown(null)} width={560} title={t('common.detail')}>
        {shown && (
          <RecordFields record={shown} />
        )}
      </Drawer>
    </>
  );
}

export function Registries() {
  const { t } = useI18n();
  const { can } = useAuth();
  const allowed = REGISTRIES.filter((registry) => can(registry.permission));
  const [active, setActive] = useState(allowed[0]?.key);
  const current = allowed.find((registry) => registry.key === active) ?? allowed[0];
  return (
    <Card title={t('menu.registries')}>
      <Tabs activeKey={current?.key} onChange={setActive} items={allowed.map((r) => ({ key: r.key, label: t(r.label) }))} />
      {current && <RegistryList key={current.key} registry={current} />}
    </Card>
  );
}
