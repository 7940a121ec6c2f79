import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Form, Input, Modal, Space, Switch, Table, Tag } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../api/client';
import { useAuth } from '../auth/auth';
import { QueryState } from '../components/QueryState';
import { showServerErrors } from '../components/forms';
import { useI18n } from '../i18n/I18n';

interface Values {
  title: string;
  body: string;
  sms?: boolean;
}

/** The caller's unit issues a notice to everyone below it (R-NOTE-1). */
function Issue({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const { me } = useAuth();
  const [form] = Form.useForm<Values>();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const send = useMutation({
    mutationFn: async (values: Values) =>
      ok(
        await api.POST('/api/v1/notices', {
          body: { unit_id: me?.unit?.id ?? '', title: values.title, body: values.body, sms: !!values.sms },
          headers: idempotent(),
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['notices'] });
      onClose();
    },
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  return (
    <Modal open title={t('notice.issue')} onOk={() => form.submit()} onCancel={onClose} confirmLoading={send.isPending}
      okText={t('common.submit')} cancelText={t('common.cancel')}>
      {banner && <Alert type="error" showIcon message={banner} style={{ marginBottom: 12 }} role="alert" />}
      <Form form={form} layout="vertical" onFinish={(values) => { setBanner(null); send.mutate(values); }}>
        <Form.Item name="title" label={t('event.title')} rules={[{ required: true }]}>
          <Input />
        </Form.Item>
        <Form.Item name="body" label={t('notice.body')} rules={[{ required: true }]}>
          <Input.TextArea rows={4} />
        </Form.Item>
        <Form.Item name="sms" label={t('notice.sms')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function Notices() {
  const { t } = useI18n();
  const { me } = useAuth();
  const [issuing, setIssuing] = useState(false);
  const list = useQuery({
    queryKey: ['notices'],
    queryFn: async () => ok(await api.GET('/api/v1/notices', { params: { query: { limit: 100 } } })),
  });
  return (
    <Card
      title={t('menu.notices')}
      extra={
        me?.unit && (
          <Button type="primary" onClick={() => setIssuing(true)} data-testid="issue-notice">
            {t('notice.issue')}
          </Button>
        )
      }
    >
      <QueryState query={list} isEmpty={(page) => page.items.length === 0}>
        {(page) => (
          <Table
            rowKey="id"
            pagination={false}
            dataSource={page.items}
            data-testid="notice-list"
            expandable={{ expandedRowRender: (notice) => notice.body }}
            columns={[
              { title: t('event.title'), dataIndex: 'title' },
              { title: t('notice.audience'), dataIndex: 'audience', render: (v: string) => <Tag>{v === 'subtree' ? t('notice.subtree') : t('notice.persons')}</Tag> },
              { title: t('notice.recipients'), dataIndex: 'recipients' },
              { title: t('notice.sms'), render: (_, n) => <Space>{n.sms ? `${n.texted}` : '—'}</Space> },
              { title: t('notice.at'), dataIndex: 'created_at', render: (v: string) => v.slice(0, 16).replace('T', ' ') },
            ]}
          />
        )}
      </QueryState>
      {issuing && <Issue onClose={() => setIssuing(false)} />}
    </Card>
  );
}
