import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { Form, Input } from 'antd';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ApiError } from '../../api/client';
import { I18nProvider } from '../../i18n/I18n';
import { FormDialog, filled, ifMatch } from './kit';

afterEach(cleanup);

function mount(send: (values: { username: string }) => Promise<unknown>, onClose = vi.fn()) {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <I18nProvider>
        <FormDialog<{ username: string }> title="新建用户" send={send} invalidate={[['users']]} onClose={onClose}
          initialValues={{ username: 'a b' }}>
          <Form.Item name="username" label="用户名">
            <Input />
          </Form.Item>
        </FormDialog>
      </I18nProvider>
    </QueryClientProvider>,
  );
  fireEvent.click(screen.getByRole('button', { name: /提\s*交/ }));
  return onClose;
}

describe('administration forms show the server refusal in place', () => {
  it('puts field errors on the field and the detail in a banner, and stays open', async () => {
    const onClose = mount(async () => {
      throw new ApiError({
        status: 422,
        detail: '请求参数有误',
        errors: [{ field: 'username', message: '用户名只能包含字母、数字' }],
      });
    });
    expect(await screen.findByText('用户名只能包含字母、数字', {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('请求参数有误');
    expect(onClose).not.toHaveBeenCalled();
  });

  it('closes once the server accepts', async () => {
    const send = vi.fn(async (_values: { username: string }) => ({}));
    const onClose = mount(send);
    await vi.waitFor(() => expect(onClose).toHaveBeenCalled(), { timeout: 5000 });
    expect(send.mock.calls[0]?.[0]).toEqual({ username: 'a b' });
  });
});

describe('request helpers', () => {
  it('sends If-Match with the quoted version and drops empty fields', () => {
    expect(ifMatch(3)).toEqual({ 'If-Match': '"3"' });
    expect(filled({ a: '', b: undefined, c: null, d: 0, e: false, f: 'x' })).toEqual({ d: 0, e: false, f: 'x' });
  });
});
