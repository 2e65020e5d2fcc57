import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatDuration, formatOwnership, formatUtc } from '../../shared/format.js';

describe('human units', () => {
  it('owners as stat shows them: names where they resolve, ids always, four-digit mode', () => {
    expect(formatOwnership({ uid: 1001, gid: 1001, user: 'app', group: 'app', mode: 0o664 })).toBe('app:app (1001:1001) 0664');
    expect(formatOwnership({ uid: 1234, gid: 1234, user: null, group: null, mode: 0o4755 })).toBe('1234:1234 4755');
    expect(formatOwnership({ uid: 65534, gid: 1234, user: 'nobody', group: null, mode: 0o600 })).toBe('nobody:1234 (65534:1234) 0600');
  });
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
  it('ages and exact times', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(formatAge('2026-11-22T11:59:55Z', now)).toBe('just now');
    expect(formatAge('2026-11-22T11:59:18Z', now)).toBe('42 s ago');
    expect(formatAge('2026-11-22T11:57:00Z', now)).toBe('3 min ago');
    expect(formatAge('2026-11-22T07:00:00Z', now)).toBe('5 h ago');
    expect(formatAge('2026-11-19T12:00:00Z', now)).toBe('3 days ago');
    expect(formatAge('2026-11-23T12:00:00Z', now)).toBe('in 24 h');
    expect(formatAge('2026-11-22T12:00:05Z', now)).toBe('in a moment');
    expect(formatAge('not a time', now)).toBe('unknown');
    expect(formatUtc('2026-11-22T02:00:13.512Z')).toBe('2026-11-22 02:00:13 UTC');
  });
});
