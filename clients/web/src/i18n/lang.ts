// The interface language: Chinese first, English on request, remembered per browser.
export type Lang = 'zh' | 'en';

const KEY = 'grid.lang';

export function currentLang(): Lang {
  return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
}

export function storeLang(lang: Lang): void {
  localStorage.setItem(KEY, lang);
}
