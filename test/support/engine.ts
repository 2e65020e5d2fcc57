import path from 'node:path';
import { afterEach } from 'vitest';
import { Engine } from '../../electron/engine/engine.js';
import type { EnvironmentInput } from '../../shared/environment.js';

/** An engine per test on its own LIFEBOAT_HOME, closed after the test. */
export function useEngines(): (home: string) => Engine {
  const open: Engine[] = [];
  afterEach(() => {
    for (const e of open.splice(0)) e.close();
  });
  return (home) => {
    const engine = new Engine(home, 'test');
    open.push(engine);
    return engine;
  };
}

/** An environment of a database and an assets folder under `root`, with sets in `root/sets`. */
export function demoEnvironment(root: string, extra: Partial<EnvironmentInput> = {}): EnvironmentInput {
  return {
    name: 'prod',
    app: 'shop',
    protection: 'protected',
    location: path.join(root, 'sets'),
    sources: [
      { kind: 'sqlite', name: 'db', path: path.join(root, 'live', 'shop.db') },
      { kind: 'files', name: 'assets', path: path.join(root, 'live', 'assets'), include: ['**/*'], exclude: [] },
    ],
    ...extra,
  };
}
