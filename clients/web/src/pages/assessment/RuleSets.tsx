import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Drawer, Form, Input, InputNumber, Popconfirm, Select, Space, Tag } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { Allowed, useAuth } from '../../auth/auth';
import { FormModal } from '../../components/FormModal';
import { PagedTable, ifMatch, usePaged } from '../../components/Paged';
import { QueryState } from '../../components/QueryState';
import { showServerErrors } from '../../components/forms';
import { useI18n } from '../../i18n/I18n';
import { STATES, kindOptions, KINDS, label, type Kind } from './vocab';

type RuleSet = components['schemas']['RuleSetOut'];
type Summary = components['schemas']['RuleSetSummary'];
type ItemIn = components['schemas']['RuleItemIn'];

function useRefresh() {
  const queryClient = useQueryClient();
  return () => void queryClient.invalidateQueries({ queryKey: ['rule-sets'] });
}

/** A new draft (without items it starts from the shipped defaults, R-ASM-3). */
function CreateRuleSet({ onClose }: { onClose: (id?: string) => void }) {
  const { t, lang } = useI18n();
  const { me } = useAuth();
  const refresh = useRefresh();
  return (
    <FormModal<{ year: number; kind: Kind; name: string }, RuleSet>
      title={t('asm.create')}
      initialValues={{ year: new Date().getFullYear() + 1 }}
      submit={async (values) =>
        ok(await api.POST('/api/v1/assessment/rule-sets', {
          body: { ...values, owner_unit_id: me?.unit?.id ?? '' },
          headers: idempotent(),
        }))}
      onDone={(created) => { if (created) refresh(); onClose(created?.id); }}
    >
      <Form.Item name="year" label={t('asm.year')} rules={[{ required: true }]}><InputNumber /></Form.Item>
      <Form.Item name="kind" label={t('asm.kind')} rules={[{ required: true }]}><Select options={kindOptions(lang)} /></Form.Item>
      <Form.Item name="name" label={t('asm.name')} rules={[{ required: true }]}><Input /></Form.Item>
    </FormModal>
  );
}

/** Copy from last year (R-ASM-1): a new year's draft with the set's items. */
function CopyRuleSet({ ruleSet, onClose }: { ruleSet: RuleSet; onClose: (id?: string) => void }) {
  const { t } = useI18n();
  const refresh = useRefresh();
  return (
    <FormModal<{ year: number }, RuleSet>
      title={t('asm.copy')}
      initialValues={{ year: ruleSet.year + 1 }}
      submit={async ({ year }) =>
        ok(await api.POST('/api/v1/assessment/rule-sets/{rule_set_id}/copy', {
          params: { path: { rule_set_id: ruleSet.id } },
          body: { year },
          headers: idempotent(),
        }))}
      onDone={(created) => { if (created) refresh(); onClose(created?.id); }}
    >
      <Form.Item name="year" label={t('asm.year')} rules={[{ required: true }]}><InputNumber /></Form.Item>
    </FormModal>
  );
}

/** The items of a draft, editable as a whole (the server validates them together). */
function ItemsForm({ ruleSet, editable }: { ruleSet: RuleSet; editable: boolean }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async (values: { name: string; items: ItemIn[] }) =>
      ok(await api.PATCH('/api/v1/assessment/rule-sets/{rule_set_id}', {
        params: { path: { rule_set_id: ruleSet.id } },
        body: values,
        headers: ifMatch(ruleSet.version),
      })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['rule-sets'] }),
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  const items = ruleSet.items.map(({ code, text, points, cap, signal }) => ({ code, text, points, cap, signal }));
  return (
    <Form form={form} layout="vertical" disabled={!editable} initialValues={{ name: ruleSet.name, items }}
      onFinish={(values) => { setBanner(null); save.mutate(values as { name: string; items: ItemIn[] }); }}>
      {banner && <Alert type="error" showIcon message={banner} role="alert" style={{ marginBottom: 12 }} />}
      <Form.Item name="name" label={t('asm.name')} rules={[{ required: true }]}><Input /></Form.Item>
      <Form.List name="items">
        {(fields, { add, remove }) => (
          <>
            {fields.map((field) => (
              <Space key={field.key} align="baseline" wrap data-testid="rule-item">
                <Form.Item name={[field.name, 'code']} rules={[{ required: true }]}><Input placeholder={t('asm.code')} style={{ width: 150 }} /></Form.Item>
                <Form.Item name={[field.name, 'text']} rules={[{ required: true }]}><Input placeholder={t('asm.text')} style={{ width: 260 }} /></Form.Item>
                <Form.Item name={[field.name, 'points']} rules={[{ required: true }]}><InputNumber placeholder={t('asm.points')} step={0.5} /></Form.Item>
                <Form.Item name={[field.name, 'cap']}><InputNumber placeholder={t('asm.cap')} /></Form.Item>
                <Form.Item name={[field.name, 'signal']} hidden><Input /></Form.Item>
                {editable && <Button type="link" danger onClick={() => remove(field.name)}>{t('asm.delete')}</Button>}
              </Space>
            ))}
            {editable && (
              <Space>
                <Button onClick={() => add({ code: '', text: '', points: 0 })}>{t('asm.addItem')}</Button>
                <Button type="primary" htmlType="submit" loading={save.isPending}>{t('asm.save')}</Button>
              </Space>
            )}
          </>
        )}
      </Form.List>
    </Form>
  );
}

