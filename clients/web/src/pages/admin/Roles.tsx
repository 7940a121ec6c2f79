import { useQuery } from '@tanstack/react-query';
import { Card, Input, Select, Table, Tag } from 'antd';
import { useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { QueryState } from '../../components/QueryState';
import { useI18n } from '../../i18n/I18n';
import { Filters } from './kit';

type Role = components['schemas']['RoleOut'];

/** The roles and the permissions each grants (R-ORG-3); a row opens to its permissions. */
export function Roles() {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [permission, setPermission] = useState<string | undefined>();
  const roles = useQuery({ queryKey: ['roles'], queryFn: async () => ok(await api.GET('/api/v1/roles')) });
  const all = [...new Set((roles.data ?? []).flatMap((r) => r.permissions))].sort();
  const matches = (role: Role) =>
    (!q || role.code.includes(q) || role.name.includes(q)) && (!permission || role.permissions.includes(permission));
  return (
    <Card title={t('menu.adm.roles')}>
      <Filters>
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 240 }} />
        <Select value={permission} onChange={setPermission} allowClear showSearch style={{ width: 240 }}
          placeholder={t('profile.permissions')} options={all.map((p) => ({ value: p, label: p }))} />
      </Filters>
      <QueryState query={roles} isEmpty={(data) => data.length === 0}>
        {(data) => (
          <Table<Role>
            rowKey="code"
            pagination={false}
            data-testid="role-list"
            dataSource={data.filter(matches)}
            expandable={{ expandedRowRender: (role) => role.permissions.map((p) => <Tag key={p}>{p}</Tag>) }}
            columns={[
              { title: t('adm.code'), dataIndex: 'code' },
              { title: t('adm.name'), dataIndex: 'name' },
              { title: t('profile.permissions'), dataIndex: 'permissions', render: (p: string[]) => p.length },
            ]}
          />
        )}
      </QueryState>
    </Card>
  );
}
