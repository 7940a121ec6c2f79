import { describe, expect, it } from 'vitest';

import { MENU, can, visibleMenu } from './menu';

describe('menus follow the permissions from /me (R-ORG-3)', () => {
  it('offers only the pages whose list the user may read', () => {
    const handler = { is_superuser: false, permissions: ['self:read', 'event:read', 'notification:read'] };
    expect(visibleMenu(handler).map((e) => e.path)).toEqual([
      '/workbench',
      '/command',
      '/analysis',
      '/notifications',
      '/profile',
    ]);
    const auditor = { is_superuser: false, permissions: ['self:read', 'population:read', 'house:read'] };
    expect(visibleMenu(auditor).map((e) => e.path)).toEqual(['/analysis', '/people', '/registries', '/profile']);
  });

  it('gives a superuser everything and a signed-out visitor nothing', () => {
    expect(visibleMenu({ is_superuser: true, permissions: [] })).toHaveLength(MENU.length);
    expect(visibleMenu(undefined)).toEqual([]);
    expect(can(undefined, 'self:read')).toBe(false);
  });
});
