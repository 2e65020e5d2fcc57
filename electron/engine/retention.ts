import type { Retention } from '../../shared/environment.js';
import { PRE_RESTORE_LABEL, type RetentionDecision, type RetentionReason } from '../../shared/retention.js';

/** What the policy needs to know of a set; nothing here touches a disk. */
export interface RetentionSet {
  id: string;
  startedAt: string;
  label: string | null;
  pinned: boolean;
  /** The set's latest drill: passed, failed, or never drilled (null). */
  drillPassed: boolean | null;
  sizeBytes: number;
}

export const BUCKETS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type Bucket = (typeof BUCKETS)[number];

const DAY_MS = 86_400_000;
const NOUN: Record<Bucket, string> = { hourly: 'hour', daily: 'day', weekly: 'week', monthly: 'month', yearly: 'year' };

/** The UTC period a time falls in, named as an operator reads it: `2026-11-22 02:00`, `2026-W47`. */
export function bucketOf(kind: Bucket, at: Date): string {
  const iso = at.toISOString();
  switch (kind) {
    case 'hourly':
      return `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00`;
    case 'daily':
      return iso.slice(0, 10);
    case 'weekly':
      return isoWeek(at);
    case 'monthly':
      return iso.slice(0, 7);
    case 'yearly':
      return iso.slice(0, 4);
  }
}

/** ISO 8601 week (`2026-W47`): weeks start on Monday; week 1 holds the year's first Thursday. */
function isoWeek(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** Newest first; sets that started in the same instant by id, so the order never depends on input order. */
function newestFirst(a: RetentionSet, b: RetentionSet): number {
  const t = Date.parse(b.startedAt) - Date.parse(a.startedAt);
  return t !== 0 ? t : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function days(n: number): string {
  return `${n} day${n === 1 ? '' : 's'}`;
}

/**
 * The retention policy as a pure function: every set with `keep` or `prune` and each reason.
 * Protections come first and no rule overrides them: a pinned set, the newest regular set and
 * the newest set whose drill passed (overall and among regular sets) are always kept. Regular
 * sets are then kept by `keepLast` and the buckets (the newest set of each of the last N periods
 * that have one), capped by `maxAgeDays`; with no rule at all, `maxAgeDays` alone keeps younger
 * sets, and without even that nothing is pruned. Pre-restore safety sets count for no rule: they
 * are kept `safetyKeepDays`, then pruned.
 */
export function decideRetention(input: readonly RetentionSet[], policy: Retention | undefined, now: Date): RetentionDecision[] {
  const sets = [...input].sort(newestFirst);
  const keep = new Map<string, RetentionReason[]>(sets.map((s) => [s.id, []]));
  const prune = new Map<string, RetentionReason[]>(sets.map((s) => [s.id, []]));
  const add = (map: Map<string, RetentionReason[]>, id: string, rule: string, text: string) => map.get(id)!.push({ rule, text });

  if (!policy) {
    for (const s of sets) add(keep, s.id, 'no-policy', 'the environment has no retention policy, so nothing is pruned');
    return sets.map((s) => decision(s, keep, prune));
  }

  const regular = sets.filter((s) => s.label !== PRE_RESTORE_LABEL);
  const safety = sets.filter((s) => s.label === PRE_RESTORE_LABEL);

  for (const s of sets) if (s.pinned) add(keep, s.id, 'pinned', 'pinned');
  if (regular[0]) add(keep, regular[0].id, 'newest', 'the newest backup');
  const verified = sets.find((s) => s.drillPassed === true);
  const verifiedRegular = regular.find((s) => s.drillPassed === true);
  if (verified) add(keep, verified.id, 'verified', 'the newest set whose drill passed');
  if (verifiedRegular && verifiedRegular !== verified) add(keep, verifiedRegular.id, 'verified', 'the newest regular backup whose drill passed');

  // Keep rules, for regular sets only: what each would keep, before the maximum age caps them.
  const byRule = new Map<string, RetentionReason[]>(regular.map((s) => [s.id, []]));
  const active: string[] = [];
  if (policy.keepLast !== undefined) {
    active.push(`the last ${policy.keepLast}`);
    regular.slice(0, policy.keepLast).forEach((s, i) => add(byRule, s.id, 'last', `one of the last ${policy.keepLast} (number ${i + 1})`));
  }
  for (const kind of BUCKETS) {
    const n = policy[kind];
    if (n === undefined) continue;
    active.push(`${kind} ${n}`);
    const seen = new Set<string>();
    for (const s of regular) {
      const bucket = bucketOf(kind, new Date(s.startedAt));
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      if (seen.size > n) break;
      add(byRule, s.id, kind, `the newest of ${NOUN[kind]} ${bucket} (${kind}: ${seen.size} of ${n})`);
    }
  }

  const cutoff = policy.maxAgeDays === undefined ? null : now.getTime() - policy.maxAgeDays * DAY_MS;
  for (const s of regular) {
    const tooOld = cutoff !== null && Date.parse(s.startedAt) < cutoff;
    const ruled = byRule.get(s.id)!;
    if (active.length === 0) {
      if (cutoff === null) add(keep, s.id, 'no-rules', 'the policy sets no keep rule and no maximum age, so nothing is pruned');
      else if (!tooOld) add(keep, s.id, 'within-max-age', `younger than the maximum age of ${days(policy.maxAgeDays!)}`);
      else add(prune, s.id, 'max-age', `older than the maximum age of ${days(policy.maxAgeDays!)}`);
    } else if (ruled.length && !tooOld) {
      keep.get(s.id)!.push(...ruled);
    } else if (ruled.length) {
      add(prune, s.id, 'max-age', `older than the maximum age of ${days(policy.maxAgeDays!)}, though it is ${ruled.map((r) => r.text).join('; ')}`);
    } else {
      add(prune, s.id, 'not-kept', `kept by no rule (${active.join(', ')})`);
    }
  }

  const safetyCutoff = now.getTime() - policy.safetyKeepDays * DAY_MS;
  for (const s of safety) {
    const started = Date.parse(s.startedAt);
    if (started >= safetyCutoff) {
      const until = new Date(started + policy.safetyKeepDays * DAY_MS).toISOString().slice(0, 16).replace('T', ' ');
      add(keep, s.id, 'safety', `a pre-restore safety set, kept ${days(policy.safetyKeepDays)} (until ${until} UTC)`);
    } else {
      add(prune, s.id, 'safety-expired', `a pre-restore safety set older than ${days(policy.safetyKeepDays)}`);
    }
  }
  return sets.map((s) => decision(s, keep, prune));
}

function decision(s: RetentionSet, keep: Map<string, RetentionReason[]>, prune: Map<string, RetentionReason[]>): RetentionDecision {
  const kept = keep.get(s.id)!;
  return {
    id: s.id,
    startedAt: s.startedAt,
    label: s.label,
    pinned: s.pinned,
    sizeBytes: s.sizeBytes,
    action: kept.length ? 'keep' : 'prune',
    reasons: kept.length ? kept : prune.get(s.id)!,
  };
}
