import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { JobWatch } from '../../electron/engine/watchdog.js';

const BOUND = 200;

function watch(signals: AbortSignal[] = [], graceMs = BOUND) {
  const w = new JobWatch({ stallMs: BOUND, graceMs, signals, onStall: (where) => new Error(`stalled at ${where.phase}/${where.source}`) });
  return w;
}

/** Blocks the event loop, as one long synchronous step (SQLite's one-step backup) does. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: no timer can run meanwhile
  }
}

describe('the job watchdog', () => {
  it('stops a job that makes no progress, naming the stage it was at', async () => {
    const w = watch();
    w.at({ phase: 'pack', source: 'assets' });
    await once(w.signal, 'abort');
    expect((w.signal.reason as Error).message).toBe('stalled at pack/assets');
    expect(w.stall).toBe(w.signal.reason);
    w.stop();
  });

  it('does not count a blocked event loop as silence, however long the step takes', async () => {
    const control = watch();
    const w = watch();
    w.touch();
    blockFor(BOUND * 3);
    // The step's end reports progress only after the overdue tick has run, as the next chunk would.
    let keepGoing: NodeJS.Timeout | undefined;
    setTimeout(() => {
      w.touch();
      keepGoing = setInterval(() => w.touch(), BOUND / 4);
    }, 1);
    await once(control.signal, 'abort');
    clearInterval(keepGoing);
    expect(w.signal.aborted).toBe(false);
    w.stop();
    control.stop();
  });

  it('is held while a program with its own time limit runs, and counts again after', async () => {
    const control = watch();
    const w = watch();
    const release = w.hold();
    await once(control.signal, 'abort');
    expect(w.signal.aborted).toBe(false);
    release();
    await once(w.signal, 'abort');
    control.stop();
  });

  it('gives up on a cancelled job that still makes no progress, and not on one that winds down', async () => {
    const cancel = new AbortController();
    const winding = new AbortController();
    const stuck = watch([cancel.signal]);
    const busy = watch([winding.signal]);
    cancel.abort();
    winding.abort();
    const keepGoing = setInterval(() => busy.touch(), BOUND / 4);
    await expect(stuck.gaveUp).rejects.toBeNull();
    clearInterval(keepGoing);
    expect(stuck.abandoned).toBe(true);
    expect(busy.abandoned).toBe(false);
    busy.stop();
  });

  it("never gives up on a job that had already ended when its caller's signal aborted", async () => {
    const late = new AbortController();
    const cancel = new AbortController();
    const ended = watch([late.signal]);
    ended.stop();
    late.abort();
    const control = watch([cancel.signal]);
    cancel.abort();
    await expect(control.gaveUp).rejects.toBeNull();
    expect(ended.abandoned).toBe(false);
  });

  it('counts progress of a job run inside another as progress of the outer one', async () => {
    const outer = watch();
    const control = watch();
    const inner = outer.run(() => watch());
    const keepGoing = setInterval(() => inner.touch(), BOUND / 4);
    await once(control.signal, 'abort');
    clearInterval(keepGoing);
    expect(outer.signal.aborted).toBe(false);
    for (const w of [outer, inner, control]) w.stop();
  });
});
