import { describe, expect, it } from 'vitest';

import { circleOf, haversine } from '../../map/draw';
import { areaOfShape, itemLabel, resultFeatures } from './results';

const ring = (points: [number, number][]): GeoJSON.Polygon => ({ type: 'Polygon', coordinates: [[...points, points[0] as [number, number]]] });

describe('query areas from drawn shapes (R-MAP-1)', () => {
  it('turns a rectangle into a bbox', () => {
    expect(areaOfShape('box', ring([[76, 39], [76.1, 39], [76.1, 39.2], [76, 39.2]]))).toEqual({ bbox: [76, 39, 76.1, 39.2] });
  });

  it('turns a drawn circle into centre and radius in metres', () => {
    // 64 vertices ~500 m around a centre, as a circle tool draws them.
    const centre: [number, number] = [75.99, 39.47];
    const points = Array.from({ length: 64 }, (_, i): [number, number] => {
      const angle = (2 * Math.PI * i) / 64;
      return [centre[0] + (0.0045 / Math.cos((centre[1] * Math.PI) / 180)) * Math.cos(angle), centre[1] + 0.0045 * Math.sin(angle)];
    });
    const area = circleOf(ring(points));
    expect(area.center[0]).toBeCloseTo(centre[0], 5);
    expect(area.center[1]).toBeCloseTo(centre[1], 5);
    expect(area.radius_m).toBeGreaterThan(490);
    expect(area.radius_m).toBeLessThan(510);
    expect(areaOfShape('circle', ring(points))).toEqual(area);
  });

  it('sends a polygon as drawn and refuses lines', () => {
    const polygon = ring([[0, 0], [1, 0], [1, 1]]);
    expect(areaOfShape('polygon', polygon)).toEqual({ polygon });
    expect(areaOfShape('polygon', { type: 'LineString', coordinates: [[0, 0], [1, 1]] })).toBeNull();
  });

  it('measures great-circle distance', () => {
    expect(haversine([0, 0], [0, 1])).toBeGreaterThan(111_000);
    expect(haversine([0, 0], [0, 1])).toBeLessThan(111_400);
  });
});

describe('results on the map', () => {
  it('labels items by their naming field and keys features by layer and id', () => {
    expect(itemLabel({ id: 'x', house_no: 'H-1', address: 'somewhere' })).toBe('H-1');
    expect(itemLabel({ id: 'x' })).toBe('x');
    const features = resultFeatures(
      [
        { key: 'people:1', layer: 'people', item: { id: '1', name: '张*', geometry: { type: 'Point', coordinates: [1, 2] } } },
        { key: 'houses:2', layer: 'houses', item: { id: '2', geometry: null } },
      ],
      { people: '#000' },
    );
    expect(features.features).toHaveLength(1);
    expect(features.features[0]?.properties).toMatchObject({ key: 'people:1', label: '张*', colour: '#000' });
  });
});
