import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, List, Space, Switch, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { api, idempotent, ok } from '../api/client';
import { QueryState } from '../components/QueryState';
import { useI18n } from '../i18n/I18n';

export function Notifications() {
  const { t } = useI18n();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['notifications', 'list', unreadOnly],
    queryFn: async () =>
      ok(await api.GET('/api/v1/notifications', { params: { query: { unread: unreadOnly || undefined, limit: 100 } } })),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['notifications'] });
  const readAll = useMutation({
    mutationFn: async () =>
      ok(await api.POST('/api/v1/notifications/read-all', { headers: idempotent() })),
    onSuccess: refresh,
  });
  const readOne = useMutation({
    mutationFn: async (id: string) =>
      ok(await api.POST('/api/v1/notifications/{notification_id}/read', { params: { path: { notification_id: id } }, headers: idempotent() })),
    onSuccess: refresh,
  });
  return (
    <Card
      title={t('menu.notifications')}
      extra={
        <Space>
          <Switch checked={unreadOnly} onChange={setUnreadOnly} /> {t('notifications.unreadOnly')}
          <Button onClick={() => readAll.mutate()} loading={readAll.isPending}>
            {t('notifications.readAll')}
          </Button>
        </Space>
      }
    >
      <QueryState query={query} isEmpty={(page) => page.items.length === 0}>
        {(page) => (
          <List
            dataSource={page.items}
            renderItem={(item) => (
              <List.Item
                actions={
                  item.read_at ? [] : [<a key="read" onClick={() => readOne.mutate(item.id)}>{t('notifications.read')}</a>]
                }
              >
                <List.Item.Meta
                  title={
                    <Space>
                      {!item.read_at && <Tag color="red">●</Tag>}
                      {item.target_type === 'event' && item.target_id ? (
                        <Link to={`/events/${item.target_id}`}>{item.title}</Link>
                      ) : (
                        item.title
                      )}
                    </Space>
                  }
                  description={
                    <>
                      <Typography.Text>{item.body}</Typography.Text>
                      <br />
                      <Typography.Text type="secondary">{item.created_at}</Typography.Text>
                    </>
                  }
                />
              </List.Item>
            )}
          />
        )}
      </QueryState>
    </Card>
  );
}
