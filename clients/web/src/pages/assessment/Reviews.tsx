import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Descriptions, Drawer, Form, Input, InputNumber, Select, Space, Table, Tag } from 'antd';
import { useState } from 'react';

import { api, idempotent, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { FormModal } from '../../components/FormModal';
import { PagedTable, ifMatch, usePaged } from '../../components/Paged';
import { TargetPicker } from '../../components/Pickers';
import { QueryState } from '../../components/QueryState';
import { showServerErrors } from '../../components/forms';
import { useI18n } from '../../i18n/I18n';
import { useNames } from './units';
import { STATES, currentPeriod, label } from './vocab';

type Review = components['schemas']['ReviewOut'];
type ManualScore = components['schemas']['ManualScoreIn'];
const REVIEW_STATES = ['self_evaluating', 'submitted', 'scored', 'archived'] as const;

function target(value: string | undefined): { unit_id?: string; department_id?: string } {
  const [kind, id] = value?.split(':') ?? [];
  return kind === 'department' ? { department_id: id } : kind === 'unit' ? { unit_id: id } : {};
}

function OpenReview({ onClose }: { onClose: (id?: string) => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  return (
    <FormModal<{ period: string; target?: string }, Review>
      title={t('asm.open')}
      initialValues={{ period: currentPeriod(false) }}
      submit={async (values) =>
        ok(await api.POST('/api/v1/assessment/reviews', {
          body: { period: values.period, ...target(values.target) },
          headers: idempotent(),
        }))}
      onDone={(created) => {
        if (created) void queryClient.invalidateQueries({ queryKey: ['reviews'] });
        onClose(created?.id);
      }}
    >
      <Form.Item name="period" label={t('asm.period')} rules={[{ required: true }]}><Input /></Form.Item>
      <Form.Item name="target" label={t('asm.unit')}><TargetPicker /></Form.Item>
    </FormModal>
  );
}

/** The self-evaluation while the unit evaluates itself, the superior's scores once submitted. */
function ScoresForm({ review }: { review: Review }) {
  const { t } = useI18n();
  const [form] = Form.useForm();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const self = review.state === 'self_evaluating';
  const save = useMutation({
    mutationFn: async (values: { scores: ManualScore[]; comment?: string }) =>
      ok(await api.PATCH('/api/v1/assessment/reviews/{review_id}', {
        params: { path: { review_id: review.id } },
        body: values,
        headers: ifMatch(review.version),
      })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['reviews'] }),
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  const scores = (self ? review.self_scores : review.scores).map(({ code, points, note }) => ({ code, points, note }));
  return (
    <Form form={form} layout="vertical" initialValues={{ scores, comment: (self ? review.self_comment : review.comment) ?? '' }}
      onFinish={(values) => { setBanner(null); save.mutate(values as { scores: ManualScore[]; comment?: string }); }}>
      <h4>{t(self ? 'asm.selfScores' : 'asm.superiorScores')}</h4>
      {banner && <Alert type="error" showIcon message={banner} role="alert" style={{ marginBottom: 12 }} />}
      <Form.List name="scores">
        {(fields, { add, remove }) => (
          <>
            {fields.map((field) => (
              <Space key={field.key} align="baseline" wrap>
                <Form.Item name={[field.name, 'code']} rules={[{ required: true }]}><Input placeholder={t('asm.code')} /></Form.Item>
                <Form.Item name={[field.name, 'points']} rules={[{ required: true }]}><InputNumber placeholder={t('asm.points')} step={0.5} /></Form.Item>
                <Form.Item name={[field.name, 'note']}><Input placeholder={t('asm.note')} /></Form.Item>
                <Button type="link" danger onClick={() => remove(field.name)}>{t('asm.delete')}</Button>
              </Space>
            ))}
            <Button onClick={() => add({ code: '', points: 0 })} style={{ marginBottom: 12 }}>{t('asm.addItem')}</Button>
          </>
        )}
      </Form.List>
      <Form.Item name="comment" label={t('asm.comment')}><Input.TextArea rows={2} /></Form.Item>
      <Button htmlType="submit" loading={save.isPending}>{t('asm.save')}</Button>
    </Form>
  );
}

function ScoreList({ title, scores }: { title: string; scores: Review['scores'] }) {
  const { t } = useI18n();
  return (
    <Table size="small" rowKey="code" pagination={false} dataSource={scores} title={() => title} style={{ marginBottom: 12 }}
      columns={[
        { title: t('asm.code'), dataIndex: 'code' },
        { title: t('asm.points'), dataIndex: 'points' },
        { title: t('asm.note'), dataIndex: 'note' },
      ]} />
  );
}

function ReviewDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const { t, lang } = useI18n();
  const { names } = useNames();
  const [failure, setFailure] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const detail = useQuery({
    queryKey: ['reviews', 'one', id],
    queryFn: async () => ok(await api.GET('/api/v1/assessment/reviews/{review_id}', { params: { path: { review_id: id } } })),
  });
  const act = useMutation({
    mutationFn: async (action: 'submit' | 'archive') => {
      const url = action === 'submit' ? '/api/v1/assessment/reviews/{review_id}/submit' : '/api/v1/assessment/reviews/{review_id}/archive';
      return ok(await api.POST(url, { params: { path: { review_id: id } }, headers: idempotent() }));
    },
    onSuccess: () => { setFailure(null); void queryClient.invalidateQueries({ queryKey: ['reviews'] }); },
    onError: (error) => setFailure(error.message),
  });
  return (
    <Drawer open onClose={onClose} width={760} title={t('asm.reviews')} data-testid="review-detail">
      <QueryState query={detail}>
        {(review) => (
          <>
            {failure && <Alert type="error" showIcon message={failure} role="alert" style={{ marginBottom: 12 }} />}
            <Descriptions column={2} size="small" bordered style={{ marginBottom: 16 }}>
              <Descriptions.Item label={t('asm.unit')}>{names.get(review.unit_id ?? review.department_id ?? '') ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('asm.period')}>{review.period}</Descriptions.Item>
              <Descriptions.Item label={t('asm.state')}>{label(STATES[review.state], lang, review.state)}</Descriptions.Item>
              <Descriptions.Item label={t('asm.comment')}>{review.comment ?? review.self_comment ?? '—'}</Descriptions.Item>
            </Descriptions>
            {review.state !== 'self_evaluating' && <ScoreList title={t('asm.selfScores')} scores={review.self_scores} />}
            {(review.state === 'scored' || review.state === 'archived') && <ScoreList title={t('asm.superiorScores')} scores={review.scores} />}
            {(review.state === 'self_evaluating' || review.state === 'submitted') && <ScoresForm key={review.version} review={review} />}
            <Space style={{ marginTop: 16 }}>
              {(review.state === 'self_evaluating' || review.state === 'submitted') && (
                <Button type="primary" onClick={() => act.mutate('submit')} loading={act.isPending}>{t('asm.submit')}</Button>
              )}
              {review.state === 'scored' && <Button onClick={() => act.mutate('archive')}>{t('asm.archive')}</Button>}
            </Space>
          </>
        )}
      </QueryState>
    </Drawer>
  );
}

export function Reviews({ initial }: { initial: string | null }) {
  const { t, lang } = useI18n();
  const { names } = useNames();
  const [period, setPeriod] = useState('');
  const [state, setState] = useState<(typeof REVIEW_STATES)[number] | undefined>();
  const [shown, setShown] = useState<string | null>(initial);
  const [opening, setOpening] = useState(false);
  const paged = usePaged<Review>(['reviews', period, state], async (cursor) =>
    ok(await api.GET('/api/v1/assessment/reviews', { params: { query: { period: period || undefined, state, cursor, limit: 50 } } })),
  );
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Input.Search placeholder={t('asm.period')} allowClear onSearch={setPeriod} style={{ width: 160 }} />
        <Select allowClear placeholder={t('asm.state')} value={state} onChange={setState} style={{ width: 160 }}
          options={REVIEW_STATES.map((s) => ({ value: s, label: label(STATES[s], lang, s) }))} />
        <Button type="primary" onClick={() => setOpening(true)}>{t('asm.open')}</Button>
      </Space>
      <PagedTable<Review>
        paged={paged}
        rowKey="id"
        data-testid="reviews"
        onRow={(row) => ({ onClick: () => setShown(row.id), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('asm.period'), dataIndex: 'period' },
          { title: t('asm.unit'), render: (_, r) => names.get(r.unit_id ?? r.department_id ?? '') ?? '—' },
          { title: t('asm.state'), dataIndex: 'state', render: (s: string) => <Tag>{label(STATES[s], lang, s)}</Tag> },
          { title: t('asm.at'), dataIndex: 'updated_at', render: (at: string) => new Date(at).toLocaleString() },
        ]}
      />
      {shown && <ReviewDetail key={shown} id={shown} onClose={() => setShown(null)} />}
      {opening && <OpenReview onClose={(created) => { setOpening(false); if (created) setShown(created); }} />}
    </>
  );
}
