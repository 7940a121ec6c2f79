import { ApiError, authFetch, type Problem } from '../../api/client';

async function problem(response: Response): Promise<never> {
  const body = (await response.json().catch(() => ({}))) as Partial<Problem>;
  throw new ApiError({ ...body, status: response.status });
}

/** Save a file the API streams (a template): it needs the token, so no plain link. */
export async function download(url: string, fallbackName: string): Promise<void> {
  const response = await authFetch(url);
  if (!response.ok) return problem(response);
  const disposition = response.headers.get('content-disposition') ?? '';
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  const name = encoded ? decodeURIComponent(encoded) : fallbackName;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** Upload a file as multipart form data; the created record, or the problem as ApiError. */
export async function upload<T>(url: string, fields: Record<string, string | File>): Promise<T> {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  const response = await authFetch(url, { method: 'POST', body, headers: { 'Idempotency-Key': crypto.randomUUID() } });
  if (!response.ok) return problem(response);
  return (await response.json()) as T;
}
