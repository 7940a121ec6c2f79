import type { Lang } from '../../i18n/lang';

// The assessed kinds (R-ASM-1) and the states of rule sets and reviews, as [Chinese, English].
export const KINDS = {
  grid_worker: ['网格员', 'Grid workers'],
  community: ['社区', 'Communities'],
  street: ['街道', 'Streets'],
  district: ['区县', 'Districts'],
  department: ['职能部门', 'Departments'],
} as const;

export type Kind = keyof typeof KINDS;

export const STATES: Record<string, readonly [string, string]> = {
  draft: ['草稿', 'Draft'],
  enabled: ['已启用', 'Enabled'],
  archived: ['已归档', 'Archived'],
  self_evaluating: ['自评中', 'Self-evaluating'],
  submitted: ['已提交', 'Submitted'],
  scored: ['已评分', 'Scored'],
};

export function label(pair: readonly [string, string] | undefined, lang: Lang, fallback: string): string {
  if (!pair) return fallback;
  return lang === 'en' ? pair[1] : pair[0];
}

export function kindOptions(lang: Lang) {
  return (Object.keys(KINDS) as Kind[]).map((kind) => ({ value: kind, label: label(KINDS[kind], lang, kind) }));
}

/** The period being looked at by default: this month (`YYYY-MM`) or this year (`YYYY`). */
export function currentPeriod(annual: boolean, now = new Date()): string {
  const year = String(now.getFullYear());
  return annual ? year : `${year}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}
