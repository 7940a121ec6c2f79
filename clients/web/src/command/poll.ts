// Conditional polling (R-CMD-1): each poll sends the last ETag as If-None-Match; a 304
// keeps what we have and costs the server no body.

export interface PollResult<T> {
  data: T;
  changed: boolean;
}

export class ConditionalPoller<T> {
  private etag: string | null = null;
  private last: T | null = null;

  constructor(
    private readonly url: string,
    private readonly fetcher: (input: string, init: RequestInit) => Promise<Response>,
  ) {}

  async poll(): Promise<PollResult<T>> {
    const headers: Record<string, string> = this.etag ? { 'If-None-Match': this.etag } : {};
    const response = await this.fetcher(this.url, { headers, cache: 'no-store' });
    if (response.status === 304 && this.last !== null) return { data: this.last, changed: false };
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    this.etag = response.headers.get('ETag');
    this.last = (await response.json()) as T;
    return { data: this.last, changed: true };
  }
}

export interface FeedPage<I> {
  items: I[];
  next_cursor: string;
}

/** A `since` cursor feed: catch up once, then hand out only what is new, keeping the last
 * `keep` items newest first. */
export class FeedFollower<I> {
  private cursor: string | null = null;
  private items: I[] = [];

  constructor(
    private readonly pull: (since: string | null) => Promise<FeedPage<I>>,
    private readonly keep = 30,
    private readonly pageSize = 500,
  ) {}

  async poll(): Promise<{ items: I[]; fresh: I[] }> {
    const fresh: I[] = [];
    const caughtUp = this.cursor !== null;
    for (;;) {
      const page = await this.pull(this.cursor);
      this.cursor = page.next_cursor;
      fresh.push(...page.items);
      if (page.items.length < this.pageSize) break;
    }
    this.items = [...[...fresh].reverse(), ...this.items].slice(0, this.keep);
    return { items: this.items, fresh: caughtUp ? fresh.slice(0, this.keep) : [] };
  }
}
