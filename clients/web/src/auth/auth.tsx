import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';

import { api, ok, type Problem, ApiError } from '../api/client';
import type { components } from '../api/schema';
import { fromBody, load, save, subscribe, type Tokens } from '../api/session';
import { currentLang } from '../i18n/lang';
import { can } from '../layout/menu';

export type Me = components['schemas']['MeOut'];

interface Auth {
  signedIn: boolean;
  me: Me | undefined;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => void;
  can: (permission: string) => boolean;
}

const Context = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [tokens, setTokens] = useState<Tokens | null>(load());
  const queryClient = useQueryClient();
  useEffect(() => subscribe(setTokens), []);
  const me = useQuery({
    queryKey: ['me', tokens?.refresh ? 'in' : 'out'],
    queryFn: async () => ok(await api.GET('/api/v1/me')),
    enabled: !!tokens,
    staleTime: 60_000,
  });
  const signIn = useCallback(async (username: string, password: string) => {
    const response = await fetch('/api/v1/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Accept-Language': currentLang() === 'en' ? 'en' : 'zh-CN' },
      body: JSON.stringify({ username, password }),
    });
    const body: unknown = await response.json();
    if (!response.ok) throw new ApiError({ ...(body as Problem), status: response.status });
    save(fromBody(body as Parameters<typeof fromBody>[0]));
  }, []);
  const signOut = useCallback(() => {
    save(null);
    queryClient.clear();
  }, [queryClient]);
  const value: Auth = {
    signedIn: !!tokens,
    me: me.data,
    signIn,
    signOut,
    can: (permission) => can(me.data, permission),
  };
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useAuth(): Auth {
  const value = useContext(Context);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** Renders its children only for a user holding the permission (hidden, not disabled). */
export function Allowed({ permission, children }: { permission: string; children: ReactNode }) {
  return useAuth().can(permission) ? <>{children}</> : null;
}
