import { useInfiniteQuery, type QueryKey } from '@tanstack/react-query';
import { Button, Table, type TableProps } from 'antd';

import { useI18n } from '../i18n/I18n';

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
  total?: number;
}

/** A keyset-paged list (API.md: `limit` + `cursor`), read page by page, its rows flattened. */
export function usePaged<T>(key: QueryKey, fetchPage: (cursor: string | undefined) => Promise<Page<T>>, enabled = true) {
  const query = useInfiniteQuery({
    queryKey: key,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled,
  });
  return { query, rows: query.data?.pages.flatMap((page) => page.items) ?? [], total: query.data?.pages[0]?.total };
}

export type Paged<T> = ReturnType<typeof usePaged<T>>;

/** A table over a paged list with its loading, empty and error states and "load more". */
export function PagedTable<T extends object>({ paged, ...props }: { paged: Paged<T> } & TableProps<T>) {
  const { t } = useI18n();
  const { query, rows } = paged;
  return (
    <>
      <Table<T>
        size="middle"
        pagination={false}
        loading={query.isPending && query.fetchStatus !== 'idle'}
        dataSource={rows}
        locale={{ emptyText: query.isError ? `${t('state.error')}: ${query.error.message}` : t('state.empty') }}
        {...props}
      />
      {query.hasNextPage && (
        <Button block onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage} style={{ marginTop: 12 }}>
          {t('common.more')}
        </Button>
      )}
    </>
  );
}

/** The If-Match header for a record read at `version` (412 when someone changed it since). */
export function ifMatch(version: number): Record<string, string> {
  return { 'If-Match': `"${version}"` };
}
