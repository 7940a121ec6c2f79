import { BellOutlined, GlobalOutlined, LogoutOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Badge, Button, Layout, Menu, Space, Typography } from 'antd';
import { Link, Outlet, useLocation } from 'react-router-dom';

import { api, ok } from '../api/client';
import { useAuth } from '../auth/auth';
import { useI18n } from '../i18n/I18n';
import { visibleMenu } from './menu';

export function useUnread(enabled: boolean) {
  return useQuery({
    queryKey: ['notifications', 'unread'],
    queryFn: async () => ok(await api.GET('/api/v1/notifications', { params: { query: { unread: true, limit: 1 } } })),
    enabled,
    refetchInterval: 30_000,
  });
}

export function AppLayout() {
  const { me, signOut, can } = useAuth();
  const { t, lang, setLang } = useI18n();
  const location = useLocation();
  const unread = useUnread(can('notification:read'));
  const entries = visibleMenu(me);
  const selected = entries.find((entry) => location.pathname.startsWith(entry.path))?.path;
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={200}>
        <Typography.Title level={5} style={{ padding: '16px 16px 8px' }}>
          {t('app.title')}
        </Typography.Title>
        <Menu
          data-testid="main-menu"
          mode="inline"
          selectedKeys={selected ? [selected] : []}
          items={entries.map((entry) => ({ key: entry.path, label: <Link to={entry.path}>{t(entry.label)}</Link> }))}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', paddingInline: 24 }}>
          <Space size="middle">
            {can('notification:read') && (
              <Link to="/notifications" aria-label={t('menu.notifications')}>
                <Badge count={unread.data?.unread_count ?? 0} size="small">
                  <BellOutlined style={{ fontSize: 18 }} />
                </Badge>
              </Link>
            )}
            <Link to="/profile" data-testid="me-name">
              {me?.full_name}
            </Link>
            <Button icon={<GlobalOutlined />} onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
              {t('app.lang')}
            </Button>
            <Button icon={<LogoutOutlined />} onClick={signOut}>
              {t('app.signOut')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: 24 }}>
          <Outlet />
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
