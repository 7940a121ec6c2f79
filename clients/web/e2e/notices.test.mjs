// Notices (R-NOTE-1): a community's staff issue a notice; a grid worker below reads it
// among their notifications.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('a notice issued by the community reaches its grid worker', async () => {
  const title = `冬季消防安全排查 ${Date.now()}`;
  const staff = await signIn(browser, 'community_staff');
  await staff.goto(`${BASE}/notices`);
  await staff.getByTestId('issue-notice').click();
  const dialog = staff.getByRole('dialog');
  await dialog.getByLabel('标题').fill(title);
  await dialog.getByLabel('正文').fill('请于本周五前完成辖区消防通道排查。');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await staff.getByTestId('notice-list').getByText(title).waitFor();
  await shot(staff, 'notices');
  const worker = await signIn(browser, 'grid_worker');
  await worker.goto(`${BASE}/notifications`);
  await worker.getByText(title).waitFor();
  assert.equal(await worker.getByTestId('issue-notice').count(), 0);
  for (const page of [staff, worker]) await page.context().close();
});
