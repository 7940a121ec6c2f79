import type { FormInstance } from 'antd';

import { ApiError } from '../api/client';

/** Put the server's field errors on the form's fields; the rest is the caller's banner. */
export function showServerErrors(form: FormInstance, error: unknown): string | null {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const known = new Set(Object.keys(form.getFieldsValue() as object));
  const fields = (error.problem.errors ?? []).filter((e) => known.has(e.field.split('.')[0] ?? e.field));
  form.setFields(fields.map((e) => ({ name: e.field.split('.')[0] ?? e.field, errors: [e.message] })));
  return error.message;
}
