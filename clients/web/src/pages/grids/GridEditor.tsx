// Org units and grids: the unit tree beside a map of the chosen community's grids, drawn and
// reshaped, split and merged through the grid API (R-GRID-1, R-GRID-2); the server's refusals
// are drawn on the map; the history slider shows the layout as it stood then.
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Descriptions, Empty, Row, Slider, Space, Tag, Timeline, Typography } from 'antd';
import dayjs from 'dayjs';
import type maplibregl from 'maplibre-gl';
import { useEffect, useMemo, useRef, useState } from 'react';

import { api, ok } from '../../api/client';
import { useAuth } from '../../auth/auth';
import { QueryState } from '../../components/QueryState';
import { useI18n } from '../../i18n/I18n';
import { bounds, useDraw } from '../../map/draw';
import { MapView, type Overlay } from '../../map/MapView';
import { CreateGrid, MergeGrids, ReshapeGrid, SplitGrid } from './GridForms';
import { NO_SHAPES, problemShapes, type ProblemShapes } from './problemShapes';
import { UnitTree, useUnit, type Unit } from './UnitTree';
import { levelLabel, operationLabel } from './vocab';

type Pending =
  | { kind: 'create'; geometry: GeoJSON.Geometry }
  | { kind: 'split'; line: GeoJSON.Geometry }
  | { kind: 'merge' }
  | { kind: 'reshape'; geometry: GeoJSON.Polygon };

interface Refusal {
  message: string;
  shapes: ProblemShapes;
}

function collection(units: { id: string; code: string; name: string; geometry?: unknown }[]): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: units
      .filter((u) => !!u.geometry)
      .map((u) => ({ type: 'Feature', id: u.id, geometry: u.geometry as GeoJSON.Geometry, properties: { id: u.id, code: u.code, name: u.name } })),
  };
}

function useGrids(communityId: string | undefined, asOf: number | null) {
  return useQuery({
    queryKey: ['grids', 'of', communityId, asOf],
    queryFn: async () => {
      const query = { parent_id: communityId, limit: 500, as_of: asOf === null ? undefined : new Date(asOf).toISOString() };
      // Live grids and as-of versions share id, code, name and geometry: the map needs no more.
      return ok(await api.GET('/api/v1/grids', { params: { query } })).items as Unit[];
    },
    enabled: !!communityId,
  });
}

function History({ gridId }: { gridId: string }) {
  const { lang } = useI18n();
  const history = useQuery({
    queryKey: ['grids', 'history', gridId],
    queryFn: async () => ok(await api.GET('/api/v1/grids/{grid_id}/history', { params: { path: { grid_id: gridId } } })),
  });
  return (
    <QueryState query={history} isEmpty={(rows) => rows.length === 0}>
      {(rows) => (
        <Timeline
          style={{ marginTop: 16 }}
          items={rows.map((v) => ({
            children: `v${v.version} ${operationLabel(lang, v.operation)} · ${dayjs(v.valid_from).format('YYYY-MM-DD HH:mm')}${v.reason ? ` · ${v.reason}` : ''}`,
          }))}
        />
      )}
    </QueryState>
  );
}

