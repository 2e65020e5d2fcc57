import type { DrillCheck } from '../../shared/drill.js';
import { LifeboatError } from './errors.js';

/**
 * Runs one named drill check, timing it and recording PASS with the returned reason or FAIL with
 * the error's message. Returns whether it passed; cancellation is rethrown, not recorded.
 */
export async function timedCheck(checks: DrillCheck[], target: string, name: string, run: () => Promise<string>): Promise<boolean> {
  const started = performance.now();
  try {
    const reason = await run();
    checks.push({ target, name, status: 'PASS', reason, durationMs: performance.now() - started });
    return true;
  } catch (err) {
    if (err instanceof LifeboatError && err.code === 'CANCELLED') throw err;
    const reason = err instanceof Error ? err.message : String(err);
    checks.push({ target, name, status: 'FAIL', reason, durationMs: performance.now() - started });
    return false;
  }
}
