import type { UseQueryResult } from '@tanstack/react-query';
import { Alert, Button, Empty, Spin } from 'antd';
import type { ReactNode } from 'react';

import { useI18n } from '../i18n/I18n';

/** Loading, error and empty states around a query's content, the same on every page. */
export function QueryState<T>({
  query,
  isEmpty,
  children,
}: {
  query: UseQueryResult<T>;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  const { t } = useI18n();
  if (query.isPending) return <Spin data-testid="loading" style={{ display: 'block', margin: 48 }} />;
  if (query.isError)
    return (
      <Alert
        type="error"
        showIcon
        message={t('state.error')}
        description={query.error.message}
        action={<Button onClick={() => void query.refetch()}>{t('state.retry')}</Button>}
      />
    );
  if (isEmpty?.(query.data)) return <Empty description={t('state.empty')} />;
  return <>{children(query.data)}</>;
}
