/** The [west, south, east, north] box around a collection's coordinates, or null if empty. */
export function bounds(data: GeoJSON.FeatureCollection): [number, number, number, number] | null {
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
  for (const feature of data.features) if (feature.geometry && 'coordinates' in feature.geometry) visit(feature.geometry.coordinates);
  return box[0] === Infinity ? null : box;
}
