import { Button, Card, Form, Input, InputNumber, Select, Switch, Tag } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { Allowed } from '../../auth/auth';
import { TargetPicker, UnitPicker } from '../../components/Pickers';
import { useI18n } from '../../i18n/I18n';
import { CATEGORIES, actionBody, name } from '../../events/vocab';
import { AddButton, DetailDrawer, Filters, FormDialog, PagedTable, UnitFilter, UnitName, filled, ifMatch, usePaged } from './kit';

type Rule = components['schemas']['RoutingRuleOut'];
type Create = components['schemas']['RoutingRuleCreate'];
type Category = Create['category'];
type Level = components['schemas']['Level'];
// The levels whose arriving events a rule can route (api/schemas/routing.py).
const LEVELS: Level[] = ['community', 'street', 'district'];

interface Values extends Omit<Create, 'target_unit_id' | 'target_department_id'> {
  target?: string;
}

/** The form's "unit:<id>" / "department:<id>" target as the rule's two target fields. */
function ruleBody({ target, ...rest }: Values): Create {
  const picked = actionBody({ target });
  return {
    ...(filled(rest) as unknown as Create),
    target_unit_id: (picked.unit_id as string | undefined) ?? null,
    target_department_id: (picked.department_id as string | undefined) ?? null,
  };
}

function RuleForm({ rule, onClose }: { rule?: Rule; onClose: () => void }) {
  const { t, lang } = useI18n();
  const target = rule?.target_department_id ? `department:${rule.target_department_id}` : rule?.target_unit_id ? `unit:${rule.target_unit_id}` : undefined;
  return (
    <FormDialog<Values>
      title={rule ? t('adm.edit') : t('adm.rule.add')}
      invalidate={[['routing-rules']]}
      onClose={onClose}
      initialValues={rule ? { ...filled(rule), category: rule.category as Category, target } : { priority: 100, enabled: true }}
      send={async (values) => {
        const body = ruleBody(values);
        if (!rule) return ok(await api.POST('/api/v1/routing-rules', { body, headers: idempotent() }));
        const { owner_unit_id: _owner, ...changes } = body;
        return ok(
          await api.PATCH('/api/v1/routing-rules/{rule_id}', {
            params: { path: { rule_id: rule.id } },
            body: changes,
            headers: ifMatch(rule.version),
          }),
        );
      }}
    >
      {rule ? (
        <Form.Item label={t('adm.rule.owner')}>
          <UnitName id={rule.owner_unit_id} />
        </Form.Item>
      ) : (
        <Form.Item name="owner_unit_id" label={t('adm.rule.owner')} rules={[{ required: true }]}>
          <UnitPicker />
        </Form.Item>
      )}
      <Form.Item name="level" label={t('adm.rule.level')} rules={[{ required: true }]}>
        <Select options={LEVELS.map((l) => ({ value: l, label: l }))} />
      </Form.Item>
      <Form.Item name="category" label={t('event.category')} rules={[{ required: true }]}>
        <Select options={Object.keys(CATEGORIES).map((c) => ({ value: c, label: name(CATEGORIES, c, lang) }))} />
      </Form.Item>
      <Form.Item name="subtype" label={t('event.subtype')}>
        <Input />
      </Form.Item>
      <Form.Item name="keywords" label={t('adm.rule.keywords')}>
        <Select mode="tags" open={false} />
      </Form.Item>
      <Form.Item name="target" label={t('adm.rule.target')}>
        <TargetPicker />
      </Form.Item>
      <Form.Item name="priority" label={t('adm.rule.priority')}>
        <InputNumber min={0} max={10000} />
      </Form.Item>
      <Form.Item name="enabled" label={t('adm.active')} valuePropName="checked">
        <Switch />
      </Form.Item>
      <Form.Item name="note" label={t('field.note')}>
        <Input.TextArea rows={2} />
      </Form.Item>
    </FormDialog>
  );
}

