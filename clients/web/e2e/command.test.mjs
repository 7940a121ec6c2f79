// The command centre (R-CMD-1): it polls the dashboard with If-None-Match (304 while nothing
// changes) and the change feed with a cursor, so a new event appears without a reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, reportByApi, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('the board answers 304 while unchanged and shows a new event live', async () => {
  const page = await signIn(browser, 'district_operator');
  const polls = [];
  page.on('response', (response) => {
    if (response.url().includes('/api/v1/command-centre/summary')) {
      polls.push({ status: response.status(), etag: response.headers()['etag'], sent: response.request().headers()['if-none-match'] });
    }
  });
  await page.goto(`${BASE}/command`);
  await page.getByTestId('poll-status').filter({ hasText: '更新于' }).waitFor();
  const open = Number((await page.getByTestId('stat-open').locator('.ant-statistic-content-value').innerText()).replace(/,/g, ''));
  // The next poll sends the ETag back and gets 304.
  await page.getByTestId('poll-status').filter({ hasText: '数据未变化' }).waitFor();
  const unchanged = polls.find((p) => p.status === 304);
  assert.ok(unchanged, JSON.stringify(polls));
  assert.equal(unchanged.sent, polls[0].etag);

  const event = await reportByApi('grid_worker', `指挥中心测试 ${Date.now()}`);
  await page.getByTestId('live-feed').getByText(event.service_no).waitFor({ timeout: 20_000 });
  await page
    .getByTestId('stat-open')
    .locator('.ant-statistic-content-value')
    .filter({ hasText: String(open + 1) })
    .waitFor({ timeout: 20_000 });
  const last = polls.at(-1);
  assert.ok(polls.some((p, i) => i > polls.indexOf(unchanged) && p.status === 200 && p.etag !== unchanged.etag));
  assert.ok(last);
  await shot(page, 'command-centre');
  await page.context().close();
});
