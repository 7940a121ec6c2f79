import { describe, expect, it } from 'vitest';

import { ConditionalPoller, FeedFollower, type FeedPage } from './poll';

describe('the command centre polls cheaply (R-CMD-1)', () => {
  it('sends the last ETag and keeps its data on 304', async () => {
    const sent: (string | null)[] = [];
    let version = 1;
    const fetcher = async (_url: string, init: RequestInit) => {
      const tag = (init.headers as Record<string, string>)['If-None-Match'] ?? null;
      sent.push(tag);
      if (tag === `"v${version}"`) return new Response(null, { status: 304 });
      return new Response(JSON.stringify({ open: version }), { status: 200, headers: { ETag: `"v${version}"` } });
    };
    const poller = new ConditionalPoller<{ open: number }>('/x', fetcher);
    expect(await poller.poll()).toEqual({ data: { open: 1 }, changed: true });
    expect(await poller.poll()).toEqual({ data: { open: 1 }, changed: false });
    version = 2;
    expect(await poller.poll()).toEqual({ data: { open: 2 }, changed: true });
    expect(sent).toEqual([null, '"v1"', '"v1"']);
  });

  it('catches up through the feed once, then hands out only what is new', async () => {
    const log = Array.from({ length: 7 }, (_, i) => i + 1);
    const pull = async (since: string | null): Promise<FeedPage<number>> => {
      const from = since ? Number(since) : 0;
      const items = log.filter((n) => n > from).slice(0, 3);
      return { items, next_cursor: String(items.at(-1) ?? from) };
    };
    const follower = new FeedFollower<number>(pull, 4, 3);
    expect(await follower.poll()).toEqual({ items: [7, 6, 5, 4], fresh: [] });
    log.push(8, 9);
    expect(await follower.poll()).toEqual({ items: [9, 8, 7, 6], fresh: [8, 9] });
    expect(await follower.poll()).toEqual({ items: [9, 8, 7, 6], fresh: [] });
  });
});
