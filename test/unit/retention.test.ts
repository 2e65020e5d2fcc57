import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Retention } from '../../shared/environment.js';
import { PRE_RESTORE_LABEL, RetentionDecision } from '../../shared/retention.js';
import { BUCKETS, bucketOf, decideRetention, type RetentionSet } from '../../electron/engine/retention.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;

/** Sets spread over the two years before NOW (some in the same hour), with pins, drills and safety sets. */
const setsArb = fc
  .array(
    fc.record({
      ageMinutes: fc.oneof(fc.integer({ min: 0, max: 60 * 48 }), fc.integer({ min: 0, max: 60 * 24 * 730 })),
      pinned: fc.boolean(),
      drill: fc.constantFrom(true, false, null),
      safety: fc.boolean(),
    }),
    { maxLength: 60 },
  )
  .map((raw) =>
    raw.map((r, i): RetentionSet => {
      const at = new Date(NOW.getTime() - r.ageMinutes * 60_000);
      return {
        id: `shop_prod_${i.toString().padStart(3, '0')}`,
        startedAt: at.toISOString(),
        label: r.safety && i % 3 === 0 ? PRE_RESTORE_LABEL : null,
        pinned: r.pinned && i % 4 === 0,
        drillPassed: r.drill,
        sizeBytes: 1000 + i,
      };
    }),
  );

const countArb = fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined });
const policyArb = fc
  .record({
    keepLast: countArb,
    hourly: countArb,
    daily: countArb,
    weekly: countArb,
    monthly: countArb,
    yearly: countArb,
    maxAgeDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
    safetyKeepDays: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  })
  .map((p) => Retention.parse(Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined))));

function byId(decisions: RetentionDecision[]): Map<string, RetentionDecision> {
  return new Map(decisions.map((d) => [d.id, d]));
}

function newestFirst(sets: RetentionSet[]): RetentionSet[] {
  return [...sets].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.id < b.id ? 1 : -1));
}

describe('retention policy (property tests)', () => {
  it('never prunes a pinned set', () => {
    fc.assert(
      fc.property(setsArb, policyArb, (sets, policy) => {
        const d = byId(decideRetention(sets, policy, NOW));
        for (const s of sets.filter((x) => x.pinned)) expect(d.get(s.id)!.action).toBe('keep');
      }),
    );
  });

  it('never prunes the newest set whose drill passed, nor the newest backup', () => {
    fc.assert(
      fc.property(setsArb, policyArb, (sets, policy) => {
        const d = byId(decideRetention(sets, policy, NOW));
        const ordered = newestFirst(sets);
        const verified = ordered.find((s) => s.drillPassed === true);
        if (verified) expect(d.get(verified.id)!.action).toBe('keep');
        const newest = ordered.find((s) => s.label !== PRE_RESTORE_LABEL);
        if (newest) expect(d.get(newest.id)!.action).toBe('keep');
      }),
    );
  });

  it('is idempotent: the sets a prune keeps are all kept by the next one', () => {
    fc.assert(
      fc.property(setsArb, policyArb, (sets, policy) => {
        const first = decideRetention(sets, policy, NOW);
        const kept = new Set(first.filter((d) => d.action === 'keep').map((d) => d.id));
        const second = decideRetention(
          sets.filter((s) => kept.has(s.id)),
          policy,
          NOW,
        );
        expect(second.filter((d) => d.action === 'prune').map((d) => d.id)).toEqual([]);
      }),
    );
  });

  it('explains every decision, and names each bucket that keeps a set (coarser ones too)', () => {
    fc.assert(
      fc.property(setsArb, policyArb, (sets, policy) => {
        const decisions = decideRetention(sets, policy, NOW);
        for (const d of decisions) {
          expect(RetentionDecision.parse(d).reasons.length).toBeGreaterThan(0);
          for (const r of d.reasons) expect(r.text.length).toBeGreaterThan(5);
        }
        const d = byId(decisions);
        const regular = newestFirst(sets).filter((s) => s.label !== PRE_RESTORE_LABEL);
        const cutoff = policy.maxAgeDays === undefined ? -Infinity : NOW.getTime() - policy.maxAgeDays * 86_400_000;
        // An independent oracle: the newest set of each of the last n periods that have one.
        for (const kind of BUCKETS) {
          const n = policy[kind];
          if (n === undefined) continue;
          const firstOf = new Map<string, RetentionSet>();
          for (const s of regular) {
            const b = bucketOf(kind, new Date(s.startedAt));
            if (!firstOf.has(b)) firstOf.set(b, s);
          }
          for (const s of [...firstOf.values()].slice(0, n)) {
            const decision = d.get(s.id)!;
            if (Date.parse(s.startedAt) >= cutoff) {
              expect(decision.action).toBe('keep');
              expect(decision.reasons.map((r) => r.rule)).toContain(kind);
            } else if (decision.action === 'prune') {
              expect(decision.reasons[0]!.text).toContain(`the newest of`);
            }
          }
        }
        // And the other way: an unprotected regular set is kept exactly when the oracle keeps it.
        const ruled = new Set<string>(policy.keepLast === undefined ? [] : regular.slice(0, policy.keepLast).map((s) => s.id));
        for (const kind of BUCKETS) {
          const n = policy[kind];
          if (n === undefined) continue;
          const seen = new Set<string>();
          for (const s of regular) {
            const b = bucketOf(kind, new Date(s.startedAt));
            if (!seen.has(b) && seen.size < n) ruled.add(s.id);
            seen.add(b);
          }
        }
        const anyRule = policy.keepLast !== undefined || BUCKETS.some((k) => policy[k] !== undefined);
        const verified = newestFirst(sets).find((s) => s.drillPassed === true);
        const verifiedRegular = regular.find((s) => s.drillPassed === true);
        for (const s of regular) {
          if (s.pinned || s === regular[0] || s === verified || s === verifiedRegular) continue;
          const young = Date.parse(s.startedAt) >= cutoff;
          const expected = anyRule ? ruled.has(s.id) && young : young;
          expect(d.get(s.id)!.action, s.id).toBe(expected ? 'keep' : 'prune');
        }
      }),
    );
  });

  it('without a policy prunes nothing, and says so', () => {
    fc.assert(
      fc.property(setsArb, (sets) => {
        for (const d of decideRetention(sets, undefined, NOW)) {
          expect(d.action).toBe('keep');
          expect(d.reasons[0]!.text).toContain('no retention policy');
        }
      }),
    );
  });

  it('keeps pre-restore safety sets for safetyKeepDays, apart from the other rules', () => {
    fc.assert(
      fc.property(setsArb, policyArb, (sets, policy) => {
        const d = byId(decideRetention(sets, policy, NOW));
        for (const s of sets.filter((x) => x.label === PRE_RESTORE_LABEL)) {
          const young = Date.parse(s.startedAt) >= NOW.getTime() - policy.safetyKeepDays * 86_400_000;
          if (young) expect(d.get(s.id)!.action).toBe('keep');
          else if (!s.pinned && d.get(s.id)!.reasons.every((r) => r.rule !== 'verified')) expect(d.get(s.id)!.action).toBe('prune');
        }
      }),
    );
  });
});

