import { z } from 'zod';

/** WARN: a check that could not be made here (said plainly); it does not block, and never counts as PASS in a drill. */
export const CheckStatus = z.enum(['PASS', 'FAIL', 'WARN']);

/** One named check of a drill; a drill never passes what it did not check. */
export const DrillCheck = z.object({
  /** The artifact file the check is about, or `set` for checks of the set as a whole. */
  target: z.string(),
  name: z.string(),
  status: CheckStatus,
  reason: z.string(),
  durationMs: z.number().nonnegative(),
});
export type DrillCheck = z.infer<typeof DrillCheck>;

export const DrillReport = z.object({
  setId: z.string(),
  env: z.string(),
  path: z.string(),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  passed: z.boolean(),
  checks: z.array(DrillCheck),
});
export type DrillReport = z.infer<typeof DrillReport>;
