import { useQuery } from '@tanstack/react-query';
import { Button, Card, Form, Input, Select, Switch, Tag } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { Allowed, useAuth } from '../../auth/auth';
import { DepartmentPicker, UnitPicker } from '../../components/Pickers';
import { useI18n } from '../../i18n/I18n';
import { AddButton, DetailDrawer, Filters, FormDialog, PagedTable, UnitFilter, UnitName, filled, ifMatch, usePaged } from './kit';

type User = components['schemas']['UserOut'];
type Create = components['schemas']['UserCreate'];
type Update = components['schemas']['UserUpdate'];

/** The role codes on offer: the catalogue for those who may read it, else the codes in use. */
function RolesPicker(props: { value?: string[]; onChange?: (value: string[]) => void; id?: string }) {
  const { can } = useAuth();
  const roles = useQuery({
    queryKey: ['roles'],
    queryFn: async () => ok(await api.GET('/api/v1/roles')),
    enabled: can('role:read'),
  });
  return (
    <Select {...props} mode={can('role:read') ? 'multiple' : 'tags'} optionFilterProp="label"
      options={(roles.data ?? []).map((r) => ({ value: r.code, label: `${r.name}（${r.code}）` }))} />
  );
}

/** The fields a user is created with and later changed: name, phone, roles. */
function PersonFields() {
  const { t } = useI18n();
  return (
    <>
      <Form.Item name="full_name" label={t('profile.fullName')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="phone" label={t('people.phone')}>
        <Input />
      </Form.Item>
      <Form.Item name="roles" label={t('profile.roles')}>
        <RolesPicker />
      </Form.Item>
    </>
  );
}

function CreateUser({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<Create>
      title={t('adm.user.add')}
      invalidate={[['users']]}
      onClose={onClose}
      send={async (values) =>
        ok(await api.POST('/api/v1/users', { body: filled(values) as Create, headers: idempotent() }))
      }
    >
      <Form.Item name="username" label={t('login.username')} rules={[{ required: true }]}>
        <Input autoComplete="off" />
      </Form.Item>
      <Form.Item name="password" label={t('login.password')} rules={[{ required: true }]}>
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <PersonFields />
      <Form.Item name="unit_id" label={t('profile.unit')}>
        <UnitPicker />
      </Form.Item>
      <Form.Item name="department_id" label={t('profile.department')}>
        <DepartmentPicker />
      </Form.Item>
    </FormDialog>
  );
}

function EditUser({ user, onClose }: { user: User; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<Update>
      title={`${t('adm.edit')} ${user.username}`}
      invalidate={[['users']]}
      onClose={onClose}
      initialValues={{ full_name: user.full_name, phone: user.phone, is_active: user.is_active, roles: user.roles }}
      send={async (values) =>
        ok(
          await api.PATCH('/api/v1/users/{user_id}', {
            params: { path: { user_id: user.id } },
            body: filled(values) as Update,
            headers: ifMatch(user.version),
          }),
        )
      }
    >
      <PersonFields />
      <Form.Item name="is_active" label={t('adm.active')} valuePropName="checked">
        <Switch />
      </Form.Item>
      <Form.Item name="password" label={t('adm.user.newPassword')}>
        <Input.Password autoComplete="new-password" />
      </Form.Item>
    </FormDialog>
  );
}

export function Users() {
  const { t } = useI18n();
  const [unitId, setUnitId] = useState<string | undefined>();
  const [q, setQ] = useState('');
  const [shown, setShown] = useState<User | null>(null);
  const [dialog, setDialog] = useState<'create' | 'edit' | null>(null);
  const list = usePaged<User>(['users', unitId, q], async (cursor) =>
    ok(await api.GET('/api/v1/users', { params: { query: { unit_id: unitId, q: q || undefined, cursor, limit: 50 } } })),
  );
  return (
    <Card
      title={t('menu.adm.users')}
      extra={<AddButton permission="user:write" label="adm.user.add" testId="add-user" onClick={() => setDialog('create')} />}
    >
      <Filters>
        <UnitFilter value={unitId} onChange={setUnitId} />
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 240 }} data-testid="user-search" />
      </Filters>
      <PagedTable<User>
        list={list}
        rowKey="id"
        testId="user-list"
        onOpen={setShown}
        columns={[
          { title: t('login.username'), dataIndex: 'username' },
          { title: t('profile.fullName'), dataIndex: 'full_name' },
          { title: t('people.phone'), dataIndex: 'phone' },
          { title: t('profile.unit'), dataIndex: 'unit_id', render: (id: string | null) => <UnitName id={id} /> },
          { title: t('profile.roles'), dataIndex: 'roles', render: (roles: string[]) => roles.map((r) => <Tag key={r}>{r}</Tag>) },
          { title: t('adm.active'), dataIndex: 'is_active', render: (v: boolean) => (v ? t('common.yes') : t('common.no')) },
        ]}
      />
      <DetailDrawer
        row={shown}
        title={shown?.full_name}
        onClose={() => setShown(null)}
        actions={
          <Allowed permission="user:write">
            <Button onClick={() => setDialog('edit')} data-testid="edit-user">
              {t('adm.edit')}
            </Button>
          </Allowed>
        }
      />
      {dialog === 'create' && <CreateUser onClose={() => setDialog(null)} />}
      {dialog === 'edit' && shown && (
        <EditUser user={shown} onClose={() => { setDialog(null); setShown(null); }} />
      )}
    </Card>
  );
}
