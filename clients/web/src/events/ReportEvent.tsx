import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, DatePicker, Form, Input, Modal, Select, Switch } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';

import { api, idempotent, ok } from '../api/client';
import type { components } from '../api/schema';
import { GridPicker } from '../components/Pickers';
import { showServerErrors } from '../components/forms';
import { useI18n } from '../i18n/I18n';
import { CATEGORIES, name } from './vocab';

interface Values {
  title: string;
  category: components['schemas']['Category'];
  subtype: string;
  grid_id: string;
  occurred_at: Dayjs;
  description: string;
  is_major?: boolean;
  is_urgent?: boolean;
}

export function ReportEvent({ open, onClose }: { open: boolean; onClose: (id?: string) => void }) {
  const { t, lang } = useI18n();
  const [form] = Form.useForm<Values>();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const category = Form.useWatch('category', form);
  const subtypes = useQuery({
    queryKey: ['dictionaries', 'event_subtype'],
    queryFn: async () => ok(await api.GET('/api/v1/dictionaries/event_subtype')),
    staleTime: Infinity,
  });
  const report = useMutation({
    mutationFn: async (values: Values) =>
      ok(
        await api.POST('/api/v1/events', {
          body: { ...values, occurred_at: values.occurred_at.format(), is_major: !!values.is_major, is_urgent: !!values.is_urgent },
          headers: idempotent(),
        }),
      ),
    onSuccess: (event) => {
      void queryClient.invalidateQueries({ queryKey: ['events'] });
      form.resetFields();
      onClose(event.id);
    },
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  return (
    <Modal
      open={open}
      title={t('event.report')}
      okText={t('common.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={report.isPending}
      onOk={() => form.submit()}
      onCancel={() => onClose()}
      destroyOnClose
    >
      {banner && <Alert type="error" showIcon message={banner} style={{ marginBottom: 12 }} role="alert" />}
      <Form
        form={form}
        layout="vertical"
        initialValues={{ occurred_at: dayjs(), category: 'dispute' }}
        onFinish={(values) => {
          setBanner(null);
          report.mutate(values);
        }}
      >
        <Form.Item name="title" label={t('event.title')} rules={[{ required: true }]}>
          <Input />
        </Form.Item>
        <Form.Item name="category" label={t('event.category')} rules={[{ required: true }]}>
          <Select
            options={Object.keys(CATEGORIES).map((code) => ({ value: code, label: name(CATEGORIES, code, lang) }))}
            onChange={() => form.setFieldValue('subtype', undefined)}
          />
        </Form.Item>
        <Form.Item name="subtype" label={t('event.subtype')} rules={[{ required: true }]}>
          <Select
            options={(subtypes.data ?? [])
              .filter((s) => s.category === category)
              .map((s) => ({ value: s.code, label: s.name }))}
          />
        </Form.Item>
        <Form.Item name="grid_id" label={t('event.grid')} rules={[{ required: true }]}>
          <GridPicker />
        </Form.Item>
        <Form.Item name="occurred_at" label={t('event.occurredAt')} rules={[{ required: true }]}>
          <DatePicker showTime style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="description" label={t('event.description')} rules={[{ required: true }]}>
          <Input.TextArea rows={3} />
        </Form.Item>
        <Form.Item name="is_major" label={t('event.major')} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="is_urgent" label={t('event.urgent')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
    </Modal>
  );
}
