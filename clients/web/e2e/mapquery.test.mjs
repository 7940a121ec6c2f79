// Map queries: a circle drawn on the map returns the points inside it, listed beside the map
// and drawn on it; list and map select each other (R-MAP-1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const selectedCount = async (page) => page.locator('[data-testid="result"][aria-selected="true"]').count();

test('a circle query lists its results and shows them on the map (R-MAP-1)', async () => {
  const page = await signIn(browser, 'community_staff');
  await page.goto(`${BASE}/map`);
  await page.getByTestId('layer-tree').waitFor();
  const map = page.getByTestId('map');
  // Ready once the layers' first tiles are in; the view then fits the caller's jurisdiction.
  await page.locator('[data-testid="map"][data-ready]').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(500);

  await page.getByTestId('draw-area').click();
  const box = await map.boundingBox();
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(cx, cy, { steps: 4 });
  await page.mouse.click(cx, cy);
  await page.mouse.move(cx + 200, cy, { steps: 8 });
  await page.mouse.click(cx + 200, cy);

  const results = page.getByTestId('result');
  await results.first().waitFor();
  const listed = await results.count();
  assert.ok(listed > 0);
  const drawn = await map.getAttribute('data-overlays');
  assert.ok(Number(/results:(\d+)/.exec(drawn)?.[1] ?? 0) > 0, drawn);
  assert.match(await page.getByTestId('result-totals').innerText(), /\d/);
  assert.match(await page.getByText(/^半径 \d+ m$/).innerText(), /半径/);
  await page.waitForTimeout(500);
  await shot(page, 'map-query');

  // A click in the list flies to the result and marks it on the map ...
  await results.first().click();
  assert.equal(await results.first().getAttribute('aria-selected'), 'true');
  await page.locator('[data-testid="map"][data-overlays*="result-selected:1"]').waitFor();
  await page.waitForTimeout(2500);
  // ... and a click on the map beside the points clears it, on a point selects it again.
  const view = await map.boundingBox();
  await page.mouse.click(view.x + 8, view.y + 8);
  await page.waitForTimeout(300);
  assert.notEqual(await results.first().getAttribute('aria-selected'), 'true');
  await page.mouse.click(view.x + view.width / 2, view.y + view.height / 2);
  await page.locator('[data-testid="result"][aria-selected="true"]').waitFor();
  assert.equal(await selectedCount(page), 1);
  await page.context().close();
});
