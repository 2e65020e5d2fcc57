import { z } from 'zod';

/** Pushed while long work runs; counted on the stream, so bytes are bytes actually read. */
export const Progress = z.object({
  operation: z.enum(['backup', 'drill', 'restore']),
  env: z.string(),
  phase: z.string(),
  source: z.string().nullable(),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  filesDone: z.number().nonnegative(),
  filesTotal: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current rate; null until a rate is known. */
  secondsLeft: z.number().nonnegative().nullable(),
  elapsedMs: z.number().nonnegative(),
});
export type Progress = z.infer<typeof Progress>;
