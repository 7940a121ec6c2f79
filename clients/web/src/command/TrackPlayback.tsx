import { useQuery } from '@tanstack/react-query';
import { DatePicker, Empty, Select, Slider, Space, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';

import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { useI18n } from '../i18n/I18n';
import type { Overlay } from '../map/MapView';

type Worker = components['schemas']['WorkerOnDuty'];

/** Track playback of a worker's day (R-CMD-1): the day's line, and a marker the slider
 * moves along the recorded points. The overlays go to the command centre's map. */
export function TrackPlayback({ workers, onOverlays }: { workers: Worker[]; onOverlays: (overlays: Overlay[]) => void }) {
  const { t } = useI18n();
  const [userId, setUserId] = useState<string | undefined>();
  const [day, setDay] = useState<Dayjs>(dayjs());
  const [at, setAt] = useState(0);
  const track = useQuery({
    queryKey: ['track', userId, day.format('YYYY-MM-DD')],
    queryFn: async () =>
      ok(
        await api.GET('/api/v1/mobile/tracks/{user_id}', {
          params: { path: { user_id: userId! }, query: { day: day.format('YYYY-MM-DD') } },
        }),
      ),
    enabled: !!userId,
  });
  const points = track.data?.points ?? [];
  const current = points[Math.min(at, points.length - 1)];
  useEffect(() => {
    const features: GeoJSON.Feature[] = track.data?.line
      ? [{ type: 'Feature', geometry: track.data.line as unknown as GeoJSON.Geometry, properties: {} }]
      : [];
    onOverlays([
      { id: 'track-line', kind: 'fill', color: '#faad14', data: { type: 'FeatureCollection', features } },
      {
        id: 'track-here',
        kind: 'circle',
        color: '#faad14',
        data: {
          type: 'FeatureCollection',
          features: current ? [{ type: 'Feature', geometry: { type: 'Point', coordinates: [current.lon, current.lat] }, properties: {} }] : [],
        },
      },
    ]);
  }, [track.data, current, onOverlays]);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Select
          style={{ width: 200 }}
          placeholder={t('cmd.worker')}
          value={userId}
          onChange={(value) => {
            setUserId(value);
            setAt(0);
          }}
          options={workers.map((w) => ({ value: w.user_id, label: w.full_name }))}
          data-testid="track-worker"
        />
        <DatePicker value={day} onChange={(value) => value && setDay(value)} allowClear={false} />
      </Space>
      {userId && points.length === 0 && !track.isPending && <Empty description={t('state.empty')} />}
      {points.length > 0 && (
        <>
          <Slider min={0} max={points.length - 1} value={at} onChange={setAt} />
          <Typography.Text style={{ color: '#8fb3d9' }}>
            {current?.recorded_at.slice(11, 19)} · {Math.round(track.data?.distance_m ?? 0)} m
          </Typography.Text>
        </>
      )}
    </Space>
  );
}
