// The shapes a refused grid edit names (R-GRID-1), split into areas and points so the map
// can fill the one and mark the other.
import { ApiError } from '../../api/client';

export interface ProblemShapes {
  areas: GeoJSON.FeatureCollection;
  points: GeoJSON.FeatureCollection;
}

const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
export const NO_SHAPES: ProblemShapes = { areas: EMPTY, points: EMPTY };

function parts(geometry: GeoJSON.Geometry): GeoJSON.Geometry[] {
  return geometry.type === 'GeometryCollection' ? geometry.geometries.flatMap(parts) : [geometry];
}

export function problemShapes(error: unknown): ProblemShapes {
  if (!(error instanceof ApiError)) return NO_SHAPES;
  const { geometry, overlaps } = error.problem;
  const named = overlaps?.length
    ? overlaps.map((o) => ({ geometry: o.geometry, properties: { code: o.code, area_m2: o.area_m2 } }))
    : [{ geometry: geometry ?? null, properties: {} }];
  const features = named.flatMap(({ geometry: g, properties }) =>
    g ? parts(g).map((part): GeoJSON.Feature => ({ type: 'Feature', geometry: part, properties })) : [],
  );
  const isPoint = (f: GeoJSON.Feature) => f.geometry.type === 'Point' || f.geometry.type === 'MultiPoint';
  return {
    areas: { type: 'FeatureCollection', features: features.filter((f) => !isPoint(f)) },
    points: { type: 'FeatureCollection', features: features.filter(isPoint) },
  };
}
