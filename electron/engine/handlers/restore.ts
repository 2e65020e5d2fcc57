import path from 'node:path';
import type { DrillReport } from '../../../shared/drill.js';
import { environmentKey, type Environment } from '../../../shared/environment.js';
import type { Progress } from '../../../shared/progress.js';
import { confirmationName } from '../confirmation.js';
import { runDrill } from '../drill.js';
import { runRestore } from '../restore.js';
import { folderCheck, planRestore, preflightChecks, restoreTargets } from '../restore-plan.js';
import { findSet, syncSets } from '../set-index.js';
import type { SealedSet } from '../store/index.js';
import type { CallContext, EngineCore, HandlerTable } from './types.js';

/** Previewing, pre-flighting and running restores, with the drills they rest on. */
export function restoreHandlers(core: EngineCore): HandlerTable<'restore.preview' | 'restore.preflight' | 'restore.checkFolder' | 'restore.run'> {
  const { catalog } = core;
  /**
   * Sets whose pre-flight drill passed, by folder, with the fingerprint of their bytes taken just
   * before that drill: a restore that finds the same bytes need not drill them again. Used once.
   */
  const drilledClean = new Map<string, { fingerprint: string; report: DrillReport }>();

  /** A drill of a set, recorded; a preview may reuse the latest recorded one, a restore never does. */
  const drillFor = async (env: Environment, set: SealedSet, ctx: CallContext, reuse: boolean, onProgress?: (p: Progress) => void): Promise<DrillReport> => {
    const key = environmentKey(env);
    if (reuse) {
      const last = catalog.latestDrillReport(set.id);
      if (last) return last;
    }
    const report = await runDrill(set.dir, { envKey: key, scratchRoot: path.join(core.home, 'scratch'), signal: ctx.signal, onProgress });
    catalog.recordDrill(key, report);
    return report;
  };

  /**
   * The pre-flight's drill: always fresh, its progress told. The set's bytes are fingerprinted
   * first, so that a change made while the drill reads shows as a different fingerprint later.
   */
  const preflightDrill = async (env: Environment, set: SealedSet, ctx: CallContext): Promise<DrillReport> => {
    drilledClean.delete(set.dir);
    const fingerprint = await set.fingerprint(ctx.signal);
    const report = await drillFor(env, set, ctx, false, ctx.onProgress);
    if (report.passed) {
      drilledClean.set(set.dir, { fingerprint, report });
      if (drilledClean.size > 16) drilledClean.delete(drilledClean.keys().next().value!);
    }
    return report;
  };

  /**
   * The restore's drill: the passing pre-flight drill of this set when its bytes are still exactly
   * those that drill read (same fingerprint), else a fresh one. A screen's word is never taken.
   */
  const restoreDrill = async (env: Environment, set: SealedSet, ctx: CallContext): Promise<DrillReport> => {
    const clean = drilledClean.get(set.dir);
    drilledClean.delete(set.dir);
    if (clean && (await set.fingerprint(ctx.signal).catch(() => null)) === clean.fingerprint) return clean.report;
    return drillFor(env, set, ctx, false);
  };

  return {
    'restore.preview': async ({ env: ref, set, to, toDatabase }, ctx) => {
      const env = core.environment(ref);
      const found = await findSet(catalog, env, set);
      const signal = ctx.signal ?? new AbortController().signal;
      const plan = await planRestore(env, found, { to, toDatabase, signal, confirmName: confirmationName(env, catalog), drill: () => drillFor(env, found, ctx, true) });
      return plan.preview;
    },
    'restore.preflight': async ({ env: ref, set, to, toDatabase }, ctx) => {
      const env = core.environment(ref);
      const found = await findSet(catalog, env, set);
      const signal = ctx.signal ?? new AbortController().signal;
      const checkedAt = new Date().toISOString();
      const plan = await restoreTargets(env, found, { to, toDatabase });
      const checks = await preflightChecks(env, found, plan, { signal, drill: () => preflightDrill(env, found, ctx) });
      return { env: environmentKey(env), setId: plan.manifest.id, mode: plan.destination ? 'elsewhere' : 'live', checkedAt, checks, ready: checks.every((c) => c.status !== 'FAIL') };
    },
    'restore.checkFolder': async ({ to, env }) => folderCheck(to, env ? core.environment(env) : undefined),
    'restore.run': async ({ env: ref, set, to, toDatabase, confirm }, ctx) => {
      const env = core.environment(ref);
      const found = await findSet(catalog, env, set);
      const elsewhere = [to, toDatabase && `database ${toDatabase}`].filter(Boolean).join(' and ');
      const what = `${elsewhere ? `Restore of ${set} to ${elsewhere}` : `Restore of ${set}`}`;
      ctx.log.about(environmentKey(env), 'restore', (shape) => ({ summary: `${what}: ${shape.message}`, detail: shape }));
      try {
        const result = await runRestore(env, found, {
          home: core.home,
          door: core.door,
          catalog,
          to,
          toDatabase,
          confirm,
          signal: ctx.signal,
          onProgress: ctx.onProgress,
          drill: () => restoreDrill(env, found, ctx),
        });
        if (result.safetySet) await syncSets(catalog, env);
        const safety = result.safetySet ? `; safety backup ${result.safetySet.id}` : '; no live data to save first';
        ctx.log.done(`${what} verified (${result.verification.length} checks)${elsewhere ? '' : safety}`, { detail: result });
        return result;
      } catch (err) {
        // A safety set may have been sealed before the failure: list it.
        await syncSets(catalog, env).catch(() => undefined);
        throw err;
      }
    },
  };
}
