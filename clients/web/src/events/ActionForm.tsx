import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Form, Input, Modal, Select, Switch } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../api/client';
import { TargetPicker, UnitsPicker } from '../components/Pickers';
import { showServerErrors } from '../components/forms';
import { useI18n } from '../i18n/I18n';
import type { MessageKey } from '../i18n/messages';
import { ACTION_FIELDS, ACTIONS, actionBody, name, type ActionField } from './vocab';

const SATISFACTION = [
  ['satisfied', '满意', 'Satisfied'],
  ['unsatisfied', '不满意', 'Unsatisfied'],
  ['not_implemented', '未落实', 'Not implemented'],
] as const;
const LEVELS = [
  ['normal', '一般', 'Normal'],
  ['yellow', '黄牌', 'Yellow'],
  ['red', '红牌', 'Red'],
] as const;

function Field({ field }: { field: ActionField }) {
  const { t, lang } = useI18n();
  const pick = (rows: readonly (readonly [string, string, string])[]) =>
    rows.map(([value, zh, en]) => ({ value, label: lang === 'en' ? en : zh }));
  const label = field.kind === 'target' ? t('field.unit_id') : t(`field.${field.name}` as MessageKey);
  const input = {
    text: <Input />,
    phone: <Input inputMode="tel" />,
    textarea: <Input.TextArea rows={3} />,
    target: <TargetPicker />,
    units: <UnitsPicker />,
    satisfaction: <Select options={pick(SATISFACTION)} />,
    level: <Select options={pick(LEVELS)} />,
    boolean: <Switch />,
  }[field.kind];
  return (
    <Form.Item
      name={field.name}
      label={label}
      rules={field.required && field.kind !== 'boolean' ? [{ required: true }] : []}
      valuePropName={field.kind === 'boolean' ? 'checked' : 'value'}
    >
      {input}
    </Form.Item>
  );
}

/** One workflow action as a form; the server's refusal (409, 422 …) is shown in place. */
export function ActionForm({
  eventId,
  version,
  action,
  onClose,
}: {
  eventId: string;
  version: number;
  action: string;
  onClose: () => void;
}) {
  const { t, lang } = useI18n();
  const [form] = Form.useForm<Record<string, unknown>>();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const fields = ACTION_FIELDS[action] ?? [];
  const run = useMutation({
    mutationFn: async (values: Record<string, unknown>) =>
      ok(
        await api.POST('/api/v1/events/{event_id}/actions/{action}', {
          params: { path: { event_id: eventId, action } },
          body: actionBody(values),
          headers: idempotent({ 'If-Match': `"${version}"` }),
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['events'] });
      onClose();
    },
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  return (
    <Modal
      open
      title={name(ACTIONS, action, lang)}
      okText={t('common.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={run.isPending}
      onOk={() => form.submit()}
      onCancel={onClose}
    >
      {banner && <Alert type="error" showIcon message={banner} style={{ marginBottom: 12 }} role="alert" />}
      <Form
        form={form}
        layout="vertical"
        initialValues={action === 'decide-appeal' ? { upheld: false } : {}}
        onFinish={(values) => {
          setBanner(null);
          run.mutate(values);
        }}
      >
        {fields.map((field) => (
          <Field key={field.name} field={field} />
        ))}
      </Form>
    </Modal>
  );
}
