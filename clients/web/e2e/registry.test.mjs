// Registries and analysis pages: a bad ID number comes back as a field error on the form
// (R-POP-2); the analysis charts render for the caller's jurisdiction (R-ANA-1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

test('registering a person with a bad ID number shows the field error', async () => {
  const page = await signIn(browser, 'grid_worker');
  await page.goto(`${BASE}/people`);
  await page.getByRole('row').nth(1).waitFor();
  await shot(page, 'people');
  await page.getByTestId('add-person').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('所属网格').click();
  await page.locator('.ant-select-dropdown:visible').getByText('第1网格').first().click();
  await dialog.getByLabel('姓名').fill('测试人员');
  await dialog.getByLabel('身份证号').fill('653101199005170001');
  await dialog.getByLabel('无房原因').fill('借住');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  const field = dialog.locator('.ant-form-item-has-error');
  await field.getByLabel('身份证号').waitFor();
  assert.match(await field.locator('.ant-form-item-explain').innerText(), /身份证/);
  await page.context().close();
});

test('the analysis page charts events by region, type and trend', async () => {
  const page = await signIn(browser, 'leader');
  await page.goto(`${BASE}/analysis`);
  for (const chart of ['chart-region', 'chart-type', 'chart-trend']) {
    await page.getByTestId(chart).locator('canvas').first().waitFor();
  }
  await shot(page, 'analysis');
  await page.context().close();
});

test('the registries list houses and places with masking as the server returns it', async () => {
  const page = await signIn(browser, 'grid_worker');
  await page.goto(`${BASE}/registries`);
  await page.getByRole('tab', { name: '实有房屋' }).click();
  const houses = page.getByTestId('registry-houses');
  await houses.locator('tbody tr').first().waitFor();
  await shot(page, 'registries');
  // A grid worker holds no pii:read: owners' phones arrive masked.
  const phones = await houses.locator('tbody tr td:nth-child(4)').allInnerTexts();
  assert.ok(phones.some((phone) => phone.includes('*')), phones.join());
  assert.ok(phones.every((phone) => !/^1\d{10}$/.test(phone)), phones.join());
  await houses.locator('tbody tr').first().click();
  await page.locator('.ant-drawer').getByText('house_no').waitFor();
  await page.context().close();
});
