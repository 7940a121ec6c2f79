import type { MessageKey } from '../i18n/messages';

export interface MenuEntry {
  path: string;
  label: MessageKey;
  // The permission the page's main list needs (or, for a management page, the one that
  // changes what it lists); without it the entry is not offered.
  permission: string;
}

export const MENU: MenuEntry[] = [
  { path: '/workbench', label: 'menu.workbench', permission: 'event:read' },
  { path: '/command', label: 'menu.command', permission: 'event:read' },
  { path: '/analysis', label: 'menu.analysis', permission: 'self:read' },
  { path: '/people', label: 'menu.people', permission: 'population:read' },
  { path: '/registries', label: 'menu.registries', permission: 'house:read' },
  { path: '/buildings', label: 'menu.buildings', permission: 'house:read' },
  { path: '/assessment', label: 'menu.assessment', permission: 'assessment:read' },
  { path: '/imports', label: 'menu.imports', permission: 'data:claim' },
  { path: '/notices', label: 'menu.notices', permission: 'notice:write' },
  { path: '/grids', label: 'menu.grids', permission: 'grid:read' },
  { path: '/map', label: 'menu.map', permission: 'map:read' },
  { path: '/notifications', label: 'menu.notifications', permission: 'notification:read' },
  { path: '/profile', label: 'menu.profile', permission: 'self:read' },
  // Administration: the calendar, dictionaries and departments are read by everyone through
  // other pages, so their management pages are offered to those who may change them.
  { path: '/admin/users', label: 'menu.adm.users', permission: 'user:read' },
  { path: '/admin/roles', label: 'menu.adm.roles', permission: 'role:read' },
  { path: '/admin/departments', label: 'menu.adm.departments', permission: 'department:write' },
  { path: '/admin/dictionaries', label: 'menu.adm.dictionaries', permission: 'setting:write' },
  { path: '/admin/calendar', label: 'menu.adm.calendar', permission: 'setting:write' },
  { path: '/admin/routing-rules', label: 'menu.adm.routing', permission: 'routing:write' },
  { path: '/admin/api-keys', label: 'menu.adm.apiKeys', permission: 'api_key:manage' },
  { path: '/admin/audit', label: 'menu.audit', permission: 'audit:read' },
];

export interface Grants {
  permissions: string[];
  is_superuser: boolean;
}

export function can(me: Grants | undefined, permission: string): boolean {
  return !!me && (me.is_superuser || me.permissions.includes(permission));
}

/** The entries this user may open, in menu order. */
export function visibleMenu(me: Grants | undefined): MenuEntry[] {
  return MENU.filter((entry) => can(me, entry.permission));
}
