// The typed client: openapi-fetch over the paths generated from openapi/openapi.json, with
// the bearer token attached, one refresh-and-retry on 401, the language header and
// problem+json errors turned into ApiError.
import createClient from 'openapi-fetch';

import { currentLang } from '../i18n/lang';
import type { paths } from './schema';
import { accessToken, refresh } from './session';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: FieldProblem[];
  // Where a spatial check failed: the overlap, the overhang or the self-intersection point.
  geometry?: GeoJSON.Geometry | null;
  overlaps?: { grid_id: string; code: string; area_m2: number; geometry: GeoJSON.Geometry | null }[];
}

export class ApiError extends Error {
  constructor(public readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
}

function withHeaders(request: Request, token: string | null): Request {
  const headers = new Headers(request.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  headers.set('Accept-Language', currentLang() === 'en' ? 'en' : 'zh-CN');
  return new Request(request, { headers });
}

/** fetch with the session: the token goes along, and a 401 is retried once after refreshing. */
export async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const retry = request.clone();
  const response = await fetch(withHeaders(request, await accessToken()));
  if (response.status !== 401) return response;
  const renewed = await refresh();
  return renewed ? fetch(withHeaders(retry, renewed.access)) : response;
}

export const api = createClient<paths>({ fetch: authFetch });

/** The data of an openapi-fetch result, or an ApiError carrying the problem document. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = (result.error ?? {}) as Partial<Problem>;
    throw new ApiError({ ...body, status: result.response.status });
  }
  return result.data as T;
}

/** A fresh Idempotency-Key for a POST (the server replays the first answer to a retry). */
export function idempotent(extra: Record<string, string> = {}): Record<string, string> {
  return { 'Idempotency-Key': crypto.randomUUID(), ...extra };
}
