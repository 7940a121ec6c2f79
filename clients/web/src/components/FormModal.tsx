import { useMutation } from '@tanstack/react-query';
import { Alert, Form, Modal } from 'antd';
import { useState, type ReactNode } from 'react';

import { useI18n } from '../i18n/I18n';
import { showServerErrors } from './forms';

/** A dialog with one form sent to the server: its field errors on the fields, the rest above
 * them; `onDone` gets the answer, or nothing when cancelled. */
export function FormModal<V, R>({
  title,
  initialValues,
  submit,
  onDone,
  children,
}: {
  title: string;
  initialValues?: Partial<V>;
  submit: (values: V) => Promise<R>;
  onDone: (result?: R) => void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const send = useMutation({
    mutationFn: submit,
    onSuccess: (result) => onDone(result),
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  return (
    <Modal open title={title} onOk={() => form.submit()} onCancel={() => onDone()} confirmLoading={send.isPending}
      okText={t('common.submit')} cancelText={t('common.cancel')}>
      {banner && <Alert type="error" showIcon message={banner} role="alert" style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" initialValues={initialValues}
        onFinish={(values) => { setBanner(null); send.mutate(values as V); }}>
        {children}
      </Form>
    </Modal>
  );
}
