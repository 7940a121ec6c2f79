// Administration pages: an administrator creates a user and finds it listed (a bad username
// comes back as a field error first), verifies the audit chain (R-AUD-1), issues an API key
// whose secret is shown once (R-API-1); a role without the permission cannot open the pages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('an administrator creates a user and sees it listed; a bad username is a field error', async () => {
  const username = `e2e_${Date.now()}`;
  const page = await signIn(browser, 'admin');
  await page.goto(`${BASE}/admin/users`);
  await page.getByTestId('user-list').locator('tbody tr').first().waitFor();
  await page.getByTestId('add-user').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('用户名').fill('bad name!');
  await dialog.getByLabel('密码').fill('secret-pass-1');
  await dialog.getByLabel('姓名').fill('测试用户');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await dialog.locator('.ant-form-item-has-error').getByLabel('用户名').waitFor();
  await dialog.getByRole('alert').waitFor();
  await shot(page, 'admin-user-refused');

  await dialog.getByLabel('用户名').fill(username);
  await dialog.getByLabel('所属单位').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '喀什市' }).first().click();
  await dialog.locator('.ant-select-selection-item', { hasText: '喀什市' }).waitFor();
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByTestId('user-search').fill(username);
  await page.getByTestId('user-search').press('Enter');
  const row = page.getByTestId('user-list').locator('tbody tr', { hasText: username });
  await row.waitFor();
  assert.match(await row.innerText(), /测试用户/);
  await row.click();
  await page.getByTestId('detail').getByText(username).waitFor();
  await shot(page, 'admin-users');
  await page.context().close();
});

test('the audit page verifies the hash chain and lists the entries', async () => {
  const page = await signIn(browser, 'auditor');
  await page.goto(`${BASE}/admin/audit`);
  await page.getByTestId('audit-list').locator('tbody tr').first().waitFor();
  await page.getByTestId('verify-chain').click();
  const report = page.getByTestId('chain-report');
  await report.waitFor();
  assert.match(await report.innerText(), /审计链完整/);
  assert.match(await report.innerText(), /记录数: [1-9]/);
  await shot(page, 'admin-audit');
  await page.context().close();
});

test('an API key is issued with its secret shown once, then revoked', async () => {
  const agency = `市应急局 ${Date.now()}`;
  const page = await signIn(browser, 'admin');
  await page.goto(`${BASE}/admin/api-keys`);
  await page.getByTestId('issue-key').click();
  const dialog = page.getByRole('dialog');
  // The key's unit starts as the administrator's own.
  await dialog.getByLabel('接入单位').fill(agency);
  await dialog.getByLabel('授权操作').click();
  await page.keyboard.type('event:read');
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option-content').getByText('event:read', { exact: true }).click();
  await dialog.getByLabel('接入单位').click();
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  const secret = page.getByTestId('key-secret');
  await secret.waitFor();
  assert.ok((await secret.innerText()).trim().length >= 20);
  await shot(page, 'admin-api-key-secret');
  await page.getByRole('dialog').getByRole('button', { name: /确\s*定|OK/ }).click();
  await secret.waitFor({ state: 'detached' });
  const row = page.getByTestId('key-list').locator('tbody tr', { hasText: agency });
  await row.click();
  await page.getByTestId('revoke-key').click();
  const revoke = page.getByRole('dialog').filter({ hasText: '吊销' });
  await revoke.getByLabel('理由').fill('对接结束');
  await revoke.getByRole('button', { name: /提\s*交/ }).click();
  await row.getByText('revoked').waitFor();
  await shot(page, 'admin-api-keys');
  await page.context().close();
});

test('an administrator declares a working day and opens a department', async () => {
  const page = await signIn(browser, 'admin');
  const day = `${new Date().getFullYear()}-12-26`;
  await page.goto(`${BASE}/admin/calendar`);
  await page.getByTestId('set-day').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('日期').fill(day);
  await dialog.getByLabel('日期').press('Enter');
  // The kind starts as a day off; its shown value covers the search input.
  await dialog.locator('.ant-form-item', { hasText: '类型' }).locator('.ant-select-selector').click();
  await page.locator('.ant-select-dropdown:visible').getByText('调休上班', { exact: true }).click();
  await dialog.getByLabel('名称').fill('年终调休');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  const row = page.getByTestId('calendar-list').locator('tbody tr', { hasText: day });
  await row.getByText('年终调休').waitFor();
  assert.match(await row.innerText(), /调休上班[\s\S]*admin/);

  // Codes sort first with a leading digit, so the new department heads the first page.
  const code = `0e2e${Date.now() % 1_000_000}`;
  await page.goto(`${BASE}/admin/departments`);
  await page.getByTestId('add-department').click();
  await dialog.getByLabel('所属单位').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '喀什市' }).first().click();
  await dialog.getByLabel('编码').fill(code);
  await dialog.getByLabel('名称').fill('测试应急办');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await page.getByTestId('department-list').locator('tbody tr', { hasText: code }).getByText('测试应急办').waitFor();
  await page.context().close();
});

test('every administration page renders its list for the administrator', async () => {
  const page = await signIn(browser, 'admin');
  const pages = {
    roles: 'role-list',
    departments: 'department-list',
    dictionaries: 'dictionary-list',
    calendar: 'calendar-list',
    'routing-rules': 'rule-list',
  };
  for (const [path, list] of Object.entries(pages)) {
    await page.goto(`${BASE}/admin/${path}`);
    await page.getByTestId(list).waitFor();
    await shot(page, `admin-${path}`);
  }
  await page.context().close();
});

test('a grid worker cannot open an administration page', async () => {
  const page = await signIn(browser, 'grid_worker');
  await page.goto(`${BASE}/admin/users`);
  await page.waitForURL((url) => !url.pathname.startsWith('/admin'));
  assert.equal(await page.getByTestId('user-list').count(), 0);
  await page.context().close();
});
