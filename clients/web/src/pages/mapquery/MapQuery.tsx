// Map queries (R-MAP-1, R-MAP-2): the layers the caller may see as a tree over the API's
// vector tiles; a query area by jurisdiction, box, circle or polygon; the results listed
// beside the map and linked to it both ways.
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Empty, Input, List, Row, Segmented, Space, Tag, Tree, Typography } from 'antd';
import type maplibregl from 'maplibre-gl';
import { useEffect, useRef, useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { useAuth } from '../../auth/auth';
import { UnitPicker } from '../../components/Pickers';
import { QueryState } from '../../components/QueryState';
import { useI18n } from '../../i18n/I18n';
import { bounds, useDraw, type DrawShape } from '../../map/draw';
import { MapView, type Overlay } from '../../map/MapView';
import { useUnit } from '../grids/UnitTree';
import { areaOfShape, itemLabel, resultFeatures, type Area, type Hit } from './results';

type Layer = components['schemas']['LayerInfo'];
type Mode = 'unit' | 'box' | 'circle' | 'polygon';

const SHAPES: Record<Exclude<Mode, 'unit'>, DrawShape> = { box: 'rectangle', circle: 'circle', polygon: 'polygon' };
const PALETTE = ['#1677ff', '#52c41a', '#fa8c16', '#eb2f96', '#13c2c2', '#722ed1', '#a0d911', '#faad14', '#2f54eb', '#f5222d'];

function QueryMap({ layers }: { layers: Layer[] }) {
  const { t } = useI18n();
  const { me } = useAuth();
  const [map, setMap] = useState<maplibregl.Map | null>(null);
  const draw = useDraw(map);
  const [checked, setChecked] = useState<string[]>(layers.map((l) => l.name));
  const [filters, setFilters] = useState<Record<string, Record<string, string>>>({});
  const [mode, setMode] = useState<Mode>('circle');
  const [unitId, setUnitId] = useState<string | undefined>();
  const [area, setArea] = useState<Area | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const colours = Object.fromEntries(layers.map((l, i) => [l.name, PALETTE[i % PALETTE.length] ?? '#1677ff']));

  const run = useMutation({
    mutationFn: async (where: Area) => {
      const wanted = Object.fromEntries(
        Object.entries(filters)
          .filter(([layer]) => checked.includes(layer))
          .map(([layer, values]) => [layer, Object.fromEntries(Object.entries(values).filter(([, v]) => v))]),
      );
      const body = { layers: checked, ...where, filters: wanted, limit: 200, geojson: true };
      return ok(await api.POST('/api/v1/map/query', { body: body as components['schemas']['MapQuery'] })).layers;
    },
    onSuccess: () => setSelected(null),
  });
  const hits: Hit[] = Object.entries(run.data ?? {}).flatMap(([layer, result]) =>
    result.items.map((item) => ({ key: `${layer}:${String(item.id)}`, layer, item })),
  );
  const hitsRef = useRef(hits);
  hitsRef.current = hits;

  // The tree's check boxes show and hide the tile layers.
  useEffect(() => {
    if (!map) return;
    for (const layer of layers) {
      if (map.getLayer(`tiles-${layer.name}`))
        map.setLayoutProperty(`tiles-${layer.name}`, 'visibility', checked.includes(layer.name) ? 'visible' : 'none');
    }
  }, [map, checked, layers]);

  // Open on the caller's own jurisdiction.
  const home = useUnit(me?.unit?.id);
  useEffect(() => {
    const box = bounds([home.data?.geometry as GeoJSON.Geometry | null | undefined]);
    if (map && box) map.fitBounds(box, { padding: 30, duration: 0 });
  }, [map, home.data]);

  // A click on a result point selects it in the list; a click beside every point clears it.
  const busy = useRef(false);
  busy.current = draw.busy;
  useEffect(() => {
    if (!map) return;
    const pick = (event: maplibregl.MapMouseEvent) => {
      if (busy.current || !map.getLayer('results')) return;
      const key = map.queryRenderedFeatures(event.point, { layers: ['results'] })[0]?.properties?.key as string | undefined;
      setSelected(key ?? null);
      if (key) document.getElementById(`hit-${key}`)?.scrollIntoView({ block: 'nearest' });
    };
    map.on('click', pick);
    return () => {
      map.off('click', pick);
    };
  }, [map]);

  const focus = (hit: Hit) => {
    setSelected(hit.key);
    const box = bounds([hit.item.geometry as GeoJSON.Geometry | null]);
    if (map && box) map.flyTo({ center: [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], zoom: Math.max(map.getZoom(), 16), duration: 800 });
  };
  const pickArea = (next: Mode) => {
    setMode(next);
    setArea(null);
    draw.reset();
  };
  const startDrawing = () => {
    if (mode === 'unit') return;
    draw.start(SHAPES[mode], (geometry) => {
      const where = areaOfShape(mode, geometry);
      setArea(where);
      if (where && checked.length) run.mutate(where);
    });
  };

  const overlays: Overlay[] = [
    { id: 'results', kind: 'circle', color: '#ff7a45', data: resultFeatures(hits, colours) },
    { id: 'result-selected', kind: 'circle', color: '#fadb14', data: resultFeatures(hits.filter((h) => h.key === selected), colours) },
  ];
  const filterable = layers.filter((l) => checked.includes(l.name) && l.filters.length);

  return (
    <Row gutter={16}>
      <Col span={5}>
        <Typography.Title level={5}>{t('mapq.layers')}</Typography.Title>
        <Tree
          checkable
          defaultExpandAll
          data-testid="layer-tree"
          checkedKeys={checked}
          onCheck={(keys) => setChecked((Array.isArray(keys) ? keys : keys.checked).map(String).filter((k) => k !== 'all'))}
          treeData={[{
            key: 'all',
            title: t('common.all'),
            children: layers.map((l) => ({ key: l.name, title: <span style={{ color: colours[l.name] }}>● {l.title}</span> })),
          }]}
        />
        {filterable.map((layer) => (
          <div key={layer.name} style={{ marginTop: 12 }}>
            <Typography.Text strong>{layer.title}</Typography.Text>
            {layer.filters.map((name) => (
              <Input key={name} size="small" addonBefore={name} allowClear style={{ marginTop: 4 }}
                value={filters[layer.name]?.[name] ?? ''}
                onChange={(e) => setFilters({ ...filters, [layer.name]: { ...filters[layer.name], [name]: e.target.value } })} />
            ))}
          </div>
        ))}
      </Col>
      <Col span={12}>
        <Space wrap style={{ marginBottom: 12 }}>
          <Segmented<Mode> value={mode} onChange={pickArea} data-testid="area-mode"
            options={[
              { value: 'unit', label: t('mapq.unit') },
              { value: 'box', label: t('mapq.box') },
              { value: 'circle', label: t('mapq.circle') },
              { value: 'polygon', label: t('mapq.polygon') },
            ]} />
          {mode === 'unit' ? (
            <>
              <div style={{ width: 240 }}>
                <UnitPicker value={unitId} onChange={setUnitId} />
              </div>
              <Button type="primary" disabled={!unitId || !checked.length} data-testid="run-query"
                onClick={() => { if (unitId) { setArea({ unit_id: unitId }); run.mutate({ unit_id: unitId }); } }}>
                {t('mapq.run')}
              </Button>
            </>
          ) : (
            <Button type="primary" onClick={startDrawing} disabled={!map || draw.busy || !checked.length} data-testid="draw-area">
              {t('mapq.draw')}
            </Button>
          )}
          {area?.radius_m && <Tag>{`${t('mapq.radius')} ${area.radius_m} m`}</Tag>}
        </Space>
        {!checked.length && <Alert type="info" message={t('mapq.pickLayer')} style={{ marginBottom: 12 }} />}
        {run.isError && <Alert type="error" showIcon role="alert" message={run.error.message} style={{ marginBottom: 12 }} />}
        <MapView tileLayers={layers.map((l) => ({ layer: l.name, color: colours[l.name] ?? '#1677ff' }))} overlays={overlays} height={560} onMap={setMap} />
        {draw.busy && <Typography.Text type="secondary">{t(`mapq.hint.${mode}` as 'mapq.hint.circle')}</Typography.Text>}
      </Col>
      <Col span={7}>
        <Typography.Title level={5}>{t('mapq.results')}</Typography.Title>
        {run.data && (
          <Space wrap style={{ marginBottom: 8 }} data-testid="result-totals">
            {Object.entries(run.data).map(([layer, result]) => (
              <Tag key={layer} color={colours[layer]}>{`${layers.find((l) => l.name === layer)?.title ?? layer} ${result.total}`}</Tag>
            ))}
          </Space>
        )}
        {!run.data && !run.isPending && <Empty description={t('mapq.none')} />}
        {(run.data || run.isPending) && (
          <List size="small" loading={run.isPending} dataSource={hits} data-testid="results"
            style={{ maxHeight: 520, overflow: 'auto' }}
            locale={{ emptyText: t('state.empty') }}
            renderItem={(hit) => (
              <List.Item id={`hit-${hit.key}`} onClick={() => focus(hit)} data-testid="result"
                style={{ cursor: 'pointer', background: hit.key === selected ? '#fffbe6' : undefined }}
                aria-selected={hit.key === selected}>
                <Space direction="vertical" size={0}>
                  <span><Tag color={colours[hit.layer]}>{layers.find((l) => l.name === hit.layer)?.title}</Tag>{itemLabel(hit.item)}</span>
                </Space>
              </List.Item>
            )} />
        )}
      </Col>
    </Row>
  );
}

export function MapQuery() {
  const { t } = useI18n();
  const layers = useQuery({ queryKey: ['map', 'layers'], queryFn: async () => ok(await api.GET('/api/v1/map/layers')) });
  return (
    <Card title={t('menu.map')} data-testid="map-query">
      <QueryState query={layers} isEmpty={(list) => list.length === 0}>
        {(list) => <QueryMap layers={list} />}
      </QueryState>
    </Card>
  );
}
