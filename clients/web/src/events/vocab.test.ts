import { describe, expect, it } from 'vitest';

import { ACTIONS, actionBody, name, STATES } from './vocab';

describe('workflow forms (R-WF-1)', () => {
  it('turns a picked target into unit_id or department_id and drops empty fields', () => {
    expect(actionBody({ target: 'unit:u1', reason: '' })).toEqual({ unit_id: 'u1' });
    expect(actionBody({ target: 'department:d1', note: undefined })).toEqual({ department_id: 'd1' });
    expect(actionBody({ responsible_person: '王', responsible_phone: '139' })).toEqual({
      responsible_person: '王',
      responsible_phone: '139',
    });
  });

  it('names states and actions in both languages, verify outcomes by their action', () => {
    expect(name(STATES, 'pending_verify', 'zh')).toBe('待核查');
    expect(name(STATES, 'pending_verify', 'en')).toBe('Pending verification');
    expect(name(ACTIONS, 'verify:satisfied', 'zh')).toBe('核查');
    expect(name(ACTIONS, 'unknown', 'en')).toBe('unknown');
  });
});
