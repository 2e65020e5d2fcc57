import path from 'node:path';
import { environmentKey } from '../../../shared/environment.js';
import { runDrill } from '../drill.js';
import { findSet } from '../set-index.js';
import type { EngineCore, HandlerTable } from './types.js';

/** Drilling a set: restoring it to scratch and checking it; the report is recorded. */
export function drillHandlers(core: EngineCore): HandlerTable<'drill.run'> {
  const { catalog } = core;
  return {
    'drill.run': async ({ env: ref, set }, { log, signal, onProgress }) => {
      const env = core.environment(ref);
      const key = environmentKey(env);
      const found = await findSet(catalog, env, set);
      // A drill that could not run to its report (cancelled, stalled, no such set) is logged too.
      log.about(key, 'drill', (shape) => ({ summary: `Drill of ${set ?? 'the newest set'}: ${shape.message}`, detail: shape }));
      const report = await runDrill(found.dir, { envKey: key, scratchRoot: path.join(core.home, 'scratch'), signal, onProgress });
      catalog.recordDrill(key, report);
      const failed = report.checks.filter((c) => c.status === 'FAIL');
      log.done(report.passed ? `Drill of ${report.setId} passed ${report.checks.length} checks` : `Drill of ${report.setId} failed: ${failed.map((c) => `${c.target}: ${c.name}`).join('; ')}`, {
        outcome: report.passed ? 'success' : 'failed',
      });
      return report;
    },
  };
}
