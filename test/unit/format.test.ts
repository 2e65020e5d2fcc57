import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../shared/format.js';

describe('human units', () => {
  it('bytes', () => {
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(184_000_000)).toBe('184 MB');
    expect(formatBytes(3_200_000_000)).toBe('3.2 GB');
  });
  it('durations', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(7_620_000)).toBe('2 h 07 min');
  });
});
