// Sign-in, menus per role (only what the permissions allow), the language switch.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

async function menu(page) {
  const menu = page.getByTestId('main-menu');
  await menu.waitFor();
  return (await menu.getByRole('menuitem').allInnerTexts()).map((text) => text.trim());
}

test('a wrong password shows the generic error and stays on the sign-in page', async () => {
  const page = await browser.newPage();
  await page.goto(`${BASE}/login`);
  await page.getByLabel('用户名').fill('leader');
  await page.getByLabel('密码').fill('wrong-password');
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /用户名或密码/);
  assert.ok(page.url().endsWith('/login'));
  await page.close();
});

test('each demo role sees only the menus its permissions allow', async () => {
  const expected = {
    grid_worker: ['事件工作台', '指挥中心', '研判分析', '实有人口', '基础数据', '以房找人', '数据导入', '站内通知', '个人信息'],
    department_handler: ['事件工作台', '指挥中心', '研判分析', '站内通知', '个人信息'],
    auditor: ['研判分析', '实有人口', '基础数据', '以房找人', '考核评价', '个人信息'],
    admin: ['事件工作台', '指挥中心', '研判分析', '实有人口', '基础数据', '以房找人', '考核评价', '数据导入', '通知公告', '站内通知', '个人信息'],
  };
  for (const [username, items] of Object.entries(expected)) {
    const page = await signIn(browser, username);
    assert.deepEqual(await menu(page), items, username);
    if (username === 'grid_worker') await shot(page, 'workbench');
    await page.context().close();
  }
});

test('the console switches to English and back', async () => {
  const page = await signIn(browser, 'community_staff');
  await page.getByRole('button', { name: 'English' }).click();
  assert.equal((await menu(page))[0], 'Event workbench');
  await page.getByRole('button', { name: '中文' }).click();
  assert.equal((await menu(page))[0], '事件工作台');
  await page.getByTestId('me-name').click();
  await page.getByText('community_staff').first().waitFor();
  await shot(page, 'profile');
  await page.context().close();
});
