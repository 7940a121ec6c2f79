import { Card, Descriptions, Tag } from 'antd';

import { useAuth } from '../auth/auth';
import { useI18n } from '../i18n/I18n';

export function Profile() {
  const { me } = useAuth();
  const { t } = useI18n();
  if (!me) return null;
  return (
    <Card title={t('menu.profile')}>
      <Descriptions column={1} bordered>
        <Descriptions.Item label={t('profile.username')}>{me.username}</Descriptions.Item>
        <Descriptions.Item label={t('profile.fullName')}>{me.full_name}</Descriptions.Item>
        <Descriptions.Item label={t('profile.unit')}>{me.unit?.name ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('profile.department')}>{me.department?.name ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('profile.roles')}>
          {me.roles.map((role) => (
            <Tag key={role}>{role}</Tag>
          ))}
        </Descriptions.Item>
        <Descriptions.Item label={t('profile.permissions')}>
          {me.permissions.map((permission) => (
            <Tag key={permission} color="blue">
              {permission}
            </Tag>
          ))}
        </Descriptions.Item>
      </Descriptions>
    </Card>
  );
}