function DeleteRule({ rule, onClose }: { rule: Rule; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<object>
      title={t('adm.delete')}
      invalidate={[['routing-rules']]}
      onClose={onClose}
      send={async () =>
        ok(await api.DELETE('/api/v1/routing-rules/{rule_id}', { params: { path: { rule_id: rule.id } }, headers: ifMatch(rule.version) }))
      }
    >
      {t('adm.confirmDelete')}
    </FormDialog>
  );
}

/** Automatic dispatch rules: events of a category arriving at a level go straight to a target (R-WF-3). */
export function RoutingRules() {
  const { t, lang } = useI18n();
  const [owner, setOwner] = useState<string | undefined>();
  const [category, setCategory] = useState<Category | undefined>();
  const [level, setLevel] = useState<Level | undefined>();
  const [enabled, setEnabled] = useState<boolean | undefined>();
  const [q, setQ] = useState('');
  const [shown, setShown] = useState<Rule | null>(null);
  const [dialog, setDialog] = useState<'create' | 'edit' | 'delete' | null>(null);
  const list = usePaged<Rule>(['routing-rules', owner, category, level, enabled, q], async (cursor) =>
    ok(
      await api.GET('/api/v1/routing-rules', {
        params: { query: { owner_unit_id: owner, category, level, enabled, q: q || undefined, cursor, limit: 50 } },
      }),
    ),
  );
  const close = () => {
    setDialog(null);
    setShown(null);
  };
  return (
    <Card
      title={t('menu.adm.routing')}
      extra={<AddButton permission="routing:write" label="adm.rule.add" testId="add-rule" onClick={() => setDialog('create')} />}
    >
      <Filters>
        <UnitFilter value={owner} onChange={setOwner} label="adm.rule.owner" />
        <Select value={category} onChange={setCategory} allowClear style={{ width: 160 }} placeholder={t('event.category')}
          options={Object.keys(CATEGORIES).map((c) => ({ value: c as Category, label: name(CATEGORIES, c, lang) }))} />
        <Select value={level} onChange={setLevel} allowClear style={{ width: 140 }} placeholder={t('adm.rule.level')}
          options={LEVELS.map((l) => ({ value: l, label: l }))} />
        <Select value={enabled} onChange={setEnabled} allowClear style={{ width: 120 }} placeholder={t('adm.active')}
          options={[{ value: true, label: t('common.yes') }, { value: false, label: t('common.no') }]} />
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 200 }} />
      </Filters>
      <PagedTable<Rule>
        list={list}
        rowKey="id"
        testId="rule-list"
        onOpen={setShown}
        columns={[
          { title: t('adm.rule.owner'), dataIndex: 'owner_unit_id', render: (id: string) => <UnitName id={id} /> },
          { title: t('adm.rule.level'), dataIndex: 'level' },
          { title: t('event.category'), dataIndex: 'category', render: (c: string) => name(CATEGORIES, c, lang) },
          { title: t('event.subtype'), dataIndex: 'subtype' },
          { title: t('adm.rule.keywords'), dataIndex: 'keywords', render: (k: string[] | null) => (k ?? []).map((w) => <Tag key={w}>{w}</Tag>) },
          { title: t('adm.rule.priority'), dataIndex: 'priority' },
          { title: t('adm.active'), dataIndex: 'enabled', render: (v: boolean) => (v ? t('common.yes') : t('common.no')) },
        ]}
      />
      <DetailDrawer
        row={shown}
        onClose={() => setShown(null)}
        actions={
          <Allowed permission="routing:write">
            <Button onClick={() => setDialog('edit')}>{t('adm.edit')}</Button>
            <Button danger onClick={() => setDialog('delete')}>
              {t('adm.delete')}
            </Button>
          </Allowed>
        }
      />
      {dialog === 'create' && <RuleForm onClose={() => setDialog(null)} />}
      {dialog === 'edit' && shown && <RuleForm rule={shown} onClose={close} />}
      {dialog === 'delete' && shown && <DeleteRule rule={shown} onClose={close} />}
    </Card>
  );
}
