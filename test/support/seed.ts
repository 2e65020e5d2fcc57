import { randomInt } from 'node:crypto';
import { onTestFailed } from 'vitest';

/**
 * The seed of a seeded fault loop: `LIFEBOAT_TEST_SEED` to replay a run, otherwise a fresh one.
 * A failing test prints it, so any failure can be run again exactly.
 */
export function testSeed(what: string): number {
  const given = process.env.LIFEBOAT_TEST_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) >>> 0 : randomInt(2 ** 31);
  onTestFailed(() => {
    console.error(`${what} failed with seed ${seed}; replay it with LIFEBOAT_TEST_SEED=${seed}`);
  });
  return seed;
}
