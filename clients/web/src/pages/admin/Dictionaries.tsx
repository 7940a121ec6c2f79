import { useQuery } from '@tanstack/react-query';
import { Card, Input, Select, Table } from 'antd';
import { useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { QueryState } from '../../components/QueryState';
import { useI18n } from '../../i18n/I18n';
import { Filters } from './kit';

type Subtype = components['schemas']['SubtypeOut'];

/** The shipped event category / sub-type dictionary (R-EVT-1), filtered by category or text. */
export function Dictionaries() {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [category, setCategory] = useState<string | undefined>();
  const subtypes = useQuery({
    queryKey: ['dictionaries', 'event_subtype'],
    queryFn: async () => ok(await api.GET('/api/v1/dictionaries/event_subtype')),
    staleTime: Infinity,
  });
  const categories = [...new Map((subtypes.data ?? []).map((s) => [s.category, s.category_name])).entries()];
  const matches = (s: Subtype) =>
    (!category || s.category === category) && (!q || s.code.includes(q) || s.name.includes(q));
  return (
    <Card title={t('menu.adm.dictionaries')}>
      <Filters>
        <Select value={category} onChange={setCategory} allowClear style={{ width: 200 }} placeholder={t('event.category')}
          options={categories.map(([value, label]) => ({ value, label }))} />
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 240 }} />
      </Filters>
      <QueryState query={subtypes} isEmpty={(data) => data.length === 0}>
        {(data) => (
          <Table<Subtype>
            rowKey={(s) => `${s.category}/${s.code}`}
            size="middle"
            data-testid="dictionary-list"
            dataSource={data.filter(matches)}
            pagination={{ pageSize: 50, hideOnSinglePage: true }}
            columns={[
              { title: t('event.category'), dataIndex: 'category_name' },
              { title: t('adm.code'), dataIndex: 'code' },
              { title: t('event.subtype'), dataIndex: 'name' },
            ]}
          />
        )}
      </QueryState>
    </Card>
  );
}
