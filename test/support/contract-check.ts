import { afterAll, beforeAll, vi } from 'vitest';

/**
 * Every engine result in this test file, in process and from the CLI and web hosts it starts (they
 * inherit the variable), is parsed with its schema in shared/api.ts: a result that drifts from the
 * contract fails the test that called it.
 */
export function checkResultsAgainstContract(): void {
  beforeAll(() => {
    vi.stubEnv('LIFEBOAT_CHECK_RESULTS', '1');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
}
