import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { failure, useTempDirs } from '../support/tools.js';
import { checkResultsAgainstContract } from '../support/contract-check.js';

const temp = useTempDirs();
const engineAt = useEngines();

checkResultsAgainstContract();

describe('jobs: any door can name a call and cancel it', () => {
  it('cancels a running backup by its job name; nothing is sealed and the change is told', async () => {
    const root = temp();
    makeLiveData(root, { rows: 20_000 });
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: demoEnvironment(root) });
    const changes: (string | null)[] = [];
    engine.onChange((env) => changes.push(env));

    let asked: Promise<{ cancelled: boolean }> | undefined;
    const run = engine.call(
      'backup.run',
      { env: 'prod' },
      {
        job: 'b1',
        onProgress: () => {
          asked ??= engine.call('job.cancel', { job: 'b1' });
        },
      },
    );
    const err = await failure(run);
    expect(err.code).toBe('CANCELLED');
    expect(await asked).toEqual({ cancelled: true });
    expect(readdirSync(path.join(root, 'sets')).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
    expect(changes).toEqual(['shop/prod']);
    // The name is free again, and an unknown job is answered plainly.
    expect(await engine.call('job.cancel', { job: 'b1' })).toEqual({ cancelled: false });
    expect(existsSync(path.join(root, 'live', 'shop.db'))).toBe(true);
  });

  it('refuses a second call under a job name that is still running', async () => {
    const root = temp();
    makeLiveData(root, { rows: 20_000 });
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: demoEnvironment(root) });
    const first = engine.call('backup.run', { env: 'prod' }, { job: 'same' });
    const second = await failure(engine.call('sets.list', { env: 'prod' }, { job: 'same' }));
    expect(second.code).toBe('BAD_ARGUMENT');
    await first;
  });
});