export function GridEditor() {
  const { t, lang } = useI18n();
  const { me, can } = useAuth();
  const [selected, setSelected] = useState<Unit | null>(null);
  const [map, setMap] = useState<maplibregl.Map | null>(null);
  const draw = useDraw(map);
  const [asOf, setAsOf] = useState<number | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [reshaping, setReshaping] = useState(false);
  const parent = useUnit(selected?.level === 'grid' ? selected.parent_id : null);
  const community = selected?.level === 'grid' ? parent.data : selected;
  const grids = useGrids(community?.level === 'community' ? community.id : undefined, asOf);
  const shownGrids = useMemo(() => grids.data ?? [], [grids.data]);
  const grid = selected?.level === 'grid' ? (shownGrids.find((g) => g.id === selected.id) ?? null) : null;
  const editable = !!map && can('grid:write') && asOf === null && !reshaping && !draw.busy;
  const gridsRef = useRef(shownGrids);
  gridsRef.current = shownGrids;

  // Clicking a grid on the map selects it, as the tree does (not while drawing).
  const busyRef = useRef(false);
  busyRef.current = draw.busy || reshaping;
  useEffect(() => {
    if (!map) return;
    const pick = (event: maplibregl.MapLayerMouseEvent) => {
      const id = event.features?.[0]?.properties?.id as string | undefined;
      const found = gridsRef.current.find((g) => g.id === id);
      if (found && !busyRef.current) setSelected(found);
    };
    map.on('click', 'grids-fill', pick);
    return () => {
      map.off('click', 'grids-fill', pick);
    };
  }, [map]);

  // Fly to the chosen unit (or, for history, keep the view).
  const focus = selected?.level === 'grid' ? (grid?.geometry ?? selected.geometry) : community?.geometry;
  useEffect(() => {
    const box = bounds([focus as GeoJSON.Geometry | null]);
    if (map && box) map.fitBounds(box, { padding: 60, duration: 0, maxZoom: 17 });
  }, [map, selected?.id, !!focus]);

  const select = (unit: Unit) => {
    draw.reset();
    setReshaping(false);
    setRefusal(null);
    setSelected(unit);
  };
  const refuse = (error: unknown) => {
    setPending(null);
    setRefusal({ message: error instanceof Error ? error.message : String(error), shapes: problemShapes(error) });
  };
  const finish = (result: Unit | Unit[]) => {
    setPending(null);
    setRefusal(null);
    setReshaping(false);
    draw.reset();
    const first = Array.isArray(result) ? result[0] : result;
    if (first) setSelected(first);
  };
  const outcome = { onDone: finish, onShapeError: refuse, onClose: () => setPending(null) };

  const overlays: Overlay[] = [
    { id: 'community', kind: 'fill', color: '#bfbfbf', data: collection(community?.geometry ? [community] : []) },
    { id: 'grids', kind: 'area', color: '#1677ff', data: collection(shownGrids) },
    { id: 'grid-selected', kind: 'area', color: '#faad14', data: collection(grid && !reshaping ? [grid] : []) },
    { id: 'problem-areas', kind: 'area', color: '#ff4d4f', data: (refusal?.shapes ?? NO_SHAPES).areas },
    { id: 'problem-points', kind: 'circle', color: '#ff4d4f', data: (refusal?.shapes ?? NO_SHAPES).points },
  ];
  const since = community ? dayjs(community.created_at).valueOf() : Date.now();
  const now = useMemo(() => Date.now(), [community?.id]);
  const parentId = community?.level === 'community' ? community.id : null;

  return (
    <Card title={t('menu.grids')} data-testid="grid-editor">
      <Row gutter={16}>
        <Col span={6}>
          {me?.unit ? <UnitTree rootId={me.unit.id} selectedId={selected?.id} onSelect={select} /> : <Empty description={t('state.empty')} />}
        </Col>
        <Col span={18}>
          <Space wrap style={{ marginBottom: 12 }}>
            {can('grid:write') && (
              <>
                <Button type="primary" disabled={!editable || !parentId} data-testid="draw-grid"
                  onClick={() => { setRefusal(null); draw.start('polygon', (geometry) => setPending({ kind: 'create', geometry })); }}>
                  {t('grids.create')}
                </Button>
                <Button disabled={!editable || !grid}
                  onClick={() => { setRefusal(null); setReshaping(true); if (grid?.geometry) draw.edit(grid.id, grid.geometry as unknown as GeoJSON.Polygon); }}>
                  {t('grids.reshape')}
                </Button>
                <Button disabled={!editable || !grid}
                  onClick={() => { setRefusal(null); draw.start('linestring', (line) => setPending({ kind: 'split', line })); }}>
                  {t('grids.split')}
                </Button>
                <Button disabled={!editable || shownGrids.length < 2} onClick={() => { setRefusal(null); setPending({ kind: 'merge' }); }}>
                  {t('grids.merge')}
                </Button>
              </>
            )}
            {reshaping && grid && (
              <Button type="primary" onClick={() => {
                const geometry = draw.edited(grid.id);
                if (geometry) setPending({ kind: 'reshape', geometry });
              }}>
                {t('grids.saveShape')}
              </Button>
            )}
            {(draw.busy || reshaping) && (
              <Button onClick={() => { draw.reset(); setReshaping(false); }}>{t('common.cancel')}</Button>
            )}
          </Space>
          {refusal && (
            <Alert type="error" showIcon role="alert" data-testid="grid-problem" closable onClose={() => setRefusal(null)}
              message={refusal.message} style={{ marginBottom: 12 }}
              description={refusal.shapes.areas.features.length + refusal.shapes.points.features.length > 0 ? t('grids.problemOnMap') : undefined} />
          )}
          {!community && <Alert type="info" message={t('grids.pickUnit')} style={{ marginBottom: 12 }} />}
          {grids.isError && <Alert type="error" message={`${t('state.error')}: ${grids.error.message}`} style={{ marginBottom: 12 }} />}
          <MapView tileLayers={[]} overlays={overlays} height={520} onMap={setMap} />
          {draw.busy && !reshaping && <Typography.Text type="secondary">{t('grids.drawHint')}</Typography.Text>}
          {community && (
            <div style={{ marginTop: 12 }} data-testid="history-slider">
              <Space>
                <span>{t('grids.asOf')}</span>
                {asOf === null ? <Tag color="blue">{t('grids.now')}</Tag> : <Tag color="orange">{dayjs(asOf).format('YYYY-MM-DD HH:mm')}</Tag>}
              </Space>
              <Slider min={since} max={now} step={60_000} value={asOf ?? now}
                tooltip={{ formatter: (v) => (v === undefined ? '' : dayjs(v).format('YYYY-MM-DD HH:mm')) }}
                onChange={(v: number) => setAsOf(v >= now ? null : v)} />
            </div>
          )}
          {selected && (
            <Descriptions size="small" bordered column={3} style={{ marginTop: 12 }} title={selected.name}>
              <Descriptions.Item label={t('grids.code')}>{selected.code}</Descriptions.Item>
              <Descriptions.Item label={t('grids.level')}>{levelLabel(lang, selected.level)}</Descriptions.Item>
              <Descriptions.Item label={t('grids.version')}>{selected.version}</Descriptions.Item>
              {selected.level === 'community' && (
                <Descriptions.Item label={t('grids.count')}>{shownGrids.length}</Descriptions.Item>
              )}
              {selected.level === 'grid' && (
                <Descriptions.Item label={t('grids.householdTarget')}>{selected.household_target ?? '—'}</Descriptions.Item>
              )}
            </Descriptions>
          )}
          {selected?.level === 'grid' && <History gridId={selected.id} />}
        </Col>
      </Row>
      {pending?.kind === 'create' && parentId && <CreateGrid parentId={parentId} geometry={pending.geometry} {...outcome} />}
      {pending?.kind === 'split' && grid && <SplitGrid grid={grid} line={pending.line} {...outcome} />}
      {pending?.kind === 'merge' && <MergeGrids grids={shownGrids} first={grid ?? undefined} {...outcome} />}
      {pending?.kind === 'reshape' && grid && <ReshapeGrid grid={grid} geometry={pending.geometry} {...outcome} />}
    </Card>
  );
}
