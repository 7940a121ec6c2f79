import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';

export type Unit = components['schemas']['OrgUnitOut'];

/** The units and departments in jurisdiction, by id: assessment rows name them by id only. */
export function useNames() {
  const units = useQuery({
    queryKey: ['org-units', 'all'],
    queryFn: async () => ok(await api.GET('/api/v1/org-units', { params: { query: { limit: 500 } } })),
    staleTime: 10 * 60_000,
  });
  // Grids are listed apart from the other units.
  const grids = useQuery({
    queryKey: ['grids', 'all'],
    queryFn: async () => ok(await api.GET('/api/v1/grids', { params: { query: { limit: 500 } } })),
    staleTime: 10 * 60_000,
  });
  const departments = useQuery({
    queryKey: ['departments', 'all'],
    queryFn: async () => ok(await api.GET('/api/v1/departments', { params: { query: { limit: 200 } } })),
    staleTime: 10 * 60_000,
  });
  return useMemo(() => {
    const names = new Map<string, string>();
    for (const unit of units.data?.items ?? []) names.set(unit.id, unit.name);
    for (const grid of grids.data?.items ?? []) names.set(grid.id, grid.name);
    for (const department of departments.data?.items ?? []) names.set(department.id, department.name);
    return { names, units: units.data?.items ?? [] };
  }, [units.data, grids.data, departments.data]);
}
