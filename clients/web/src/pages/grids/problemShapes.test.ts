import { describe, expect, it } from 'vitest';

import { ApiError } from '../../api/client';
import { problemShapes } from './problemShapes';

const square: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] };

describe('problemShapes (R-GRID-1)', () => {
  it('fills every overlap a refused grid names', () => {
    const error = new ApiError({
      status: 422,
      code: 'grid_overlap',
      geometry: square,
      overlaps: [
        { grid_id: 'a', code: '1', area_m2: 10, geometry: square },
        { grid_id: 'b', code: '2', area_m2: 5, geometry: { type: 'GeometryCollection', geometries: [square, { type: 'Point', coordinates: [2, 2] }] } },
      ],
    });
    const shapes = problemShapes(error);
    expect(shapes.areas.features.map((f) => f.properties?.code)).toEqual(['1', '2']);
    expect(shapes.points.features).toHaveLength(1);
  });

  it('marks the self-intersection point of an invalid polygon', () => {
    const error = new ApiError({ status: 422, code: 'geometry_invalid', geometry: { type: 'Point', coordinates: [1, 2] } });
    const shapes = problemShapes(error);
    expect(shapes.areas.features).toHaveLength(0);
    expect(shapes.points.features[0]?.geometry).toEqual({ type: 'Point', coordinates: [1, 2] });
  });

  it('draws nothing for an error without a place', () => {
    expect(problemShapes(new ApiError({ status: 409, code: 'grid_has_records' })).areas.features).toHaveLength(0);
    expect(problemShapes(new Error('network')).points.features).toHaveLength(0);
  });
});
