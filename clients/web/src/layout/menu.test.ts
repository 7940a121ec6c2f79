import { describe, expect, it } from 'vitest';

import { can, visibleMenu } from './menu';

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
    const auditor = { is_superuser: false, permissions: ['self:read', 'population:read', 'house:read', 'assessment:read'] };
    expect(visibleMenu(auditor).map((e) => e.path)).toEqual([
      '/analysis',
      '/people',
      '/registries',
      '/buildings',
      '/assessment',
      '/profile',
    ]);
    const worker = { is_superuser: false, permissions: ['self:read', 'house:read', 'data:claim'] };
    expect(visibleMenu(worker).map((e) => e.path)).toEqual(['/analysis', '/registries', '/buildings', '/imports', '/profile']);
  });

  it('gives a superuser everything and a signed-out visitor nothing', () => {
    expect(visibleMenu({ is_superuser: true, permissions: [] })).toHaveLength(11);
    expect(visibleMenu(undefined)).toEqual([]);
    expect(can(undefined, 'self:read')).toBe(false);
  });
});
