import type { MessageKey } from '../i18n/messages';

export interface MenuEntry {
  path: string;
  label: MessageKey;
  // The permission the page's main list needs; without it the entry is not offered.
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
  { path: '/notifications', label: 'menu.notifications', permission: 'notification:read' },
  { path: '/profile', label: 'menu.profile', permission: 'self:read' },
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