describe("retention policy (the operators' rotations)", () => {
  const hourlySets = (n: number): RetentionSet[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `s${String(i).padStart(3, '0')}`,
      startedAt: new Date(NOW.getTime() - i * HOUR).toISOString(),
      label: null,
      pinned: false,
      drillPassed: null,
      sizeBytes: 1,
    }));

  it("keep last 5 (the FAISS app's rotation) prunes the rest and says why", () => {
    const decisions = decideRetention(hourlySets(8), Retention.parse({ keepLast: 5 }), NOW);
    expect(decisions.filter((d) => d.action === 'keep').map((d) => d.id)).toEqual(['s000', 's001', 's002', 's003', 's004']);
    expect(decisions[0]!.reasons.map((r) => r.text)).toEqual(['the newest backup', 'one of the last 5 (number 1)']);
    expect(decisions[7]!.reasons).toEqual([{ rule: 'not-kept', text: 'kept by no rule (the last 5)' }]);
  });

  it('a 3-day maximum age alone (LedgerFlow dev) keeps every younger set', () => {
    const decisions = decideRetention(hourlySets(100), Retention.parse({ maxAgeDays: 3 }), NOW);
    expect(decisions.filter((d) => d.action === 'keep')).toHaveLength(73);
    expect(decisions[80]!.reasons[0]!.text).toBe('older than the maximum age of 3 days');
  });

  it('a set kept only by the monthly bucket says so; the maximum age overrides it and says what it overrode', () => {
    const sets: RetentionSet[] = [
      { id: 'a', startedAt: '2026-11-22T02:00:00Z', label: null, pinned: false, drillPassed: null, sizeBytes: 1 },
      { id: 'b', startedAt: '2026-11-21T02:00:00Z', label: null, pinned: false, drillPassed: null, sizeBytes: 1 },
      { id: 'c', startedAt: '2026-10-30T02:00:00Z', label: null, pinned: false, drillPassed: null, sizeBytes: 1 },
      { id: 'd', startedAt: '2026-10-29T02:00:00Z', label: null, pinned: false, drillPassed: true, sizeBytes: 1 },
      { id: 'e', startedAt: '2026-09-30T02:00:00Z', label: null, pinned: false, drillPassed: null, sizeBytes: 1 },
    ];
    const d = byId(decideRetention(sets, Retention.parse({ daily: 2, monthly: 3, maxAgeDays: 40 }), NOW));
    expect(d.get('c')!.reasons).toEqual([{ rule: 'monthly', text: 'the newest of month 2026-10 (monthly: 2 of 3)' }]);
    expect(d.get('d')!.reasons).toEqual([{ rule: 'verified', text: 'the newest set whose drill passed' }]);
    expect(d.get('e')!.action).toBe('prune');
    expect(d.get('e')!.reasons[0]!.text).toBe('older than the maximum age of 40 days, though it is the newest of month 2026-09 (monthly: 3 of 3)');
  });

  it('names ISO weeks as operators read them', () => {
    expect(bucketOf('weekly', new Date('2026-11-22T23:59:00Z'))).toBe('2026-W47');
    expect(bucketOf('weekly', new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(bucketOf('weekly', new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
  });
});
