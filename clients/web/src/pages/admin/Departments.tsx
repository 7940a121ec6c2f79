import { Button, Card, Form, Input } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { Allowed } from '../../auth/auth';
import { UnitPicker } from '../../components/Pickers';
import { useI18n } from '../../i18n/I18n';
import { AddButton, DetailDrawer, Filters, FormDialog, PagedTable, UnitFilter, UnitName, ifMatch, usePaged } from './kit';

type Department = components['schemas']['DepartmentOut'];
type Create = components['schemas']['DepartmentCreate'];

function CreateDepartment({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<Create>
      title={t('adm.dept.add')}
      invalidate={[['departments']]}
      onClose={onClose}
      send={async (body) => ok(await api.POST('/api/v1/departments', { body, headers: idempotent() }))}
    >
      <Form.Item name="unit_id" label={t('profile.unit')} rules={[{ required: true }]}>
        <UnitPicker />
      </Form.Item>
      <Form.Item name="code" label={t('adm.code')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="name" label={t('adm.name')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
    </FormDialog>
  );
}

function RenameDepartment({ department, onClose }: { department: Department; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<{ name: string }>
      title={`${t('adm.edit')} ${department.name}`}
      invalidate={[['departments']]}
      onClose={onClose}
      initialValues={{ name: department.name }}
      send={async (body) =>
        ok(
          await api.PATCH('/api/v1/departments/{department_id}', {
            params: { path: { department_id: department.id } },
            body,
            headers: ifMatch(department.version),
          }),
        )
      }
    >
      <Form.Item name="name" label={t('adm.name')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
    </FormDialog>
  );
}

/** Deleting is refused (409) while active users belong to the department; the reason is audited. */
function DeleteDepartment({ department, onClose }: { department: Department; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<{ reason?: string }>
      title={`${t('adm.delete')} ${department.name}`}
      invalidate={[['departments']]}
      onClose={onClose}
      send={async ({ reason }) =>
        ok(
          await api.DELETE('/api/v1/departments/{department_id}', {
            params: { path: { department_id: department.id }, query: { reason: reason || undefined } },
            headers: ifMatch(department.version),
          }),
        )
      }
    >
      <Form.Item name="reason" label={t('field.reason')}>
        <Input.TextArea rows={2} />
      </Form.Item>
    </FormDialog>
  );
}

export function Departments() {
  const { t } = useI18n();
  const [unitId, setUnitId] = useState<string | undefined>();
  const [shown, setShown] = useState<Department | null>(null);
  const [dialog, setDialog] = useState<'create' | 'rename' | 'delete' | null>(null);
  const list = usePaged<Department>(['departments', unitId], async (cursor) =>
    ok(await api.GET('/api/v1/departments', { params: { query: { unit_id: unitId, cursor, limit: 50 } } })),
  );
  const close = () => {
    setDialog(null);
    setShown(null);
  };
  return (
    <Card
      title={t('menu.adm.departments')}
      extra={<AddButton permission="department:write" label="adm.dept.add" testId="add-department" onClick={() => setDialog('create')} />}
    >
      <Filters>
        <UnitFilter value={unitId} onChange={setUnitId} />
      </Filters>
      <PagedTable<Department>
        list={list}
        rowKey="id"
        testId="department-list"
        onOpen={setShown}
        columns={[
          { title: t('adm.code'), dataIndex: 'code' },
          { title: t('adm.name'), dataIndex: 'name' },
          { title: t('profile.unit'), dataIndex: 'unit_id', render: (id: string) => <UnitName id={id} /> },
        ]}
      />
      <DetailDrawer
        row={shown}
        title={shown?.name}
        onClose={() => setShown(null)}
        actions={
          <Allowed permission="department:write">
            <Button onClick={() => setDialog('rename')}>{t('adm.edit')}</Button>
            <Button danger onClick={() => setDialog('delete')}>
              {t('adm.delete')}
            </Button>
          </Allowed>
        }
      />
      {dialog === 'create' && <CreateDepartment onClose={() => setDialog(null)} />}
      {dialog === 'rename' && shown && <RenameDepartment department={shown} onClose={close} />}
      {dialog === 'delete' && shown && <DeleteDepartment department={shown} onClose={close} />}
    </Card>
  );
}