function RuleSetDetail({ id, onClose, onOpen }: { id: string; onClose: () => void; onOpen: (id: string) => void }) {
  const { t, lang } = useI18n();
  const { can } = useAuth();
  const [copying, setCopying] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const refresh = useRefresh();
  const detail = useQuery({
    queryKey: ['rule-sets', 'one', id],
    queryFn: async () => ok(await api.GET('/api/v1/assessment/rule-sets/{rule_set_id}', { params: { path: { rule_set_id: id } } })),
  });
  const act = useMutation({
    mutationFn: async ({ action, ruleSet }: { action: 'enable' | 'archive' | 'delete'; ruleSet: RuleSet }) => {
      const path = { rule_set_id: ruleSet.id };
      if (action === 'delete')
        return ok(await api.DELETE('/api/v1/assessment/rule-sets/{rule_set_id}', { params: { path }, headers: ifMatch(ruleSet.version) }));
      const url = action === 'enable' ? '/api/v1/assessment/rule-sets/{rule_set_id}/enable' : '/api/v1/assessment/rule-sets/{rule_set_id}/archive';
      return ok(await api.POST(url, { params: { path }, headers: idempotent() }));
    },
    onSuccess: (_, { action }) => {
      refresh();
      if (action === 'delete') onClose();
    },
    onError: (error) => setFailure(error.message),
  });
  const writable = can('assessment:write');
  return (
    <Drawer open onClose={onClose} width={900} title={detail.data?.name ?? t('asm.rules')} data-testid="rule-set-detail">
      <QueryState query={detail}>
        {(ruleSet) => (
          <>
            {failure && <Alert type="error" showIcon message={failure} role="alert" style={{ marginBottom: 12 }} />}
            <Space style={{ marginBottom: 16 }} wrap>
              <Tag>{ruleSet.year}</Tag>
              <Tag>{label(KINDS[ruleSet.kind as Kind], lang, ruleSet.kind)}</Tag>
              <Tag color={ruleSet.state === 'enabled' ? 'green' : undefined}>{label(STATES[ruleSet.state], lang, ruleSet.state)}</Tag>
              {writable && ruleSet.state === 'draft' && (
                <Button type="primary" onClick={() => act.mutate({ action: 'enable', ruleSet })}>{t('asm.enable')}</Button>
              )}
              {writable && ruleSet.state !== 'archived' && (
                <Popconfirm title={t('asm.archive')} onConfirm={() => act.mutate({ action: 'archive', ruleSet })}>
                  <Button>{t('asm.archive')}</Button>
                </Popconfirm>
              )}
              {writable && <Button onClick={() => setCopying(true)} data-testid="copy-rule-set">{t('asm.copy')}</Button>}
              {writable && ruleSet.state === 'draft' && (
                <Popconfirm title={t('asm.delete')} onConfirm={() => act.mutate({ action: 'delete', ruleSet })}>
                  <Button danger>{t('asm.delete')}</Button>
                </Popconfirm>
              )}
            </Space>
            <ItemsForm key={ruleSet.version} ruleSet={ruleSet} editable={writable && ruleSet.state === 'draft'} />
            {copying && <CopyRuleSet ruleSet={ruleSet} onClose={(created) => { setCopying(false); if (created) onOpen(created); }} />}
          </>
        )}
      </QueryState>
    </Drawer>
  );
}

export function RuleSets() {
  const { t, lang } = useI18n();
  const [year, setYear] = useState<number | null>(null);
  const [kind, setKind] = useState<Kind | undefined>();
  const [state, setState] = useState<string | undefined>();
  const [shown, setShown] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const paged = usePaged<Summary>(['rule-sets', year, kind, state], async (cursor) =>
    ok(await api.GET('/api/v1/assessment/rule-sets', {
      params: { query: { year: year ?? undefined, kind, state, cursor, limit: 50 } },
    })),
  );
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <InputNumber placeholder={t('asm.year')} value={year} onChange={setYear} />
        <Select allowClear placeholder={t('asm.kind')} value={kind} onChange={setKind} options={kindOptions(lang)} style={{ width: 160 }} />
        <Select allowClear placeholder={t('asm.state')} value={state} onChange={setState} style={{ width: 140 }}
          options={['draft', 'enabled', 'archived'].map((s) => ({ value: s, label: label(STATES[s], lang, s) }))} />
        <Allowed permission="assessment:write">
          <Button type="primary" onClick={() => setCreating(true)}>{t('asm.create')}</Button>
        </Allowed>
      </Space>
      <PagedTable<Summary>
        paged={paged}
        rowKey="id"
        data-testid="rule-sets"
        onRow={(row) => ({ onClick: () => setShown(row.id), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('asm.year'), dataIndex: 'year' },
          { title: t('asm.kind'), dataIndex: 'kind', render: (k: Kind) => label(KINDS[k], lang, k) },
          { title: t('asm.name'), dataIndex: 'name' },
          { title: t('asm.state'), dataIndex: 'state', render: (s: string) => <Tag>{label(STATES[s], lang, s)}</Tag> },
        ]}
      />
      {shown && <RuleSetDetail key={shown} id={shown} onClose={() => setShown(null)} onOpen={setShown} />}
      {creating && <CreateRuleSet onClose={(created) => { setCreating(false); if (created) setShown(created); }} />}
    </>
  );
}
