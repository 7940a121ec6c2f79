// The import wizard and the pool (R-IMP-1, R-IMP-2): download a registry's template, upload
// it filled in to the district, watch the progress, see the rejected rows, then claim the
// rows into a grid — the incomplete one fixed, then claimed; the duplicate compared and merged.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn, token } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const WEIGHTS = Array.from({ length: 17 }, (_, i) => 2 ** (17 - i) % 11);
/** A valid resident ID (GB 11643-1999) with the given sequence number. */
function residentId(sequence) {
  const first17 = `65310119880309${String(sequence).padStart(3, '0')}`;
  const total = [...first17].reduce((sum, digit, i) => sum + Number(digit) * WEIGHTS[i], 0);
  return first17 + '10X98765432'[total % 11];
}

async function pick(page, label, text) {
  await page.getByLabel(label).click();
  await page.locator('.ant-select-dropdown:visible').getByTitle(text, { exact: true }).first().click();
}

test('an import runs to done and its rows are claimed into a grid: the incomplete one fixed, the duplicate merged (R-IMP-2)', async () => {
  const auth = { Authorization: `Bearer ${await token('district_operator')}` };
  const grid = (await (await fetch(`${BASE}/api/v1/grids?limit=1`, { headers: auth })).json()).items[0];
  const page = await signIn(browser, 'district_operator');
  await page.goto(`${BASE}/imports`);
  await pick(page, '数据类别', '户籍人口');

  const [saved] = await Promise.all([page.waitForEvent('download'), page.getByTestId('template-csv').click()]);
  const headers = (await readFile(await saved.path(), 'utf8')).replace(/^\ufeff/, '').split(/\r?\n/)[0].split(',');
  assert.ok(headers.includes('证件号码') && headers.includes('网格编码'), headers.join());
  const row = (values) => headers.map((h) => values[h] ?? '').join(',');
  const good = residentId(501);
  const known = residentId(503);
  // Someone the grid has already: the file's row of them is a duplicate when claimed.
  const existing = await fetch(`${BASE}/api/v1/people`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ grid_id: grid.id, kind: 'registered', name: '导入丙', id_number: known, no_house_reason: '原有记录' }),
  });
  assert.equal(existing.status, 201, await existing.clone().text());
  const existingId = (await existing.json()).id;
  const csv = [
    headers.join(','),
    row({ 网格编码: grid.code, 姓名: '导入甲', 证件号码: good, 无房原因: '借住' }),
    // No reason for having no house: accepted into the pool, incomplete when claimed.
    row({ 网格编码: grid.code, 姓名: '导入乙', 证件号码: residentId(502) }),
    row({ 网格编码: grid.code, 姓名: '导入丙', 证件号码: known, 无房原因: '借住' }),
    // A wrong check digit: rejected at import.
    row({ 网格编码: grid.code, 姓名: '坏号', 证件号码: good.slice(0, -1) + (good.endsWith('0') ? '1' : '0') }),
  ].join('\n');

  const districts = page.getByLabel('导入区县');
  await districts.click();
  // By name: the registry picker's list may still be fading out, and it has options too.
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '喀什市' }).first().click();
  await page.locator('input[type=file]').setInputFiles({ name: '人口.csv', mimeType: 'text/csv', buffer: Buffer.from(`\ufeff${csv}\n`) });
  await page.getByTestId('upload').click();

  const progress = page.getByTestId('import-progress');
  await progress.getByTestId('import-state').getByText('done').waitFor({ timeout: 60_000 });
  const count = async (name) => (await progress.getByTestId(`import-${name}`).locator('.ant-statistic-content').innerText()).trim();
  assert.deepEqual([await count('read'), await count('accepted'), await count('rejected')], ['4', '3', '1']);
  const rejections = page.getByTestId('rejections');
  await rejections.locator('tbody tr').first().waitFor();
  assert.match(await rejections.locator('tbody').innerText(), /证件号码/);
  await shot(page, 'imports');

  await page.getByTestId('to-pool').click();
  const pool = page.getByTestId('pool');
  // Names arrive masked (the operator holds no pii:read): the rows go by their row numbers.
  await pool.locator('tbody tr.ant-table-row').nth(2).waitFor();
  assert.equal(await pool.locator('tbody tr.ant-table-row').count(), 3);
  await pool.locator('thead .ant-checkbox-input').check();
  await page.getByTestId('claim-grid').locator('.ant-select').click();
  await page.locator('.ant-select-dropdown:visible').getByText(`${grid.name}（${grid.code}）`).click();
  await page.getByTestId('claim').click();

  const succeeded = page.getByTestId('claim-succeeded');
  const failed = page.getByTestId('claim-failed');
  await succeeded.getByText(/（2）/).waitFor();
  await failed.getByText('信息不完整').waitFor();
  assert.match(await failed.innerText(), /（3）[\s\S]*无房原因/);
  await shot(page, 'import-claim');

  await failed.getByRole('button', { name: /修\s*正/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('无房原因').fill('集体宿舍');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await succeeded.getByText(/（3）/).waitFor();

  // The duplicate beside the grid's record, then merged into it.
  await failed.getByText('疑似重复').waitFor();
  await failed.getByRole('button', { name: /比\s*对/ }).click();
  const side = page.getByTestId('side-by-side');
  await side.getByText('原有记录').waitFor();
  assert.match(await side.locator('tr', { hasText: '无房原因' }).innerText(), /借住[\s\S]*原有记录/);
  await shot(page, 'import-compare');
  await page.getByTestId('merge').click();
  await succeeded.getByText(/（4）/).waitFor();
  assert.equal(await failed.locator('.ant-list-item').count(), 0);

  // Both are people of the grid now, the fixed field as corrected (read unmasked by the admin).
  const admin = { Authorization: `Bearer ${await token('admin')}` };
  const people = await (await fetch(`${BASE}/api/v1/people?q=${encodeURIComponent('导入乙')}&kind=registered`, { headers: admin })).json();
  assert.equal(people.items.length, 1);
  assert.equal(people.items[0].grid_id, grid.id);
  assert.equal(people.items[0].no_house_reason, '集体宿舍');
  const merged = await (await fetch(`${BASE}/api/v1/people/${existingId}`, { headers: admin })).json();
  assert.equal(merged.no_house_reason, '借住');
  await page.context().close();
});
