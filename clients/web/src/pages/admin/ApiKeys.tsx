import { Alert, Button, Card, DatePicker, Form, Input, InputNumber, Modal, Select, Tag, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { useAuth } from '../../auth/auth';
import { UnitPicker } from '../../components/Pickers';
import { useI18n } from '../../i18n/I18n';
import { AddButton, DetailDrawer, Filters, FormDialog, PagedTable, UnitFilter, UnitName, filled, ifMatch, usePaged, when } from './kit';

type Key = components['schemas']['ApiKeyOut'];
type Secret = components['schemas']['ApiKeyWithSecret'];
type Create = components['schemas']['ApiKeyCreate'];
type State = components['schemas']['KeyState'];
const STATE_COLOURS: Record<State, string> = { active: 'green', expired: 'default', revoked: 'red' };

/** The raw key, shown once: the server keeps only its digest. */
function ShowSecret({ issued, onClose }: { issued: Secret; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Modal open title={`${issued.agency} · ${issued.prefix ?? ''}`} onOk={onClose} onCancel={onClose} cancelButtonProps={{ style: { display: 'none' } }}>
      <Alert type="warning" showIcon message={t('adm.key.once')} style={{ marginBottom: 12 }} />
      <Typography.Paragraph copyable code data-testid="key-secret">
        {issued.secret}
      </Typography.Paragraph>
    </Modal>
  );
}

function IssueKey({ onClose, onIssued }: { onClose: () => void; onIssued: (key: Secret) => void }) {
  const { t } = useI18n();
  const { me } = useAuth();
  return (
    <FormDialog<Omit<Create, 'expires_at'> & { expires_at: Dayjs }, Secret>
      title={t('adm.key.issue')}
      invalidate={[['api-keys']]}
      onClose={onClose}
      onDone={onIssued}
      initialValues={{ rate_limit_per_minute: 60, expires_at: dayjs().add(1, 'year'), unit_id: me?.unit?.id }}
      send={async ({ expires_at, ...rest }) =>
        ok(
          await api.POST('/api/v1/api-keys', {
            body: { ...(filled(rest) as Omit<Create, 'expires_at'>), expires_at: expires_at.toISOString() },
            headers: idempotent(),
          }),
        )
      }
    >
      <Form.Item name="unit_id" label={t('profile.unit')} rules={[{ required: true }]}>
        <UnitPicker />
      </Form.Item>
      <Form.Item name="agency" label={t('adm.key.agency')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="operations" label={t('adm.key.operations')} rules={[{ required: true }]}>
        <Select mode="multiple" showSearch options={(me?.permissions ?? []).map((p) => ({ value: p, label: p }))} />
      </Form.Item>
      <Form.Item name="expires_at" label={t('adm.key.expires')} rules={[{ required: true }]}>
        <DatePicker showTime />
      </Form.Item>
      <Form.Item name="rate_limit_per_minute" label={t('adm.key.rate')}>
        <InputNumber min={1} max={6000} />
      </Form.Item>
      <Form.Item name="note" label={t('field.note')}>
        <Input.TextArea rows={2} />
      </Form.Item>
    </FormDialog>
  );
}

function RotateKey({ apiKey, onClose, onIssued }: { apiKey: Key; onClose: () => void; onIssued: (key: Secret) => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<{ overlap_minutes: number }, Secret>
      title={`${t('adm.key.rotate')} ${apiKey.agency}`}
      invalidate={[['api-keys']]}
      onClose={onClose}
      onDone={onIssued}
      initialValues={{ overlap_minutes: 1440 }}
      send={async (body) =>
        ok(
          await api.POST('/api/v1/api-keys/{key_id}/rotate', {
            params: { path: { key_id: apiKey.id } },
            body,
            headers: idempotent(ifMatch(apiKey.version)),
          }),
        )
      }
    >
      <Form.Item name="overlap_minutes" label={t('adm.key.overlap')}>
        <InputNumber min={0} max={10080} />
      </Form.Item>
    </FormDialog>
  );
}

function RevokeKey({ apiKey, onClose }: { apiKey: Key; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<{ reason: string }>
      title={`${t('adm.key.revoke')} ${apiKey.agency}`}
      invalidate={[['api-keys']]}
      onClose={onClose}
      send={async (body) =>
        ok(
          await api.POST('/api/v1/api-keys/{key_id}/revoke', {
            params: { path: { key_id: apiKey.id } },
            body,
            headers: idempotent(ifMatch(apiKey.version)),
          }),
        )
      }
    >
      <Form.Item name="reason" label={t('field.reason')} rules={[{ required: true }]}>
        <Input.TextArea rows={2} />
      </Form.Item>
    </FormDialog>
  );
}

/** Keys for third-party agencies (R-API-1): issue, rotate and revoke; the secret is shown once. */
export function ApiKeys() {
  const { t } = useI18n();
  const [unitId, setUnitId] = useState<string | undefined>();
  const [state, setState] = useState<State | undefined>();
  const [q, setQ] = useState('');
  const [shown, setShown] = useState<Key | null>(null);
  const [dialog, setDialog] = useState<'issue' | 'rotate' | 'revoke' | null>(null);
  const [issued, setIssued] = useState<Secret | null>(null);
  const list = usePaged<Key>(['api-keys', unitId, state, q], async (cursor) =>
    ok(await api.GET('/api/v1/api-keys', { params: { query: { unit_id: unitId, state, q: q || undefined, cursor, limit: 50 } } })),
  );
  const close = () => {
    setDialog(null);
    setShown(null);
  };
  return (
    <Card
      title={t('menu.adm.apiKeys')}
      extra={<AddButton permission="api_key:manage" label="adm.key.issue" testId="issue-key" onClick={() => setDialog('issue')} />}
    >
      <Filters>
        <UnitFilter value={unitId} onChange={setUnitId} />
        <Select value={state} onChange={setState} allowClear style={{ width: 140 }} placeholder={t('people.status')}
          options={(Object.keys(STATE_COLOURS) as State[]).map((s) => ({ value: s, label: s }))} />
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 220 }} />
      </Filters>
      <PagedTable<Key>
        list={list}
        rowKey="id"
        testId="key-list"
        onOpen={setShown}
        columns={[
          { title: t('adm.key.agency'), dataIndex: 'agency' },
          { title: t('adm.key.prefix'), dataIndex: 'prefix' },
          { title: t('profile.unit'), dataIndex: 'unit_id', render: (id: string) => <UnitName id={id} /> },
          { title: t('people.status'), dataIndex: 'state', render: (s: State) => <Tag color={STATE_COLOURS[s]}>{s}</Tag> },
          { title: t('adm.key.operations'), dataIndex: 'operations', render: (ops: string[]) => ops.length },
          { title: t('adm.key.expires'), dataIndex: 'expires_at', render: when },
        ]}
      />
      <DetailDrawer
        row={shown}
        title={shown?.agency}
        onClose={() => setShown(null)}
        actions={
          shown?.state === 'active' && (
            <>
              <Button onClick={() => setDialog('rotate')} data-testid="rotate-key">
                {t('adm.key.rotate')}
              </Button>
              <Button danger onClick={() => setDialog('revoke')} data-testid="revoke-key">
                {t('adm.key.revoke')}
              </Button>
            </>
          )
        }
      />
      {dialog === 'issue' && <IssueKey onClose={() => setDialog(null)} onIssued={setIssued} />}
      {dialog === 'rotate' && shown && <RotateKey apiKey={shown} onClose={close} onIssued={setIssued} />}
      {dialog === 'revoke' && shown && <RevokeKey apiKey={shown} onClose={close} />}
      {issued && <ShowSecret issued={issued} onClose={() => setIssued(null)} />}
    </Card>
  );
}
