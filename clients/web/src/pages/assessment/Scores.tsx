import { Col, Input, Row, Segmented, Select, Space, Tag } from 'antd';
import { useMemo, useState } from 'react';

import { api, ok } from '../../api/client';
import { Chart } from '../../components/Chart';
import { PagedTable, usePaged } from '../../components/Paged';
import { useI18n } from '../../i18n/I18n';
import { MapView } from '../../map/MapView';
import { BAND_COLOURS, scoreOverlay, type Score } from './scoreMap';
import { useNames } from './units';
import { KINDS, currentPeriod, kindOptions, label, type Kind } from './vocab';

export function Scores() {
  const { t, lang } = useI18n();
  const { units } = useNames();
  const [annual, setAnnual] = useState(false);
  const [period, setPeriod] = useState(currentPeriod(false));
  const [level, setLevel] = useState<Kind>('community');
  const paged = usePaged<Score>(['scores', period, level], async (cursor) =>
    ok(await api.GET('/api/v1/assessment/scores', { params: { query: { period, level, cursor, limit: 200 } } })),
  );
  const overlays = useMemo(() => [scoreOverlay(paged.rows, units)], [paged.rows, units]);
  const ranking = useMemo(() => {
    const top = [...paged.rows].sort((a, b) => a.rank - b.rank).slice(0, 15).reverse();
    return {
      grid: { left: 120, right: 24, top: 8, bottom: 24 },
      xAxis: { type: 'value', min: (v: { min: number }) => Math.floor(Math.min(v.min, 90)) },
      yAxis: { type: 'category', data: top.map((s) => s.name) },
      series: [{ type: 'bar', data: top.map((s) => ({ value: s.score, itemStyle: { color: BAND_COLOURS[s.band] } })) }],
    };
  }, [paged.rows]);
  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Segmented
          value={annual ? 'annual' : 'monthly'}
          onChange={(value) => { const next = value === 'annual'; setAnnual(next); setPeriod(currentPeriod(next)); }}
          options={[{ value: 'monthly', label: t('asm.monthly') }, { value: 'annual', label: t('asm.annual') }]}
        />
        <Input.Search key={period} defaultValue={period} onSearch={(value) => value && setPeriod(value)} style={{ width: 160 }}
          aria-label={t('asm.period')} />
        <Select value={level} onChange={setLevel} options={kindOptions(lang)} style={{ width: 160 }} aria-label={t('asm.kind')} />
      </Space>
      <Row gutter={16}>
        <Col xs={24} xl={12}>
          <PagedTable<Score>
            paged={paged}
            rowKey={(s) => `${s.unit_id ?? s.department_id}`}
            data-testid="scores"
            columns={[
              { title: t('asm.rank'), dataIndex: 'rank', width: 64 },
              { title: t('asm.name'), dataIndex: 'name' },
              { title: t('asm.kind'), dataIndex: 'kind', render: (k: Kind) => label(KINDS[k], lang, k) },
              { title: t('asm.score'), dataIndex: 'score' },
              { title: t('asm.deductions'), dataIndex: 'deductions' },
              { title: t('asm.bonuses'), dataIndex: 'bonuses' },
              { title: t('asm.band'), dataIndex: 'band', render: (b: Score['band']) => <Tag color={BAND_COLOURS[b]}>{t(`band.${b}`)}</Tag> },
            ]}
          />
        </Col>
        <Col xs={24} xl={12}>
          <h4>{t('asm.rankings')}</h4>
          <Chart option={ranking} height={280} testId="chart-ranking" />
          <h4>{t('asm.map')}</h4>
          <MapView tileLayers={[]} overlays={overlays} height={360} fitTo="scores" />
        </Col>
      </Row>
    </>
  );
}
