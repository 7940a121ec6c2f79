import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { I18nProvider } from '../i18n/I18n';
import { QueryState } from './QueryState';

function Probe({ fn }: { fn: () => Promise<string[]> }) {
  const query = useQuery({ queryKey: ['probe', fn], queryFn: fn, retry: false });
  return <QueryState query={query} isEmpty={(d) => d.length === 0}>{(d) => <p>{d.join(',')}</p>}</QueryState>;
}

function mount(fn: () => Promise<string[]>) {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <I18nProvider>
        <Probe fn={fn} />
      </I18nProvider>
    </QueryClientProvider>,
  );
}

describe('every page shows loading, error and empty states', () => {
  it('shows the data once loaded', async () => {
    mount(async () => ['甲', '乙']);
    expect(await screen.findByText('甲,乙')).toBeInTheDocument();
  });

  it('shows the empty state in Chinese', async () => {
    mount(async () => []);
    expect(await screen.findByText('暂无数据')).toBeInTheDocument();
  });

  it('shows the error with a retry button', async () => {
    mount(async () => {
      throw new Error('服务不可用');
    });
    expect(await screen.findByText('服务不可用')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /重\s*试/ })).toBeInTheDocument();
  });
});
