// The signed-in session: a short-lived access token and a refresh token that the server
// rotates on every use (a reused one revokes the whole family), kept in localStorage so a
// reload stays signed in. Refreshes are single-flight: concurrent requests share one.

export interface Tokens {
  access: string;
  refresh: string;
  // Epoch milliseconds when the access token stops being accepted.
  expiresAt: number;
}

interface TokenBody {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

const KEY = 'grid.session';
// Refresh this long before expiry, so a request never leaves with a token about to lapse.
const MARGIN_MS = 30_000;

type Listener = (tokens: Tokens | null) => void;
const listeners = new Set<Listener>();
let inflight: Promise<Tokens | null> | null = null;

export function load(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

export function save(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener(tokens));
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function fromBody(body: TokenBody, now: number = Date.now()): Tokens {
  return { access: body.access_token, refresh: body.refresh_token, expiresAt: now + body.expires_in * 1000 };
}

export function isFresh(tokens: Tokens, now: number = Date.now()): boolean {
  return tokens.expiresAt - MARGIN_MS > now;
}

/** Trade the refresh token for a new pair; null (signed out) when the server refuses it. */
export function refresh(base: typeof fetch = fetch): Promise<Tokens | null> {
  const current = load();
  if (!current) return Promise.resolve(null);
  if (!inflight) {
    inflight = base('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh }),
    })
      .then(async (response) => {
        const tokens = response.ok ? fromBody((await response.json()) as TokenBody) : null;
        save(tokens);
        return tokens;
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight;
}

/** A valid access token, refreshed first when it is about to lapse. */
export async function accessToken(base: typeof fetch = fetch): Promise<string | null> {
  const current = load();
  if (!current) return null;
  if (isFresh(current)) return current.access;
  return (await refresh(base))?.access ?? null;
}
