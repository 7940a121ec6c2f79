import { useQuery } from '@tanstack/react-query';
import { Card, Col, Row, Segmented, Select, Space } from 'antd';
import { useMemo, useState } from 'react';

import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { Chart } from '../components/Chart';
import { QueryState } from '../components/QueryState';
import { useAuth } from '../auth/auth';
import { useI18n } from '../i18n/I18n';
import type { MessageKey } from '../i18n/messages';
import { ANALYSIS_SUBJECTS } from './analysisSubjects';

type Subject = components['schemas']['SubjectName'];
type Granularity = components['schemas']['Granularity'];

const percent = (ratio: number | null | undefined) => (ratio == null ? null : Math.round(ratio * 1000) / 10);

export function Analysis() {
  const { t } = useI18n();
  const { can } = useAuth();
  const [subject, setSubject] = useState<Subject>('events');
  const [granularity, setGranularity] = useState<Granularity>('month');
  const path = { path: { subject } };
  const region = useQuery({
    queryKey: ['analysis', subject, 'region'],
    queryFn: async () => ok(await api.GET('/api/v1/analysis/{subject}/by-region', { params: path })),
  });
  const byType = useQuery({
    queryKey: ['analysis', subject, 'type'],
    queryFn: async () => ok(await api.GET('/api/v1/analysis/{subject}/by-type', { params: path })),
  });
  const trend = useQuery({
    queryKey: ['analysis', subject, 'trend', granularity],
    queryFn: async () =>
      ok(await api.GET('/api/v1/analysis/{subject}/trend', { params: { ...path, query: { granularity } } })),
  });
  const regionOption = useMemo(
    () => ({
      tooltip: {},
      xAxis: { type: 'category', data: region.data?.items.map((i) => i.name) ?? [], axisLabel: { rotate: 30 } },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', name: t('ana.value'), data: region.data?.items.map((i) => i.value) ?? [] }],
    }),
    [region.data, t],
  );
  const typeOption = useMemo(
    () => ({
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      series: [{ type: 'pie', radius: ['35%', '65%'], data: byType.data?.items.map((i) => ({ name: i.name ?? '—', value: i.value })) ?? [] }],
    }),
    [byType.data],
  );
  const trendOption = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: {},
      xAxis: { type: 'category', data: trend.data?.items.map((i) => i.start) ?? [] },
      yAxis: [{ type: 'value', name: t('ana.value') }, { type: 'value', name: '%' }],
      series: [
        { type: 'bar', name: t('ana.value'), data: trend.data?.items.map((i) => i.value) ?? [] },
        { type: 'line', name: `${t('ana.yoy')} %`, yAxisIndex: 1, data: trend.data?.items.map((i) => percent(i.yoy)) ?? [] },
        { type: 'line', name: `${t('ana.mom')} %`, yAxisIndex: 1, data: trend.data?.items.map((i) => percent(i.mom)) ?? [] },
      ],
    }),
    [trend.data, t],
  );
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card>
        <Space>
          {t('ana.subject')}
          <Select
            style={{ width: 200 }}
            value={subject}
            onChange={setSubject}
            data-testid="analysis-subject"
            options={ANALYSIS_SUBJECTS.filter(({ permission }) => can(permission)).map(({ subject: code }) => ({ value: code, label: t(`subject.${code}` as MessageKey) }))}
          />
        </Space>
      </Card>
      <Row gutter={16}>
        <Col xs={24} lg={12}>
          <Card title={`${t('ana.region')} (${region.data?.total ?? '…'})`}>
            <QueryState query={region} isEmpty={(d) => d.items.length === 0}>
              {() => <Chart option={regionOption} testId="chart-region" />}
            </QueryState>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('ana.type')}>
            <QueryState query={byType} isEmpty={(d) => d.items.length === 0}>
              {() => <Chart option={typeOption} testId="chart-type" />}
            </QueryState>
          </Card>
        </Col>
      </Row>
      <Card
        title={t('ana.trend')}
        extra={
          <Segmented
            value={granularity}
            onChange={(value) => setGranularity(value as Granularity)}
            options={(['day', 'week', 'month'] as const).map((g) => ({ value: g, label: t(`ana.${g}`) }))}
          />
        }
      >
        <QueryState query={trend}>{() => <Chart option={trendOption} testId="chart-trend" />}</QueryState>
      </Card>
    </Space>
  );
}
