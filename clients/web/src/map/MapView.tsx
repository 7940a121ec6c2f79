import { Alert } from 'antd';
import maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import { useEffect, useRef, useState } from 'react';

import { load } from '../api/session';
import { bounds } from './bounds';
import { useI18n } from '../i18n/I18n';

// No map service on the internet is reachable: the base is the platform's own layers, with
// an optional raster tile URL (`VITE_BASEMAP_URL` at build time, or localStorage
// `grid.basemap`, e.g. an intranet tile server's `https://…/{z}/{x}/{y}.png`).
function basemapUrl(): string | null {
  return localStorage.getItem('grid.basemap') ?? (import.meta.env.VITE_BASEMAP_URL as string | undefined) ?? null;
}

export interface Overlay {
  id: string;
  data: GeoJSON.FeatureCollection;
  // 'fill' outlines polygons; 'area' also fills them (translucent), for shapes to pick out;
  // 'shaded' fills them with each feature's `color` property (a choropleth, e.g. units by
  // assessment score), `color` where a feature has none.
  kind: 'fill' | 'area' | 'shaded' | 'circle';
  color: string;
}

export interface MapViewProps {
  // Vector-tile layers of the API (`/api/v1/map/tiles/{layer}/…`) drawn as circles.
  tileLayers: { layer: string; color: string }[];
  overlays: Overlay[];
  center?: [number, number];
  zoom?: number;
  height?: number | string;
  // The map once loaded, for pages that draw on it, fly or listen to clicks.
  onMap?: (map: maplibregl.Map) => void;
  // The overlay whose features the view fits once they arrive (e.g. the assessed units).
  fitTo?: string;
}

function style(tileLayers: MapViewProps['tileLayers']): maplibregl.StyleSpecification {
  const sources: maplibregl.StyleSpecification['sources'] = {};
  const layers: maplibregl.LayerSpecification[] = [
    { id: 'background', type: 'background', paint: { 'background-color': '#0b1d33' } },
  ];
  const base = basemapUrl();
  if (base) {
    sources.base = { type: 'raster', tiles: [base], tileSize: 256 };
    layers.push({ id: 'base', type: 'raster', source: 'base' });
  }
  for (const { layer, color } of tileLayers) {
    sources[layer] = {
      type: 'vector',
      tiles: [`${location.origin}/api/v1/map/tiles/${layer}/{z}/{x}/{y}.mvt`],
      minzoom: 0,
      maxzoom: 16,
    };
    layers.push({
      id: `tiles-${layer}`,
      type: 'circle',
      source: layer,
      'source-layer': layer,
      paint: {
        'circle-color': color,
        'circle-opacity': 0.8,
        'circle-radius': ['interpolate', ['linear'], ['coalesce', ['get', 'count'], 1], 1, 4, 100, 18],
      },
    });
  }
  return { version: 8, sources, layers };
}

function overlayLayers(overlay: Overlay): maplibregl.LayerSpecification[] {
  const { id, color } = overlay;
  if (overlay.kind === 'circle')
    return [
      {
        id,
        type: 'circle',
        source: id,
        paint: { 'circle-color': color, 'circle-radius': 6, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 },
      },
    ];
  if (overlay.kind === 'shaded')
    return [
      {
        id,
        type: 'fill',
        source: id,
        paint: { 'fill-color': ['coalesce', ['get', 'color'], color], 'fill-opacity': 0.6, 'fill-outline-color': '#ffffff' },
      },
    ];
  const outline: maplibregl.LayerSpecification = { id, type: 'line', source: id, paint: { 'line-color': color, 'line-width': 1 } };
  if (overlay.kind === 'fill') return [outline];
  return [
    { id: `${id}-fill`, type: 'fill', source: id, paint: { 'fill-color': color, 'fill-opacity': 0.3 } },
    { ...outline, paint: { 'line-color': color, 'line-width': 2 } },
  ];
}

export function MapView({ tileLayers, overlays, center = [75.99, 39.47], zoom = 11, height = 420, onMap, fitTo }: MapViewProps) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  const map = useRef<maplibregl.Map | null>(null);
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!ref.current) return;
    try {
      const instance = new maplibregl.Map({
        container: ref.current,
        style: style(tileLayers),
        center,
        zoom,
        attributionControl: false,
        // Tiles need the caller's token (jurisdiction applies to them too).
        transformRequest: (url) =>
          url.includes('/api/v1/map/tiles/') ? { url, headers: { Authorization: `Bearer ${load()?.access ?? ''}` } } : { url },
      });
      instance.on('load', () => {
        setReady(true);
        onMap?.(instance);
      });
      map.current = instance;
      return () => instance.remove();
    } catch {
      setFailed(true);
      return undefined;
    }
  }, []);
  useEffect(() => {
    const instance = map.current;
    if (!instance || !ready) return;
    for (const overlay of overlays) {
      const source = instance.getSource(overlay.id) as maplibregl.GeoJSONSource | undefined;
      if (source) {
        source.setData(overlay.data);
        continue;
      }
      instance.addSource(overlay.id, { type: 'geojson', data: overlay.data });
      for (const layer of overlayLayers(overlay)) instance.addLayer(layer);
    }
    const fitted = overlays.find((overlay) => overlay.id === fitTo);
    const box = fitted && bounds(fitted.data);
    if (box) instance.fitBounds(box, { padding: 16, animate: false });
  }, [overlays, ready, fitTo]);
  if (failed) return <Alert type="warning" message={t('map.unavailable')} />;
  // The overlays' feature counts, so tests can read what the map was given to draw.
  const drawn = overlays.map((overlay) => `${overlay.id}:${overlay.data.features.length}`).join(' ');
  return <div ref={ref} style={{ height, width: '100%', borderRadius: 6 }} data-testid="map" data-overlays={drawn} data-ready={ready || undefined} />;
}
