import { z } from 'zod';
import { Progress } from './progress.js';

/** Progress of a call started with a job name, so the screen that started it can match it. */
export const ProgressEvent = z.object({ type: z.literal('progress'), job: z.string().min(1), progress: Progress });
export type ProgressEvent = z.infer<typeof ProgressEvent>;

/** Something changed that screens may show (a backup sealed by a schedule, say); `env` is its key, null for all. */
export const ChangedEvent = z.object({ type: z.literal('changed'), env: z.string().nullable() });
export type ChangedEvent = z.infer<typeof ChangedEvent>;

/** Everything a door pushes to the renderer: the web host's event stream and the app's event channel carry exactly these. */
export const BridgeEvent = z.discriminatedUnion('type', [ProgressEvent, ChangedEvent]);
export type BridgeEvent = z.infer<typeof BridgeEvent>;
