import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Drawer, Form, Input, Modal, Select, Space, Table, Tabs, Tag } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../api/client';
import type { components } from '../api/schema';
import { Allowed } from '../auth/auth';
import { GridPicker } from '../components/Pickers';
import { showServerErrors } from '../components/forms';
import { RecordFields } from '../components/RecordFields';
import { useI18n } from '../i18n/I18n';

type Person = components['schemas']['PersonOut'];
type Kind = components['schemas']['PersonCreate']['kind'];
const KINDS: { kind: Kind; zh: string; en: string }[] = [
  { kind: 'registered', zh: '户籍人口', en: 'Registered' },
  { kind: 'floating', zh: '流动人口', en: 'Floating' },
  { kind: 'unsettled', zh: '未落户人口', en: 'Unsettled' },
  { kind: 'overseas', zh: '境外人员', en: 'Overseas' },
];

function Register({ kind, onClose }: { kind: Kind; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: async (values: Record<string, string>) =>
      ok(
        await api.POST('/api/v1/people', {
          body: { ...values, kind } as components['schemas']['PersonCreate'],
          headers: idempotent(),
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['people'] });
      onClose();
    },
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  return (
    <Modal open title={t('people.add')} onOk={() => form.submit()} onCancel={onClose} confirmLoading={create.isPending}
      okText={t('common.submit')} cancelText={t('common.cancel')}>
      {banner && <Alert type="error" showIcon message={banner} style={{ marginBottom: 12 }} role="alert" />}
      <Form form={form} layout="vertical" onFinish={(values) => { setBanner(null); create.mutate(values as Record<string, string>); }}>
        <Form.Item name="grid_id" label={t('people.grid')} rules={[{ required: true }]}>
          <GridPicker />
        </Form.Item>
        <Form.Item name="name" label={t('people.name')} rules={[{ required: true }]}>
          <Input />
        </Form.Item>
        <Form.Item name="id_number" label={t('people.idNumber')}>
          <Input />
        </Form.Item>
        <Form.Item name="phone" label={t('people.phone')}>
          <Input />
        </Form.Item>
        <Form.Item name="no_house_reason" label={t('people.noHouseReason')}>
          <Input />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function People() {
  const { t, lang } = useI18n();
  const [kind, setKind] = useState<Kind>('registered');
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<'active' | 'deregistered' | undefined>('active');
  const [shown, setShown] = useState<Person | null>(null);
  const [adding, setAdding] = useState(false);
  const list = useInfiniteQuery({
    queryKey: ['people', kind, q, status],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      ok(await api.GET('/api/v1/people', { params: { query: { kind, q: q || undefined, status, cursor: pageParam, limit: 50 } } })),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card
      title={t('menu.people')}
      extra={
        <Allowed permission="population:write">
          <Button type="primary" onClick={() => setAdding(true)} data-testid="add-person">
            {t('people.add')}
          </Button>
        </Allowed>
      }
    >
      <Tabs activeKey={kind} onChange={(key) => setKind(key as Kind)}
        items={KINDS.map((k) => ({ key: k.kind, label: lang === 'en' ? k.en : k.zh }))} />
      <Space style={{ marginBottom: 16 }}>
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 240 }} />
        <Select value={status} onChange={setStatus} allowClear style={{ width: 160 }} placeholder={t('people.status')}
          options={[{ value: 'active', label: 'active' }, { value: 'deregistered', label: 'deregistered' }]} />
      </Space>
      <Table
        rowKey="id"
        size="middle"
        loading={list.isPending}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: list.isError ? `${t('state.error')}: ${list.error.message}` : t('state.empty') }}
        onRow={(row) => ({ onClick: () => setShown(row), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('people.name'), dataIndex: 'name' },
          { title: t('people.idNumber'), dataIndex: 'id_number' },
          { title: t('people.phone'), dataIndex: 'phone' },
          { title: t('people.status'), dataIndex: 'status', render: (v: string) => <Tag>{v}</Tag> },
        ]}
      />
      {list.hasNextPage && (
        <Button block onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 12 }}>
          {t('common.more')}
        </Button>
      )}
      <Drawer open={!!shown} onClose={() => setShown(null)} width={520} title={shown?.name}>
        {shown && (
          <RecordFields record={shown} />
        )}
      </Drawer>
      {adding && <Register kind={kind} onClose={() => setAdding(false)} />}
    </Card>
  );
}
