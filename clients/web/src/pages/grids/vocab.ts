import type { Lang } from '../../i18n/lang';

// Org levels and grid-history operations as the server names them, in [Chinese, English].
const LEVELS: Record<string, [string, string]> = {
  city: ['市', 'City'],
  district: ['区县', 'District'],
  street: ['街道', 'Street'],
  community: ['社区', 'Community'],
  grid: ['网格', 'Grid'],
};

const OPERATIONS: Record<string, [string, string]> = {
  create: ['新建', 'Created'],
  update: ['调整', 'Changed'],
  merge: ['合并', 'Merged'],
  split: ['拆分', 'Split'],
  delete: ['删除', 'Deleted'],
};

function pick(table: Record<string, [string, string]>, lang: Lang, key: string): string {
  const entry = table[key];
  return entry ? entry[lang === 'en' ? 1 : 0] : key;
}

export const levelLabel = (lang: Lang, level: string) => pick(LEVELS, lang, level);
export const operationLabel = (lang: Lang, operation: string) => pick(OPERATIONS, lang, operation);
