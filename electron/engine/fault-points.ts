import { cancelled } from './errors.js';

/**
 * Named points where a fault test can freeze a run in order to `kill -9` it exactly there (or,
 * given the run's signal, to cancel it there, as a screen test does to show work in progress).
 * Only active when `LIFEBOAT_TEST_STALL` names the point; the run then says so on stderr and waits
 * until it is killed or cancelled. Without that variable this is a no-op.
 */
export async function faultPoint(name: string, signal?: AbortSignal): Promise<void> {
  if (process.env.LIFEBOAT_TEST_STALL !== name) return;
  process.stderr.write(`lifeboat: stalled at ${name}\n`);
  await new Promise<void>((_resolve, reject) => {
    const timer = setInterval(() => {}, 1 << 30);
    signal?.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        reject(cancelled());
      },
      { once: true },
    );
  });
}
