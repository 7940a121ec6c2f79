// The event workbench end to end: a grid worker reports through the form, the community's
// staff accept, feed back and complete, the worker verifies it closed (R-WF-1); an action
// the user may not take is not offered.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, launch, reportByApi, shot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

async function pick(page, label, option) {
  await page.getByLabel(label).click();
  await page.locator('.ant-select-dropdown:visible').getByText(option, { exact: false }).first().click();
}

async function act(page, action, fields = {}) {
  await page.getByTestId(`action-${action}`).click();
  const dialog = page.getByRole('dialog');
  for (const [label, value] of Object.entries(fields)) {
    if (typeof value === 'string') await dialog.getByLabel(label, { exact: true }).fill(value);
    else await value(dialog);
  }
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await dialog.waitFor({ state: 'hidden' });
}

async function state(page, expected) {
  await page.getByTestId('detail-state').filter({ hasText: expected }).waitFor();
}

test('report → accept → feedback → complete → verify, across three users', async () => {
  const title = `楼道堆物纠纷 ${Date.now()}`;
  const worker = await signIn(browser, 'grid_worker');
  await worker.getByTestId('report-event').click();
  const form = worker.getByRole('dialog');
  await form.getByLabel('标题').fill(title);
  await pick(worker, '小类', '邻里纠纷');
  await pick(worker, '所属网格', '第1网格');
  await form.getByLabel('事件描述').fill('三单元住户因楼道堆物发生口角');
  await form.getByRole('button', { name: /提\s*交/ }).click();
  await worker.getByTestId('event-title').filter({ hasText: title }).waitFor();
  const url = worker.url();
  assert.match(url, /\/events\/[0-9a-f-]{36}$/);
  await state(worker, '待分派');
  // The reporter has nothing to do while the community holds it.
  await worker.getByText('当前无可执行操作').waitFor();
  await shot(worker, 'event-detail');

  const staff = await signIn(browser, 'community_staff');
  await staff.goto(`${BASE}/workbench`);
  await staff.getByRole('link', { name: /^SJ/ }).first().waitFor();
  await staff.getByText(title).click();
  await act(staff, 'accept', { 责任人: '王建国', 责任人电话: '13912345678' });
  await state(staff, '办理中');
  await act(staff, 'feedback', { 说明: '已联系双方，约定周五调解' });
  await act(staff, 'complete', { 处理结果: '双方达成和解，杂物已清理' });
  await state(staff, '待核查');
  await staff.getByTestId('step-timeline').getByText('双方达成和解，杂物已清理').waitFor();

  await worker.goto(url);
  await act(worker, 'verify', {
    满意度: async (dialog) => {
      await dialog.getByLabel('满意度').click();
      await worker.locator('.ant-select-dropdown:visible').getByText('满意', { exact: true }).click();
    },
    核查方式: '现场查看',
  });
  await state(worker, '已结案');
  await worker.context().close();
  await staff.context().close();
});

test('a server refusal is shown on the form and nothing changes', async () => {
  const event = await reportByApi('grid_worker', `路灯损坏 ${Date.now()}`);
  const staff = await signIn(browser, 'community_staff');
  await staff.goto(`${BASE}/events/${event.id}`);
  await state(staff, '待分派');
  await staff.getByTestId('action-accept').click();
  const dialog = staff.getByRole('dialog');
  await dialog.getByLabel('责任人', { exact: true }).fill('王建国');
  // Longer than the server takes: a 422 whose field error lands on the field.
  await dialog.getByLabel('责任人电话').fill('1'.repeat(30));
  await dialog.getByRole('button', { name: /提\s*交/ }).click();
  await dialog.getByRole('alert').waitFor();
  await dialog.locator('.ant-form-item-has-error').getByLabel('责任人电话').waitFor();
  await shot(staff, 'action-refused');
  await dialog.getByRole('button', { name: /取\s*消/ }).click();
  await state(staff, '待分派');
  await staff.context().close();
});

test('actions the user may not take are not offered', async () => {
  const event = await reportByApi('grid_worker', `占道经营 ${Date.now()}`);
  const operator = await signIn(browser, 'street_operator');
  await operator.goto(`${BASE}/events/${event.id}`);
  await operator.getByTestId('action-supervise').waitFor();
  const worker = await signIn(browser, 'grid_worker');
  await worker.goto(`${BASE}/events/${event.id}`);
  await worker.getByTestId('detail-state').waitFor();
  assert.equal(await worker.getByTestId('action-supervise').count(), 0);
  // The leader reads events but reports none: no report button.
  const leader = await signIn(browser, 'leader');
  await leader.goto(`${BASE}/workbench`);
  await leader.getByTestId('box-todo').waitFor();
  assert.equal(await leader.getByTestId('report-event').count(), 0);
  for (const page of [operator, worker, leader]) await page.context().close();
});
