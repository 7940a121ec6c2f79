import { describe, expect, it } from 'vitest';

import { fold } from './Pool';

describe('claim outcomes (R-IMP-2)', () => {
  it('moves a fixed row from the failed list to the succeeded one', () => {
    const first = {
      grid_id: 'g',
      succeeded: [{ row_id: 'a', record_id: 'ra', with: [] }],
      failed: [
        { row_id: 'b', reason: 'incomplete' as const, errors: [{ code: 'required', field: 'no_house_reason', header: '无房原因' }] },
        { row_id: 'c', reason: 'duplicate' as const },
      ],
    };
    const again = { grid_id: 'g', succeeded: [{ row_id: 'b', record_id: 'rb', with: [] }], failed: [] };
    const shown = fold(first, again);
    expect(shown.succeeded.map((s) => s.row_id)).toEqual(['a', 'b']);
    expect(shown.failed.map((f) => f.row_id)).toEqual(['c']);
  });

  it('keeps a row failed when the second claim fails it again', () => {
    const first = { grid_id: 'g', succeeded: [], failed: [{ row_id: 'b', reason: 'incomplete' as const }] };
    const again = { grid_id: 'g', succeeded: [], failed: [{ row_id: 'b', reason: 'claimed' as const }] };
    expect(fold(first, again).failed).toEqual([{ row_id: 'b', reason: 'claimed' }]);
  });
});
