import { z } from 'zod';

/**
 * Every action the activity log records. A door or handler names one of these, so the log and the
 * screens that label it can never meet an action nobody declared.
 */
export const ActivityAction = z.enum([
  'env.save',
  'backup',
  'drill',
  'restore',
  /** A restore a killed process left, rolled back or finished at start. */
  'restore.recover',
  'catalog.rebuild',
  'pin',
  'unpin',
  'delete',
  'prune',
  'schedule.install',
  'schedule.remove',
  /** One due slot of an environment handled by the schedule (its steps in the detail). */
  'schedule.run',
]);
export type ActivityAction = z.infer<typeof ActivityAction>;

/** How an attempt ended, as the log records it. */
export const ActivityOutcome = z.enum(['success', 'failed', 'refused', 'cancelled']);
export type ActivityOutcome = z.infer<typeof ActivityOutcome>;
