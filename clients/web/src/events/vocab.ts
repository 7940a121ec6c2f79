// The workflow's words (domain/workflow.py) and what each action's form asks for (API.md).
import type { Lang } from '../i18n/lang';

type Names = Record<string, readonly [string, string]>;

export const STATES: Names = {
  dispatch: ['待分派', 'To dispatch'],
  pending_accept: ['待签收', 'Pending acceptance'],
  handling: ['办理中', 'Handling'],
  pending_verify: ['待核查', 'Pending verification'],
  closed: ['已结案', 'Closed'],
};

export const CATEGORIES: Names = {
  dispute: ['矛盾纠纷', 'Dispute'],
  security_hazard: ['治安安全隐患', 'Security hazard'],
  livelihood: ['民生服务', 'Livelihood'],
  city_component: ['城市部件', 'City component'],
  other: ['其他', 'Other'],
};

export const ACTIONS: Names = {
  report: ['上报', 'Report'],
  resolve: ['当场解决', 'Resolved on the spot'],
  dispatch: ['分派', 'Dispatch'],
  accept: ['签收', 'Accept'],
  feedback: ['反馈', 'Feedback'],
  complete: ['办结', 'Complete'],
  escalate: ['上报上级', 'Escalate'],
  assign: ['交办', 'Assign'],
  return: ['退回', 'Return'],
  copy: ['抄送', 'Copy'],
  divert: ['转办', 'Divert'],
  verify: ['核查', 'Verify'],
  supervise: ['督办', 'Supervise'],
  'cancel-supervision': ['撤销督办', 'Cancel supervision'],
  expedite: ['催办', 'Expedite'],
  'cancel-expedite': ['取消催办', 'Cancel expedite'],
  instruct: ['批示', 'Instruct'],
  'mark-legacy': ['标记遗留', 'Mark legacy'],
  'unmark-legacy': ['取消遗留', 'Unmark legacy'],
  'mark-typical': ['标记典型', 'Mark typical'],
  appeal: ['申诉', 'Appeal'],
  'decide-appeal': ['裁定申诉', 'Decide appeal'],
};

export const LIGHTS: Names = { green: ['绿灯', 'Green'], yellow: ['黄灯', 'Yellow'], red: ['红灯', 'Red'] };

export function name(names: Names, code: string | null | undefined, lang: Lang): string {
  if (!code) return '—';
  const entry = names[code.split(':')[0] ?? code];
  return entry ? entry[lang === 'en' ? 1 : 0] : code;
}

export type FieldKind = 'text' | 'textarea' | 'phone' | 'target' | 'units' | 'satisfaction' | 'level' | 'boolean';

export interface ActionField {
  name: string;
  kind: FieldKind;
  required?: boolean;
}

/** The body each action takes; actions missing here take none. */
export const ACTION_FIELDS: Record<string, ActionField[]> = {
  dispatch: [{ name: 'target', kind: 'target' }],
  accept: [
    { name: 'responsible_person', kind: 'text', required: true },
    { name: 'responsible_phone', kind: 'phone', required: true },
  ],
  feedback: [{ name: 'note', kind: 'textarea', required: true }],
  complete: [{ name: 'result', kind: 'textarea', required: true }],
  escalate: [{ name: 'reason', kind: 'textarea' }],
  assign: [{ name: 'target', kind: 'target', required: true }],
  divert: [{ name: 'target', kind: 'target', required: true }],
  return: [{ name: 'reason', kind: 'textarea', required: true }],
  copy: [{ name: 'unit_ids', kind: 'units', required: true }],
  verify: [
    { name: 'satisfaction', kind: 'satisfaction', required: true },
    { name: 'method', kind: 'text' },
    { name: 'note', kind: 'textarea' },
  ],
  supervise: [
    { name: 'level', kind: 'level', required: true },
    { name: 'opinion', kind: 'textarea', required: true },
  ],
  instruct: [{ name: 'text', kind: 'textarea', required: true }],
  appeal: [{ name: 'reason', kind: 'textarea', required: true }],
  'decide-appeal': [
    { name: 'upheld', kind: 'boolean', required: true },
    { name: 'note', kind: 'textarea' },
  ],
};

/** A target picked as "unit:<id>" or "department:<id>" becomes the body's unit_id or
 * department_id; empty fields are left out. */
export function actionBody(values: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '') continue;
    if (key === 'target' && typeof value === 'string') {
      const [kind, id] = value.split(':');
      body[kind === 'department' ? 'department_id' : 'unit_id'] = id;
    } else body[key] = value;
  }
  return body;
}
