import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';

import { I18nProvider } from '../../i18n/I18n';
import { ChainReport } from './Audit';

afterEach(cleanup);

function show(report: Parameters<typeof ChainReport>[0]['report']) {
  render(
    <I18nProvider>
      <ChainReport report={report} />
    </I18nProvider>,
  );
  return screen.getByTestId('chain-report');
}

describe('the audit chain report (R-AUD-1)', () => {
  it('says the chain is intact with its length', () => {
    const alert = show({ intact: true, entries: 42, first_broken_id: null, tail_missing: false, head_id: 42 });
    expect(alert).toHaveTextContent('审计链完整');
    expect(alert).toHaveTextContent('记录数: 42');
  });

  it('names the first tampered entry', () => {
    const alert = show({ intact: false, entries: 42, first_broken_id: 17, tail_missing: false, head_id: 42 });
    expect(alert).toHaveTextContent('审计链被篡改，起始于 #17');
    expect(alert.className).toContain('ant-alert-error');
  });

  it('reports the newest entries missing', () => {
    expect(show({ intact: false, entries: 40, first_broken_id: null, tail_missing: true, head_id: 42 })).toHaveTextContent(
      '最新的审计记录缺失',
    );
  });
});
