// Query areas from drawn shapes and query results as map features (R-MAP-1).
import { bounds, circleOf } from '../../map/draw';

export interface Area {
  unit_id?: string;
  bbox?: number[];
  center?: number[];
  radius_m?: number;
  polygon?: GeoJSON.Geometry;
}

export interface Hit {
  key: string;
  layer: string;
  item: Record<string, unknown>;
}

/** The query area of a shape drawn in the given mode: a box, a circle or the polygon itself. */
export function areaOfShape(mode: 'box' | 'circle' | 'polygon', geometry: GeoJSON.Geometry): Area | null {
  if (geometry.type !== 'Polygon') return null;
  if (mode === 'box') {
    const box = bounds([geometry]);
    return box ? { bbox: box } : null;
  }
  if (mode === 'circle') return circleOf(geometry);
  return { polygon: geometry };
}

// Result items are free-form per layer: the first naming field found is the label.
const LABELS = ['name', 'title', 'full_text', 'house_no', 'code', 'address', 'full_name'];

export function itemLabel(item: Record<string, unknown>): string {
  const field = LABELS.find((name) => typeof item[name] === 'string' && item[name]);
  return field ? String(item[field]) : String(item.id);
}

export function resultFeatures(hits: Hit[], colours: Record<string, string>): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: hits
      .filter((hit) => !!hit.item.geometry)
      .map((hit) => ({
        type: 'Feature',
        geometry: hit.item.geometry as GeoJSON.Geometry,
        properties: { key: hit.key, layer: hit.layer, colour: colours[hit.layer] ?? '#1677ff', label: itemLabel(hit.item) },
      })),
  };
}
