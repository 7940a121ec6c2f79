import { useQuery } from '@tanstack/react-query';
import { Card, Col, List, Row, Statistic, Table, Tag, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router-dom';

import { api, authFetch, ok } from '../api/client';
import type { components } from '../api/schema';
import { Chart } from '../components/Chart';
import { ConditionalPoller, FeedFollower } from '../command/poll';
import { TrackPlayback } from '../command/TrackPlayback';
import { useAuth } from '../auth/auth';
import { ACTIONS, STATES, name } from '../events/vocab';
import { useI18n } from '../i18n/I18n';
import { MapView, type Overlay } from '../map/MapView';

type Summary = components['schemas']['CommandSummaryOut'];
type Change = components['schemas']['ChangeOut'];

// Every screen polls this often; 304s keep it cheap (R-CMD-1).
export const POLL_MS = 5000;

function usePolling() {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [feed, setFeed] = useState<Change[]>([]);
  const [status, setStatus] = useState<{ at: Date; changed: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pollers = useRef({
    summary: new ConditionalPoller<Summary>('/api/v1/command-centre/summary', authFetch),
    feed: new FeedFollower<Change>(async (since) =>
      ok(await api.GET('/api/v1/changes', { params: { query: { since: since ?? undefined, limit: 500 } } })),
    ),
  });
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const [board, changes] = await Promise.all([pollers.current.summary.poll(), pollers.current.feed.poll()]);
        if (stopped) return;
        setSummary(board.data);
        setFeed(changes.items);
        setStatus({ at: new Date(), changed: board.changed });
        setError(null);
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  return { summary, feed, status, error };
}

/** The grids' outlines: the base map is the platform's own layers. */
function useGridOutlines(): Overlay | null {
  const grids = useQuery({
    queryKey: ['grids', 'outlines'],
    queryFn: async () => ok(await api.GET('/api/v1/grids', { params: { query: { limit: 500 } } })),
    staleTime: 10 * 60_000,
  });
  return useMemo(() => {
    if (!grids.data) return null;
    const features = grids.data.items.flatMap((grid) =>
      'geometry' in grid && grid.geometry
        ? [{ type: 'Feature' as const, geometry: grid.geometry as unknown as GeoJSON.Geometry, properties: { name: grid.name } }]
        : [],
    );
    return { id: 'grids', kind: 'fill', color: '#3c89e8', data: { type: 'FeatureCollection', features } };
  }, [grids.data]);
}

const dark = { background: '#0f2540', color: '#e6f4ff', border: '1px solid #1d3b5f' };

export function CommandCentre() {
  const { t, lang } = useI18n();
  const { summary, feed, status, error } = usePolling();
  const { can } = useAuth();
  const [trackOverlays, setTrackOverlays] = useState<Overlay[]>([]);
  const onTrack = useCallback((next: Overlay[]) => setTrackOverlays(next), []);
  const grids = useGridOutlines();
  const overlays = useMemo<Overlay[]>(
    () =>
      summary
        ? [
            ...(grids ? [grids] : []),
            {
              id: 'workers',
              kind: 'circle',
              color: '#36cfc9',
              data: {
                type: 'FeatureCollection',
                features: summary.workers.map((w) => ({
                  type: 'Feature',
                  geometry: w.location as unknown as GeoJSON.Point,
                  properties: { name: w.full_name },
                })),
              },
            },
            ...trackOverlays,
          ]
        : [],
    [summary, grids, trackOverlays],
  );
  const statesOption = useMemo(
    () => ({
      tooltip: {},
      textStyle: { color: '#e6f4ff' },
      xAxis: { type: 'category', data: Object.keys(summary?.states ?? {}).map((s) => name(STATES, s, lang)) },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: Object.values(summary?.states ?? {}), itemStyle: { color: '#1677ff' } }],
    }),
    [summary, lang],
  );
  return (
    <div style={{ background: '#071526', minHeight: '100vh', padding: 16 }} data-testid="command-centre">
      <Row justify="space-between" align="middle" style={{ marginBottom: 12 }}>
        <Typography.Title level={3} style={{ color: '#e6f4ff', margin: 0 }}>
          {t('cmd.title')}
        </Typography.Title>
        <Typography.Text style={{ color: '#8fb3d9' }} data-testid="poll-status">
          {error ?? (status ? `${t('cmd.updated')} ${status.at.toLocaleTimeString()}${status.changed ? '' : ` · ${t('cmd.unchanged')}`}` : '…')}
        </Typography.Text>
        <Link to="/workbench">{t('cmd.exit')}</Link>
      </Row>
      <Row gutter={12}>
        {(
          [
            ['cmd.open', summary?.open, 'stat-open'],
            ['cmd.red', summary?.red_events.length, 'stat-red'],
            ['cmd.overdue', summary?.units.reduce((sum, u) => sum + u.overdue, 0), 'stat-overdue'],
            ['cmd.workers', summary?.workers_on_duty, 'stat-workers'],
          ] as const
        ).map(([label, value, testId]) => (
          <Col span={6} key={label}>
            <Card style={dark}>
              <Statistic
                title={<span style={{ color: '#8fb3d9' }}>{t(label)}</span>}
                value={value ?? '—'}
                valueStyle={{ color: '#e6f4ff' }}
                data-testid={testId}
              />
            </Card>
          </Col>
        ))}
      </Row>
      <Row gutter={12} style={{ marginTop: 12 }}>
        <Col span={16}>
          <Card title={<span style={{ color: '#e6f4ff' }}>{t('cmd.map')}</span>} style={dark}>
            <MapView tileLayers={[{ layer: 'events', color: '#ff4d4f' }]} overlays={overlays} height={420} />
          </Card>
        </Col>
        <Col span={8}>
          <Card title={<span style={{ color: '#e6f4ff' }}>{t('cmd.feed')}</span>} style={{ ...dark, height: '100%' }}>
            <List
              data-testid="live-feed"
              size="small"
              dataSource={feed}
              locale={{ emptyText: t('state.empty') }}
              style={{ maxHeight: 400, overflow: 'auto' }}
              renderItem={(change) => (
                <List.Item style={{ color: '#e6f4ff' }}>
                  <Link to={`/events/${change.event_id}`}>{change.service_no}</Link>
                  <Tag>{name(ACTIONS, change.action, lang)}</Tag>
                  <span>{name(STATES, change.to_state, lang)}</span>
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
      <Row gutter={12} style={{ marginTop: 12 }}>
        <Col span={8}>
          <Card title={<span style={{ color: '#e6f4ff' }}>{t('cmd.states')}</span>} style={dark}>
            <Chart option={statesOption} height={260} />
          </Card>
        </Col>
        <Col span={8}>
          <Card title={<span style={{ color: '#e6f4ff' }}>{t('cmd.units')}</span>} style={dark}>
            <Table
              size="small"
              rowKey="unit_id"
              pagination={false}
              dataSource={summary?.units ?? []}
              scroll={{ y: 220 }}
              data-testid="unit-table"
              columns={[
                { title: t('cmd.unit'), dataIndex: 'name' },
                { title: t('cmd.open'), dataIndex: 'open' },
                { title: t('cmd.overdue'), dataIndex: 'overdue' },
                { title: t('cmd.red'), dataIndex: 'red' },
              ]}
            />
          </Card>
        </Col>
        <Col span={8}>
          <Card title={<span style={{ color: '#e6f4ff' }}>{t('cmd.red')}</span>} style={dark}>
            <List
              size="small"
              dataSource={summary?.red_events ?? []}
              locale={{ emptyText: t('state.empty') }}
              style={{ maxHeight: 120, overflow: 'auto' }}
              renderItem={(event) => (
                <List.Item>
                  <Link to={`/events/${event.id}`}>{event.service_no}</Link> <span style={{ color: '#ffa39e' }}>{event.title}</span>
                </List.Item>
              )}
            />
            <Typography.Text style={{ color: '#8fb3d9' }}>
              {t('cmd.notices')} ({summary?.notices.unread ?? 0})
            </Typography.Text>
            <List
              size="small"
              dataSource={summary?.notices.latest ?? []}
              renderItem={(notice) => <List.Item style={{ color: '#e6f4ff' }}>{notice.title}</List.Item>}
            />
          </Card>
          {can('track:read') && (
            <Card title={<span style={{ color: '#e6f4ff' }}>{t('cmd.track')}</span>} style={{ ...dark, marginTop: 12 }}>
              <TrackPlayback workers={summary?.workers ?? []} onOverlays={onTrack} />
            </Card>
          )}
        </Col>
      </Row>
    </div>
  );
}
