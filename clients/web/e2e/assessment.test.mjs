// Assessment (R-ASM-1 … R-ASM-5): the ledger with each line's cause linked, the scores with
// rankings and map colouring, the rule sets with their items.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('the ledger shows each line with its cause, which opens the event', async () => {
  const page = await signIn(browser, 'district_operator');
  await page.goto(`${BASE}/assessment`);
  const ledger = page.getByTestId('ledger');
  await ledger.locator('tbody tr.ant-table-row').first().waitFor();
  // Lines are ordered by period, then id: the first page need not hold one an event caused,
  // so the search asks for the lines whose reason names their event.
  const search = page.getByPlaceholder('搜索');
  await search.fill('（事件');
  await search.press('Enter');
  const cause = ledger.getByTestId('ledger-cause').first();
  await cause.waitFor();
  await shot(page, 'assessment-ledger');
  const href = await cause.getAttribute('href');
  assert.match(href ?? '', /^\/events\/[0-9a-f-]{36}$/);
  await cause.click();
  await page.waitForURL(`${BASE}${href}`);
  await page.getByText('处理环节').first().waitFor();
  await page.context().close();
});

test('the scores rank the units and colour them on the map; the rule sets list their items', async () => {
  const page = await signIn(browser, 'district_operator');
  await page.goto(`${BASE}/assessment?tab=scores`);
  const scores = page.getByTestId('scores');
  await scores.locator('tbody tr.ant-table-row').first().waitFor();
  assert.equal((await scores.locator('tbody tr.ant-table-row td').first().innerText()).trim(), '1');
  await page.getByTestId('chart-ranking').locator('canvas').first().waitFor();
  await page.getByTestId('map').waitFor();
  await shot(page, 'assessment-scores');

  await page.getByRole('tab', { name: '考核细则' }).click();
  const sets = page.getByTestId('rule-sets');
  await sets.locator('tbody tr.ant-table-row').first().waitFor();
  await sets.getByText('已启用').first().click();
  const detail = page.getByTestId('rule-set-detail');
  await detail.getByTestId('rule-item').first().waitFor();
  assert.ok((await detail.getByTestId('rule-item').count()) > 3);
  await detail.getByTestId('copy-rule-set').waitFor();
  await shot(page, 'assessment-rules');
  await page.context().close();
});
