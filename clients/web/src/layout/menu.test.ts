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

  it('offers administration pages by the permission that manages them', () => {
    const auditor = { is_superuser: false, permissions: ['self:read', 'user:read', 'role:read', 'audit:read', 'department:read'] };
    expect(visibleMenu(auditor).map((e) => e.path)).toEqual(['/analysis', '/profile', '/admin/users', '/admin/roles', '/admin/audit']);
    const operator = { is_superuser: false, permissions: ['self:read', 'event:read', 'routing:write'] };
    expect(visibleMenu(operator).map((e) => e.path)).toContain('/admin/routing-rules');
    expect(visibleMenu(operator).map((e) => e.path)).not.toContain('/admin/calendar');
  });

  it('gives a superuser everything and a signed-out visitor nothing', () => {
    expect(visibleMenu({ is_superuser: true, permissions: [] })).toHaveLength(MENU.length);
    expect(visibleMenu(undefined)).toEqual([]);
    expect(can(undefined, 'self:read')).toBe(false);
  });
});
