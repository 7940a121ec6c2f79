// Drawing on a MapView with terra-draw: polygons (new grids, polygon queries), lines (split
// cuts), rectangles and circles (map queries), and vertex editing of an existing polygon.
import type maplibregl from 'maplibre-gl';
import { useEffect, useRef, useState } from 'react';
import {
  TerraDraw,
  TerraDrawCircleMode,
  TerraDrawLineStringMode,
  TerraDrawPolygonMode,
  TerraDrawRectangleMode,
  TerraDrawSelectMode,
  type GeoJSONStoreFeatures,
} from 'terra-draw';
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter';

export type DrawShape = 'polygon' | 'linestring' | 'rectangle' | 'circle';

export interface Draw {
  /** Draw one shape; `onDone` gets it when finished (earlier drawings are cleared). */
  start: (shape: DrawShape, onDone: (geometry: GeoJSON.Geometry) => void) => void;
  /** Put a polygon on the map with draggable vertices (and midpoints to insert more). */
  edit: (id: string, polygon: GeoJSON.Polygon) => void;
  /** The edited polygon as it stands now. */
  edited: (id: string) => GeoJSON.Polygon | null;
  /** Stop drawing or editing and take everything drawn off the map. */
  reset: () => void;
  busy: boolean;
}

function modes() {
  return [
    new TerraDrawPolygonMode(),
    new TerraDrawLineStringMode(),
    new TerraDrawRectangleMode(),
    new TerraDrawCircleMode(),
    new TerraDrawSelectMode({
      flags: {
        polygon: { feature: { draggable: false, coordinates: { midpoints: true, draggable: true, deletable: true } } },
      },
    }),
  ];
}

export function useDraw(map: maplibregl.Map | null): Draw {
  const draw = useRef<TerraDraw | null>(null);
  const done = useRef<((geometry: GeoJSON.Geometry) => void) | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!map) return;
    const instance = new TerraDraw({ adapter: new TerraDrawMapLibreGLAdapter({ map }), modes: modes() });
    instance.start();
    instance.on('finish', (id, context) => {
      // Vertex drags in select mode finish too; only a newly drawn shape ends a drawing.
      if (context.action !== 'draw') return;
      const feature = instance.getSnapshotFeature(id);
      const callback = done.current;
      done.current = null;
      instance.setMode('static');
      setBusy(false);
      if (feature && callback) callback(feature.geometry as GeoJSON.Geometry);
    });
    draw.current = instance;
    return () => {
      instance.stop();
      draw.current = null;
    };
  }, [map]);
  const reset = () => {
    const instance = draw.current;
    if (!instance) return;
    done.current = null;
    instance.setMode('static');
    instance.clear();
    setBusy(false);
  };
  return {
    busy,
    reset,
    start: (shape, onDone) => {
      reset();
      if (!draw.current) return;
      done.current = onDone;
      draw.current.setMode(shape);
      setBusy(true);
    },
    edit: (id, polygon) => {
      reset();
      const instance = draw.current;
      if (!instance) return;
      const feature: GeoJSONStoreFeatures = { id, type: 'Feature', geometry: polygon, properties: { mode: 'polygon' } };
      instance.addFeatures([feature]);
      instance.setMode('select');
      instance.selectFeature(id);
      setBusy(true);
    },
    edited: (id) => {
      const geometry = draw.current?.getSnapshotFeature(id)?.geometry;
      return geometry?.type === 'Polygon' ? (geometry as GeoJSON.Polygon) : null;
    },
  };
}

/** The centre and radius (metres) of a circle drawn as a polygon: the vertices' mean and the
 * great-circle distance to the first vertex. */
export function circleOf(polygon: GeoJSON.Polygon): { center: [number, number]; radius_m: number } {
  const ring = polygon.coordinates[0] ?? [];
  const vertices = ring.slice(0, -1);
  const lon = vertices.reduce((sum, p) => sum + (p[0] ?? 0), 0) / vertices.length;
  const lat = vertices.reduce((sum, p) => sum + (p[1] ?? 0), 0) / vertices.length;
  const first = vertices[0] ?? [lon, lat];
  return { center: [lon, lat], radius_m: Math.round(haversine([lon, lat], [first[0] ?? lon, first[1] ?? lat])) };
}

export function haversine(a: [number, number], b: [number, number]): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

/** [minLon, minLat, maxLon, maxLat] of any geometry, or null when it has no coordinates. */
export function bounds(geometries: (GeoJSON.Geometry | null | undefined)[]): [number, number, number, number] | null {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (value: unknown): void => {
    if (!Array.isArray(value)) return;
    if (typeof value[0] === 'number' && typeof value[1] === 'number') {
      box[0] = Math.min(box[0], value[0]);
      box[1] = Math.min(box[1], value[1]);
      box[2] = Math.max(box[2], value[0]);
      box[3] = Math.max(box[3], value[1]);
      return;
    }
    value.forEach(visit);
  };
  for (const geometry of geometries) {
    if (geometry && 'coordinates' in geometry) visit(geometry.coordinates);
  }
  return box[0] === Infinity ? null : box;
}
