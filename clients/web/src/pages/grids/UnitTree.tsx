// The org-unit tree from the caller's own unit down (R-ORG-1): children load as a node opens,
// a search lists matching units flat instead.
import { useQueries, useQuery } from '@tanstack/react-query';
import { Input, List, Tree } from 'antd';
import type { DataNode } from 'antd/es/tree';
import { useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { QueryState } from '../../components/QueryState';
import { useI18n } from '../../i18n/I18n';

export type Unit = components['schemas']['OrgUnitOut'];

async function children(parentId: string): Promise<Unit[]> {
  return ok(await api.GET('/api/v1/org-units', { params: { query: { parent_id: parentId, limit: 500 } } })).items;
}

export function useUnit(id: string | null | undefined) {
  return useQuery({
    queryKey: ['org-units', 'one', id],
    queryFn: async () => ok(await api.GET('/api/v1/org-units/{unit_id}', { params: { path: { unit_id: id ?? '' } } })),
    enabled: !!id,
  });
}

export function UnitTree({ rootId, selectedId, onSelect }: { rootId: string; selectedId?: string; onSelect: (unit: Unit) => void }) {
  const { t } = useI18n();
  const [expanded, setExpanded] = useState<string[]>([rootId]);
  const [q, setQ] = useState('');
  const root = useUnit(rootId);
  const opened = useQueries({
    queries: expanded.map((id) => ({ queryKey: ['org-units', 'children', id], queryFn: () => children(id) })),
  });
  const found = useQuery({
    queryKey: ['org-units', 'search', q],
    queryFn: async () => ok(await api.GET('/api/v1/org-units', { params: { query: { q, limit: 100 } } })).items,
    enabled: !!q,
  });
  const known = new Map<string, Unit[]>(expanded.map((id, i) => [id, opened[i]?.data ?? []]));
  const byId = new Map<string, Unit>();
  const node = (unit: Unit): DataNode => {
    byId.set(unit.id, unit);
    const kids = known.get(unit.id);
    return {
      key: unit.id,
      title: <span data-testid={`unit-${unit.code}`}>{unit.name}</span>,
      isLeaf: unit.level === 'grid',
      children: kids?.map(node),
    };
  };
  return (
    <>
      <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ marginBottom: 8 }} />
      {q ? (
        <QueryState query={found} isEmpty={(units) => units.length === 0}>
          {(units) => (
            <List size="small" dataSource={units}
              renderItem={(unit) => (
                <List.Item onClick={() => onSelect(unit)} style={{ cursor: 'pointer' }}>
                  {unit.name}（{unit.code}）
                </List.Item>
              )} />
          )}
        </QueryState>
      ) : (
        <QueryState query={root}>
          {(unit) => (
            <Tree
              data-testid="unit-tree"
              treeData={[node(unit)]}
              expandedKeys={expanded}
              selectedKeys={selectedId ? [selectedId] : []}
              onExpand={(keys) => setExpanded(keys.map(String))}
              // Opening a node adds it to `expanded`, whose query brings its children.
              loadData={async () => undefined}
              onSelect={(keys) => {
                const picked = byId.get(String(keys[0]));
                if (picked) onSelect(picked);
              }}
            />
          )}
        </QueryState>
      )}
    </>
  );
}
