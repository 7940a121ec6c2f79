import type { components } from '../../api/schema';
import type { Overlay } from '../../map/MapView';
import type { Unit } from './units';

export type Score = components['schemas']['ScoreOut'];

export const BAND_COLOURS: Record<Score['band'], string> = { good: '#52c41a', pass: '#faad14', fail: '#ff4d4f' };

/** The assessed units drawn on the map, filled by their band (R-ASM-2). */
export function scoreOverlay(scores: Score[], units: Unit[]): Overlay {
  const byUnit = new Map(scores.filter((s) => s.unit_id).map((s) => [s.unit_id as string, s]));
  const features = units.flatMap((unit) => {
    const score = byUnit.get(unit.id);
    if (!score || !unit.geometry) return [];
    return [{
      type: 'Feature' as const,
      geometry: unit.geometry as unknown as GeoJSON.Geometry,
      properties: { name: unit.name, score: score.score, color: BAND_COLOURS[score.band] },
    }];
  });
  return { id: 'scores', kind: 'shaded', color: '#8c8c8c', data: { type: 'FeatureCollection', features } };
}
