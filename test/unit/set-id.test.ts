import { describe, expect, it } from 'vitest';
import { isSetOf, setId, stamp } from '../../electron/engine/set-id.js';

describe('set ids', () => {
  const at = new Date('2026-11-22T02:03:04.567Z');
  it('are {app}_{env}_{YYYYMMDD}_{HHMMSS} in UTC', () => {
    expect(stamp(at)).toBe('20261122_020304');
    expect(setId('lrl', 'prod', at, () => false)).toBe('lrl_prod_20261122_020304');
  });
  it('get a suffix when two land in one second', () => {
    const taken = new Set(['lrl_prod_20261122_020304', 'lrl_prod_20261122_020304_2']);
    expect(setId('lrl', 'prod', at, (id) => taken.has(id))).toBe('lrl_prod_20261122_020304_3');
  });
  it('tell one environment from another whose name starts the same', () => {
    expect(isSetOf('lrl_prod_20261122_020304', 'lrl', 'prod')).toBe(true);
    expect(isSetOf('lrl_prod_20261122_020304_2', 'lrl', 'prod')).toBe(true);
    expect(isSetOf('lrl_prod-eu_20261122_020304', 'lrl', 'prod')).toBe(false);
    expect(isSetOf('lrl_prod_20261122_020304.tmp', 'lrl', 'prod')).toBe(false);
    expect(isSetOf('.partial-lrl_prod_20261122_020304', 'lrl', 'prod')).toBe(false);
  });
});
