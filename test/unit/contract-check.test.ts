import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkedResult } from '../../electron/engine/engine.js';
import { kindDescriptions } from '../../electron/engine/sources/index.js';

describe('results checked against the contract under test', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('refuses a result that drifts from its schema, naming the method and the field', () => {
    vi.stubEnv('LIFEBOAT_CHECK_RESULTS', '1');
    const drifted = kindDescriptions().map((k, i) => (i === 0 ? { ...k, label: 42 } : k));
    expect(() => checkedResult('kinds.list', drifted as never)).toThrow(/kinds\.list does not match its contract: 0\.label/);
    expect(checkedResult('kinds.list', kindDescriptions())).toEqual(kindDescriptions());
  });

  it('leaves an operator run alone: without the variable a result passes as it is', () => {
    vi.stubEnv('LIFEBOAT_CHECK_RESULTS', '');
    const drifted = [{ label: 42 }];
    expect(checkedResult('kinds.list', drifted as never)).toBe(drifted);
  });
});
