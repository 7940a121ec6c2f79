import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Form, Input } from 'antd';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '../api/client';
import { I18nProvider } from '../i18n/I18n';
import { FormModal } from './FormModal';

// jsdom has no matchMedia; antd's responsive grid asks it.
window.matchMedia ??= ((media: string) => ({
  matches: false, media, onchange: null, addListener() {}, removeListener() {},
  addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false,
})) as typeof window.matchMedia;

afterEach(cleanup);

function mount(submit: (values: { year: string }) => Promise<string>, onDone = vi.fn()) {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <I18nProvider>
        <FormModal<{ year: string }, string> title="复制" initialValues={{ year: '2027' }} submit={submit} onDone={onDone}>
          <Form.Item name="year" label="年度"><Input /></Form.Item>
        </FormModal>
      </I18nProvider>
    </QueryClientProvider>,
  );
  return onDone;
}

// antd's dialog mounts slowly in jsdom on a busy machine: each test gets 30 s.
describe('a form dialog shows the server problem (API.md problem+json)', () => {
  it('puts a field error on its field and the message above the form', async () => {
    const onDone = mount(async () => {
      throw new ApiError({ status: 422, detail: '参数校验失败', errors: [{ field: 'year', message: '该年度已有细则' }] });
    });
    fireEvent.click(screen.getByRole('button', { name: /提\s*交/ }));
    await waitFor(() => expect(document.querySelector('.ant-form-item-has-error')).toHaveTextContent('年度'), { timeout: 5000 });
    expect(await screen.findByText('该年度已有细则', {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getAllByRole('alert').map((a) => a.textContent).join()).toContain('参数校验失败');
    expect(onDone).not.toHaveBeenCalled();
  }, 30_000);

  it('hands the answer over once the server accepts the form', async () => {
    const submit = vi.fn(async (values: { year: string }) => `ok:${values.year}`);
    const onDone = mount(submit);
    fireEvent.click(screen.getByRole('button', { name: /提\s*交/ }));
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('ok:2027'));
    expect(submit).toHaveBeenCalledWith({ year: '2027' }, expect.anything());
  }, 30_000);
});
