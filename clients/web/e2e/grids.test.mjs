// The grid editor: a grid drawn over its sibling is refused and the overlap is drawn on the
// map with the server's Chinese message (R-GRID-1); the history slider and unit tree render.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn, token } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

/** A grid covering the middle third of its bounding box, so a small square drawn at the
 * map's centre lies on it (and so inside its community). */
async function centredGrid(username) {
  const auth = { Authorization: `Bearer ${await token(username)}` };
  const { items } = await (await fetch(`${BASE}/api/v1/grids?limit=50`, { headers: auth })).json();
  for (const grid of items) {
    const ring = grid.geometry.coordinates[0];
    const lons = ring.map((p) => p[0]);
    const lats = ring.map((p) => p[1]);
    const [w, e, s, n] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
    const [lon, lat, dx, dy] = [(w + e) / 2, (s + n) / 2, (e - w) / 6, (n - s) / 6];
    let inside = true;
    for (const [x, y] of [[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy], [lon - dx, lat + dy]]) {
      const found = await fetch(`${BASE}/api/v1/grids/locate?lon=${x}&lat=${y}`, { headers: auth });
      inside &&= found.ok && (await found.json()).grid.id === grid.id;
    }
    if (inside) return grid;
  }
  throw new Error('no grid contains its own centre');
}

test('drawing a grid that overlaps its sibling shows the error on the map (R-GRID-1)', async () => {
  const sibling = await centredGrid('district_operator');
  const page = await signIn(browser, 'district_operator');
  await page.goto(`${BASE}/grids`);
  await page.getByTestId('unit-tree').waitFor();
  const search = page.getByTestId('grid-editor').getByPlaceholder('搜索');
  await search.fill(sibling.code);
  await search.press('Enter');
  await page.getByText(`${sibling.name}（${sibling.code}）`).click();
  const map = page.getByTestId('map');
  await page.locator('[data-testid="map"][data-overlays*="grid-selected:1"]').waitFor();
  await page.getByTestId('history-slider').waitFor();
  await page.waitForTimeout(500);

  await page.getByTestId('draw-grid').click();
  const box = await map.boundingBox();
  const [cx, cy, d] = [box.x + box.width / 2, box.y + box.height / 2, 30];
  for (const [x, y] of [[cx - d, cy - d], [cx + d, cy - d], [cx + d, cy + d], [cx - d, cy + d], [cx - d, cy - d]]) {
    await page.mouse.move(x, y, { steps: 4 });
    await page.mouse.click(x, y);
    await page.waitForTimeout(200);
  }
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('编码').fill('999999999999999');
  await dialog.getByLabel('名称').fill('重叠测试网格');
  await dialog.getByRole('button', { name: /提\s*交/ }).click();

  const problem = page.getByTestId('grid-problem');
  await problem.waitFor();
  assert.match(await problem.innerText(), /重叠/);
  const drawn = await map.getAttribute('data-overlays');
  const overlaps = Number(/problem-areas:(\d+)/.exec(drawn)?.[1] ?? 0);
  assert.ok(overlaps >= 1, drawn);
  await page.waitForTimeout(300);
  await shot(page, 'grids');

  // Nothing was written: the sibling's community still has the same grids.
  const auth = { Authorization: `Bearer ${await token('district_operator')}` };
  const mine = await (await fetch(`${BASE}/api/v1/grids?q=${encodeURIComponent('重叠测试网格')}`, { headers: auth })).json();
  assert.equal(mine.items.length, 0);
  await page.context().close();
});
