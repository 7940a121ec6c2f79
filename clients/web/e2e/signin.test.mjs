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
  const base = ['事件工作台', '指挥中心', '研判分析', '实有人口', '基础数据', '以房找人'];
  const geo = ['组织网格', '地图查询'];
  const office = [...base, '考核评价', '数据导入', '通知公告', ...geo, '站内通知', '个人信息'];
  const expected = {
    grid_worker: [...base, '数据导入', ...geo, '站内通知', '个人信息'],
    grid_leader: [...base, '数据导入', ...geo, '站内通知', '个人信息'],
    community_staff: [...office, '用户管理'],
    street_operator: [...office, '用户管理', '分流规则'],
    district_operator: [...office, '用户管理', '分流规则'],
    department_handler: ['事件工作台', '指挥中心', '研判分析', '组织网格', '站内通知', '个人信息'],
    leader: [...base, '考核评价', ...geo, '站内通知', '个人信息', '用户管理'],
    auditor: ['研判分析', '实有人口', '基础数据', '以房找人', '考核评价', ...geo, '个人信息', '用户管理', '角色权限', '审计日志'],
    admin: [
      ...office,
      ...['用户管理', '角色权限', '职能部门', '数据字典', '工作日历', '分流规则', '接口密钥', '审计日志'],
    ],
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
