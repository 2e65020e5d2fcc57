import { createHash, randomInt } from 'node:crypto';
import { onTestFailed } from 'vitest';

/**
 * The seed of a seeded fault loop. By default a fixed one per loop (from its name), so every run of
 * `npm test` checks the same cases and a failure is the code's, not the draw's;
 * `LIFEBOAT_TEST_SEED=N` replays a run, and `LIFEBOAT_TEST_SEED=random` explores a fresh draw.
 * A failing test prints its seed, so any failure can be run again exactly.
 */
export function testSeed(what: string): number {
  const given = process.env.LIFEBOAT_TEST_SEED;
  const seed = given === 'random' ? randomInt(2 ** 31) : given !== undefined && given !== '' ? Number(given) >>> 0 : createHash('sha256').update(what).digest().readUInt32BE(0) >>> 1;
  onTestFailed(() => {
    console.error(`${what} failed with seed ${seed}; replay it with LIFEBOAT_TEST_SEED=${seed}`);
  });
  return seed;
}
