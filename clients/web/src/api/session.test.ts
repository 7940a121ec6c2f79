import { beforeEach, describe, expect, it } from 'vitest';

import { accessToken, fromBody, isFresh, load, refresh, save } from './session';

function pair(n: number, expiresIn = 900) {
  return { access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: expiresIn };
}

/** A stand-in for the token endpoint: rotates on every call, refuses a spent token. */
function tokenServer() {
  let issued = 1;
  const spent = new Set<string>();
  const calls: string[] = [];
  const base = (async (_url: string, init?: RequestInit) => {
    const { refresh_token } = JSON.parse(String(init?.body)) as { refresh_token: string };
    calls.push(refresh_token);
    if (spent.has(refresh_token) || refresh_token !== `refresh-${issued}`) return new Response('{}', { status: 401 });
    spent.add(refresh_token);
    issued += 1;
    return new Response(JSON.stringify(pair(issued)), { status: 200 });
  }) as typeof fetch;
  return { base, calls };
}

describe('the session refreshes and rotates its tokens (R-ORG-3)', () => {
  beforeEach(() => localStorage.clear());

  it('keeps a fresh token and refreshes one about to lapse', async () => {
    const server = tokenServer();
    save(fromBody(pair(1)));
    expect(await accessToken(server.base)).toBe('access-1');
    save(fromBody(pair(1, 10)));
    expect(isFresh(load()!)).toBe(false);
    expect(await accessToken(server.base)).toBe('access-2');
    expect(load()?.refresh).toBe('refresh-2');
  });

  it('makes one refresh for many concurrent requests', async () => {
    const server = tokenServer();
    save(fromBody(pair(1, 0)));
    const tokens = await Promise.all([refresh(server.base), refresh(server.base), refresh(server.base)]);
    expect(server.calls).toEqual(['refresh-1']);
    expect(tokens.map((t) => t?.access)).toEqual(['access-2', 'access-2', 'access-2']);
  });

  it('signs out when the server refuses the refresh token', async () => {
    const server = tokenServer();
    save(fromBody(pair(7, 0)));
    expect(await refresh(server.base)).toBeNull();
    expect(load()).toBeNull();
    expect(await accessToken(server.base)).toBeNull();
  });
});
