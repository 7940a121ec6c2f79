// Shared pieces of the browser tests: Debian's Chromium (never a downloaded browser),
// sign-in as a demo user, screenshots.
import { chromium } from 'playwright-core';

export const BASE = process.env.GRID_E2E_BASE_URL ?? 'http://127.0.0.1:8765';
export const PASSWORD = 'demo12345';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

export async function signIn(browser, username) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${BASE}/login`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.getByTestId('me-name').or(page.getByTestId('command-centre')).first().waitFor();
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

/** A token for the API, to set up or check state beside the browser. */
export async function token(username) {
  const r = await fetch(`${BASE}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  return (await r.json()).access_token;
}

/** An event reported through the API in the user's own grid. */
export async function reportByApi(username, title) {
  const auth = { Authorization: `Bearer ${await token(username)}`, 'content-type': 'application/json' };
  const me = await (await fetch(`${BASE}/api/v1/me`, { headers: auth })).json();
  const r = await fetch(`${BASE}/api/v1/events`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      title,
      category: 'dispute',
      subtype: 'neighbour',
      grid_id: me.unit.id,
      occurred_at: new Date().toISOString(),
      description: '浏览器测试',
    }),
  });
  if (r.status !== 201) throw new Error(`report failed: ${r.status} ${await r.text()}`);
  return r.json();
}
