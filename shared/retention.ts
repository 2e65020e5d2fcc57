import { z } from 'zod';

/** The label of the safety set a restore takes of the live data first; retention treats it apart. */
export const PRE_RESTORE_LABEL = 'pre-restore';

/**
 * Why a set is kept or pruned. Keep rules: `pinned`, `newest`, `verified` (the newest set whose
 * drill passed), `last`, `hourly`…`yearly`, `within-max-age`, `safety`, `no-policy`, `no-rules`.
 * Prune rules: `max-age`, `safety-expired`, `not-kept`.
 */
export const RetentionReason = z.object({ rule: z.string(), text: z.string() });
export type RetentionReason = z.infer<typeof RetentionReason>;

/** The policy's answer for one set, with every reason that applies. */
export const RetentionDecision = z.object({
  id: z.string(),
  startedAt: z.string(),
  label: z.string().nullable(),
  pinned: z.boolean(),
  sizeBytes: z.number(),
  action: z.enum(['keep', 'prune']),
  reasons: z.array(RetentionReason).min(1),
});
export type RetentionDecision = z.infer<typeof RetentionDecision>;

/** A set removed from the location: its id, former folder and the bytes it held. */
export const DeletedSet = z.object({ id: z.string(), path: z.string(), sizeBytes: z.number() });
export type DeletedSet = z.infer<typeof DeletedSet>;

export const PruneResult = z.object({
  env: z.string(),
  dryRun: z.boolean(),
  /** False when the environment has no retention policy: then nothing is pruned. */
  policy: z.boolean(),
  /** One sentence for people: what the policy decided and what was deleted. */
  summary: z.string(),
  /** Every set in the location, newest first. */
  decisions: z.array(RetentionDecision),
  /** What this call deleted (always empty for a dry run). */
  deleted: z.array(DeletedSet),
  /** Leftovers of interrupted deletions that this call removed first. */
  cleaned: z.array(z.string()),
});
export type PruneResult = z.infer<typeof PruneResult>;

export const DeleteResult = z.object({
  env: z.string(),
  deleted: DeletedSet,
  cleaned: z.array(z.string()),
});
export type DeleteResult = z.infer<typeof DeleteResult>;
