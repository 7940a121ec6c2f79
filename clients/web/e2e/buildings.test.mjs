// 以房找人 (R-MAP-3): from a building to its rooms to a resident, personal fields masked as
// the server returns them to a grid worker (no pii:read, R-JUR-3).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn, token } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

/** An address of the worker's whose first rooms have someone living in them. */
async function inhabited(auth) {
  const addresses = (await (await fetch(`${BASE}/api/v1/addresses?limit=50`, { headers: auth })).json()).items;
  for (const address of addresses) {
    const view = await (await fetch(`${BASE}/api/v1/addresses/${address.id}/building?limit=50`, { headers: auth })).json();
    const room = view.rooms.items.find((r) => r.residents.length > 0);
    if (room) return { address, room };
  }
  throw new Error('no inhabited address in the demo data');
}

test('drilling from a building through its rooms to a resident', async () => {
  const { address, room } = await inhabited({ Authorization: `Bearer ${await token('grid_worker')}` });
  const page = await signIn(browser, 'grid_worker');
  await page.goto(`${BASE}/buildings`);
  const list = page.getByTestId('addresses');
  await list.locator('tbody tr.ant-table-row').first().waitFor();
  await page.getByPlaceholder('搜索').fill(address.full_text);
  await page.getByPlaceholder('搜索').press('Enter');
  await list.getByText(address.full_text, { exact: true }).first().click();

  const building = page.getByTestId('building-detail');
  const rooms = building.getByTestId('rooms');
  await rooms.locator('tbody tr.ant-table-row').first().waitFor();
  await rooms.locator(`tr[data-row-key="${room.id}"]`).click();
  const residents = building.getByTestId('residents').first();
  const resident = room.residents[0];
  await residents.getByText(resident.name).first().waitFor();
  await shot(page, 'buildings');
  // The ID number as the server sent it: masked for a worker without pii:read.
  const shown = await residents.locator('tbody tr', { hasText: resident.name }).first().innerText();
  assert.ok(shown.includes(resident.id_number ?? '—'), shown);
  assert.ok((resident.id_number ?? '*').includes('*'), resident.id_number);

  await residents.getByText(resident.name).first().click();
  const detail = page.getByTestId('resident-detail');
  await detail.getByText('id_number').waitFor();
  assert.ok(!/\d{17}[\dX]/.test(await detail.innerText()));
  await shot(page, 'resident');
  await page.context().close();
});
