import { useQuery } from '@tanstack/react-query';
import { Button, Card, Col, Descriptions, Empty, Row, Space, Table, Tag, Timeline, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';

import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { Chart } from '../components/Chart';
import { QueryState } from '../components/QueryState';
import { ActionForm } from '../events/ActionForm';
import { Light } from '../events/Light';
import { ACTIONS, CATEGORIES, STATES, name } from '../events/vocab';
import { useI18n } from '../i18n/I18n';
import type { Lang } from '../i18n/lang';

type Process = components['schemas']['ProcessOut'];
type Step = components['schemas']['StepOut'];

const when = (value: string | null | undefined) => (value ? value.slice(0, 16).replace('T', ' ') : '—');

/** The process as a graph (图形化过程追踪): states as nodes, the current one highlighted. */
function processOption(process: Process, lang: Lang) {
  const order = process.nodes;
  return {
    tooltip: {},
    series: [
      {
        type: 'graph',
        layout: 'circular',
        roam: false,
        label: { show: true },
        edgeSymbol: ['none', 'arrow'],
        edgeLabel: { show: true, formatter: (p: { data: { action: string } }) => name(ACTIONS, p.data.action, lang), fontSize: 10 },
        data: order.map((state) => ({
          name: name(STATES, state, lang),
          id: state,
          symbolSize: state === process.current ? 70 : 50,
          itemStyle: { color: state === process.current ? '#f5222d' : '#1677ff' },
        })),
        links: process.edges.map((edge) => ({ source: edge.from, target: edge.to, action: edge.action })),
        lineStyle: { curveness: 0.2 },
      },
    ],
  };
}

function StepTimeline({ steps }: { steps: Step[] }) {
  const { t } = useI18n();
  return (
    <Timeline
      data-testid="step-timeline"
      items={steps.map((step) => ({
        color: step.finished_at ? 'green' : 'blue',
        children: (
          <>
            <Typography.Text strong>
              #{step.seq} {t('event.handler')}: {step.unit_id ?? step.department_id}
            </Typography.Text>
            <div>
              {t('event.assigned')} {when(step.assigned_at)} · {t('event.accepted')} {when(step.accepted_at)} ·{' '}
              {t('event.feedback')} {when(step.last_feedback_at)} · {t('event.finished')} {when(step.finished_at)}
            </div>
            {step.responsible_person && (
              <div>
                {t('field.responsible_person')}: {step.responsible_person} {step.responsible_phone}
              </div>
            )}
            {step.result && <div>{step.result}</div>}
          </>
        ),
      }))}
    />
  );
}

export function EventDetail() {
  const { id = '' } = useParams();
  const { t, lang } = useI18n();
  const [action, setAction] = useState<string | null>(null);
  const event = useQuery({
    queryKey: ['events', 'one', id],
    queryFn: async () => ok(await api.GET('/api/v1/events/{event_id}', { params: { path: { event_id: id } } })),
  });
  const process = useQuery({
    queryKey: ['events', 'process', id],
    queryFn: async () => ok(await api.GET('/api/v1/events/{event_id}/process', { params: { path: { event_id: id } } })),
  });
  const option = useMemo(() => (process.data ? processOption(process.data, lang) : null), [process.data, lang]);
  return (
    <QueryState query={event}>
      {(data) => (
        <Space direction="vertical" style={{ width: '100%' }} size="large">
          <Card
            title={
              <Space>
                {data.service_no} <span data-testid="event-title">{data.title}</span>
              </Space>
            }
            extra={<Light light={data.light} />}
          >
            <Descriptions column={3}>
              <Descriptions.Item label={t('event.state')}>
                <Tag data-testid="detail-state">{name(STATES, data.state, lang)}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('event.category')}>{name(CATEGORIES, data.category, lang)}</Descriptions.Item>
              <Descriptions.Item label={t('event.occurredAt')}>{when(data.occurred_at)}</Descriptions.Item>
              <Descriptions.Item label={t('event.description')} span={3}>
                {data.description}
              </Descriptions.Item>
              <Descriptions.Item label={t('event.flags')}>
                {data.is_major && <Tag color="volcano">{t('event.major')}</Tag>}
                {data.is_urgent && <Tag color="orange">{t('event.urgent')}</Tag>}
                {data.expedited && <Tag color="red">{t('event.expedited')}</Tag>}
                {data.supervisions.some((card) => !card.cleared_at) && <Tag color="purple">{t('event.supervised')}</Tag>}
              </Descriptions.Item>
            </Descriptions>
          </Card>
          <Card title={t('event.actions')}>
            {process.data && process.data.available_actions.length > 0 ? (
              <Space wrap data-testid="actions">
                {process.data.available_actions.map((code) => (
                  <Button key={code} onClick={() => setAction(code)} data-testid={`action-${code}`}>
                    {name(ACTIONS, code, lang)}
                  </Button>
                ))}
              </Space>
            ) : (
              <Empty description={t('event.noActions')} />
            )}
          </Card>
          <Row gutter={16}>
            <Col xs={24} lg={12}>
              <Card title={t('event.steps')}>
                <StepTimeline steps={data.steps} />
              </Card>
            </Col>
            <Col xs={24} lg={12}>
              <Card title={t('event.process')}>{option && <Chart option={option} height={360} testId="process-graph" />}</Card>
            </Col>
          </Row>
          <Card title={t('event.supervisions')}>
            <Table
              rowKey="id"
              size="small"
              pagination={false}
              dataSource={data.supervisions}
              locale={{ emptyText: t('state.empty') }}
              columns={[
                { title: t('field.level'), dataIndex: 'level' },
                { title: 'source', dataIndex: 'source' },
                { title: 'rule', dataIndex: 'rule' },
                { title: 'issued', dataIndex: 'issued_at', render: when },
                { title: 'cleared', dataIndex: 'cleared_at', render: when },
                { title: 'deduction', dataIndex: 'deduction' },
              ]}
            />
          </Card>
          {action && <ActionForm eventId={data.id} version={data.version} action={action} onClose={() => setAction(null)} />}
        </Space>
      )}
    </QueryState>
  );
}
