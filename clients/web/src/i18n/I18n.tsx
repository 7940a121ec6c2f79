import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

import { currentLang, storeLang, type Lang } from './lang';
import { MESSAGES, type MessageKey } from './messages';

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey) => string;
}

const Context = createContext<I18n | null>(null);

export function translate(lang: Lang, key: MessageKey): string {
  const [zh, en] = MESSAGES[key];
  return lang === 'en' ? en : zh;
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(currentLang());
  const setLang = useCallback((next: Lang) => {
    storeLang(next);
    setLangState(next);
  }, []);
  const value = useMemo(() => ({ lang, setLang, t: (key: MessageKey) => translate(lang, key) }), [lang, setLang]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(Context);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
