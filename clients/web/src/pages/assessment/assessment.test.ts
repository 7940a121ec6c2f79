import { describe, expect, it } from 'vitest';

import type { components } from '../../api/schema';
import { bounds } from '../../map/bounds';
import { causeOf } from './Ledger';
import { scoreOverlay, type Score } from './scoreMap';
import type { Unit } from './units';
import { currentPeriod } from './vocab';

type Line = components['schemas']['LedgerLineOut'];

const line = (over: Partial<Line>): Line => ({
  id: 'l1', unit_id: 'u1', department_id: null, period: '2026-05', points: -1, item_code: 'accept_overdue', reason: '超期',
  event_id: null, step_id: null, supervision_id: null, action_id: null, appeal_id: null, review_id: null, reverses_id: null,
  finding_id: null,
  created_at: '2026-05-02T00:00:00Z', ...over,
});

describe('every ledger line links to its cause (R-ASM-3)', () => {
  it('sends a card, an appeal or a plain event to the event it belongs to', () => {
    expect(causeOf(line({ event_id: 'e1', supervision_id: 's1' }))).toEqual({ label: 'asm.causeCard', to: '/events/e1' });
    expect(causeOf(line({ event_id: 'e1', appeal_id: 'a1' }))).toEqual({ label: 'asm.causeAppeal', to: '/events/e1' });
    expect(causeOf(line({ event_id: 'e1', step_id: 'st' }))).toEqual({ label: 'asm.causeEvent', to: '/events/e1' });
  });

  it('opens a manual review in the reviews tab and names a reversal without a link', () => {
    expect(causeOf(line({ review_id: 'r1' }))?.to).toBe('/assessment?tab=reviews&review=r1');
    expect(causeOf(line({ reverses_id: 'l0' }))).toEqual({ label: 'asm.causeReversal', to: null });
    expect(causeOf({ ...line({}), finding_id: 'f1' })).toEqual({ label: 'asm.causeFinding', to: null });
    expect(causeOf(line({}))).toBeNull();
  });
});

describe('the map colours units by their band (R-ASM-2)', () => {
  const square = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] };
  const unit = (id: string, geometry: object | null): Unit =>
    ({ id, name: id, code: id, level: 'community', geometry, parent_id: null, grid_leader_id: null, household_target: null, version: 1, created_at: '', updated_at: '' }) as Unit;
  const score = (unit_id: string, band: Score['band']): Score =>
    ({ unit_id, department_id: null, name: unit_id, kind: 'community', period: '2026-05', deductions: 0, bonuses: 0, score: 90, band, passed: null, rank: 1, lines: 0 });

  it('fills each scored unit with its band colour and leaves out the unscored and shapeless', () => {
    const overlay = scoreOverlay([score('a', 'good'), score('b', 'fail'), score('c', 'pass')], [unit('a', square), unit('b', square), unit('c', null), unit('d', square)]);
    expect(overlay.kind).toBe('shaded');
    expect(overlay.data.features.map((f) => [f.properties?.name, f.properties?.color])).toEqual([
      ['a', '#52c41a'],
      ['b', '#ff4d4f'],
    ]);
    expect(bounds(overlay.data)).toEqual([0, 0, 1, 1]);
    expect(bounds({ type: 'FeatureCollection', features: [] })).toBeNull();
  });
});

describe('the default period', () => {
  it('is this month for the bulletin and this year for the annual result', () => {
    const now = new Date(2026, 2, 9);
    expect(currentPeriod(false, now)).toBe('2026-03');
    expect(currentPeriod(true, now)).toBe('2026');
  });
});
