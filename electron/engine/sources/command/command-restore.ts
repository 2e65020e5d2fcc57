import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CommandSource } from '../../../../shared/environment.js';
import type { Artifact } from '../../../../shared/manifest.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import type { CommandLoading, InUse, SourcePreview } from '../../../../shared/restore.js';
import { count } from '../../../../shared/format.js';
import { timedCheck } from '../../checks.js';
import { fsyncDir, fsyncFile } from '../../durable.js';
import { fsError, LifeboatError } from '../../errors.js';
import { HashTap } from '../../pipeline.js';
import { checkStep, finishStep, outputOf, proveOutput, runDump, shown, startStep } from './command.js';
import type { ArtifactReader } from '../../codec/index.js';
import { destinationFolder } from '../common/destination.js';
import { objectDigest, objectLabel, readFixture } from './django-fixture.js';
import type { ApplyRestore, RestoreContext, RestoreDestination, SavedData } from '../common/types.js';

type Ctx = RestoreContext<CommandSource>;
type Output = NonNullable<ReturnType<typeof outputOf>>;

/** Reads a stream to its end; a tap before it has counted and hashed every chunk. */
async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) {
    // nothing to keep
  }
}

function outputIn(ctx: Ctx | { source: CommandSource; artifacts: Artifact[] }) {
  const artifact = outputOf(ctx.artifacts);
  if (!artifact) throw new LifeboatError('NOT_A_SET', `The set records no output for source "${ctx.source.name}".`, 'The manifest is incomplete; use another set.');
  return artifact;
}

/** Live: the restore command; a restore test: the output as a file, `<folder>/<source>/<source>.json|.out`, for the operator to load by hand. */
function target(source: CommandSource, destination: RestoreDestination | null): string {
  if (!destination) return `command ${shown(source.restore)}${source.restore.cwd ? ` in ${source.restore.cwd}` : ''}`;
  return path.join(destinationFolder(source, destination), `${source.name}.${source.format === 'django-fixture' ? 'json' : 'out'}`);
}

/**
 * How the restore loads over the live data, said before it runs. With a reset command the data
 * becomes exactly the set (and undo, loaded the same way, exactly the safety set); without one
 * loaddata merges, and another command may: then undo cannot take away what the restore adds.
 */
export function loadingOf(source: CommandSource): CommandLoading {
  const restore = shown(source.restore);
  if (source.reset) {
    return {
      reset: source.reset.argv,
      merges: 'no',
      note: `Runs ${shown(source.reset)} first, then ${restore}: the data becomes exactly the set, and undoing this restore (its safety backup, loaded the same way) puts back exactly what is there now.`,
    };
  }
  const exact = `Give the source a "reset" command that empties what the dump covers (e.g. python3 manage.py flush --no-input) to make the restore and its undo exact.`;
  if (source.format === 'django-fixture') {
    return {
      reset: null,
      merges: 'yes',
      note: `${restore} adds and updates objects, it never deletes any: objects that the live data has and the set does not are kept. Undo re-loads the objects of the safety backup but does not remove objects this restore adds. ${exact}`,
    };
  }
  return {
    reset: null,
    merges: 'unknown',
    note: `Lifeboat cannot tell whether ${restore} replaces the data or adds to it. If it adds, undo re-loads the safety backup but does not remove what this restore adds. ${exact}`,
  };
}

/**
 * Why restoring the safety set would not undo this restore exactly, or null: without a reset the
 * restore may have added what the safety set does not have, and loading it again removes nothing.
 */
function undoLimit(source: CommandSource, verification: DrillCheck[]): string | null {
  if (source.reset) {
    const kept = verification.find((c) => c.name === BEYOND && c.status !== 'PASS');
    return kept ? `its reset command (${shown(source.reset)}) did not remove every object that the set lacks (${kept.reason}), so undoing may also leave objects behind` : null;
  }
  if (source.format === 'django-fixture')
    return `its restore merges (loaddata adds and updates, it never deletes): undoing re-loads the objects of the safety set, but does not remove the objects this restore added. Give the source a "reset" command to make undo exact.`;
  return `Lifeboat cannot tell whether its restore command replaces the data or adds to it: undoing feeds the safety set back through it, and if it adds, what this restore added stays. Give the source a "reset" command to make undo exact.`;
}

const BEYOND = 'no objects beyond the set';

/**
 * A Django fixture: objects per model in the set and, for a live restore, now (from running the
 * dump command, which only reads; null when it fails, and the restore's safety backup will then
 * say why). Any other output: the command that will run and the bytes it will be fed.
 */
async function preview(ctx: Ctx): Promise<SourcePreview> {
  const { details } = outputIn(ctx);
  const live = !ctx.destination;
  const exists =
    live ||
    (await fs.stat(ctx.target).then(
      () => true,
      () => false,
    ));
  const base = { source: ctx.source.name, target: ctx.target, targetExists: exists };
  const loading = live ? { loading: loadingOf(ctx.source) } : {};
  if (details.format !== 'django-fixture') return { type: 'command', ...base, argv: live ? ctx.source.restore.argv : [], inputBytes: details.rawSize, ...loading };
  let now = new Map<string, number>();
  if (live)
    now = await runDump(ctx.source, ctx.signal, readFixture).then(
      (f) => new Map(f.models.map((m) => [m.name, m.rows])),
      () => new Map(),
    );
  const inSet = new Map((details.models ?? []).map((m) => [m.name, m.rows]));
  const names = [...new Set([...now.keys(), ...inSet.keys()])].sort();
  return { type: 'tables', ...base, tables: names.map((name) => ({ name, now: now.get(name) ?? null, inSet: inSet.get(name) ?? null })), ...loading };
}

/** Lifeboat cannot see inside the application: whether it may load data now is the operator's to judge. */
async function inUse(source: CommandSource): Promise<InUse> {
  return {
    status: 'unknown',
    reason: `Lifeboat cannot see whether the application is busy; the restore runs ${source.reset ? `${shown(source.reset)}, then ` : ''}${shown(source.restore)}, so stop the application first if it must not be used meanwhile`,
  };
}

/** Feeds the set's output to the restore command's standard input; a restore test writes it to a file instead. */
async function apply(ctx: Ctx): Promise<DrillCheck[]> {
  const artifact = outputIn(ctx);
  const started = performance.now();
  if (ctx.destination) {
    await writeOutput(ctx.reader, artifact, ctx.target);
    return [{ target: ctx.target, name: 'output written', status: 'PASS', reason: `${artifact.details.rawSize} bytes from ${artifact.file}`, durationMs: performance.now() - started }];
  }
  const checks: DrillCheck[] = [];
  if (ctx.source.reset) {
    ctx.progress.setPhase('reset', ctx.source.name);
    await reset(ctx.source, ctx.signal);
    checks.push({ target: ctx.target, name: 'reset command succeeded', status: 'PASS', reason: `${shown(ctx.source.reset)} exited with status 0`, durationMs: performance.now() - started });
    ctx.progress.setPhase('restore', ctx.source.name);
  }
  const loading = performance.now();
  await feed(ctx.source, ctx.reader, artifact, ctx.signal);
  checks.push({
    target: ctx.target,
    name: 'restore command succeeded',
    status: 'PASS',
    reason: `${shown(ctx.source.restore)} read ${artifact.details.rawSize} bytes and exited with status 0`,
    durationMs: performance.now() - loading,
  });
  return checks;
}

/** Runs the reset command, with nothing on its input; throws with its stderr unless it exits with status 0. */
async function reset(source: CommandSource, signal: AbortSignal): Promise<void> {
  await checkStep(source, 'reset');
  const running = startStep(source, 'reset', signal);
  running.stdout.resume();
  await finishStep(source, 'reset', running, 'What it removed is put back from the safety set.');
}

/** Runs the restore command on a stored output; throws with its stderr unless it exits with status 0. */
async function feed(source: CommandSource, reader: ArtifactReader, artifact: Output, signal: AbortSignal): Promise<void> {
  await checkStep(source, 'restore');
  const running = startStep(source, 'restore', signal, reader.open(artifact));
  running.stdout.resume();
  await finishStep(source, 'restore', running, 'What it wrote before it stopped is undone from the safety set.');
}

/** The decompressed output to `dest`, whole or not at all (a temporary name, fsync, rename). */
async function writeOutput(reader: ArtifactReader, artifact: Output, dest: string): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
  const temp = `${dest}.lifeboat-partial`;
  try {
    await reader.materialize(artifact, temp);
    await fsyncFile(temp);
    await fs.rename(temp, dest);
    await fsyncDir(path.dirname(dest));
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err instanceof LifeboatError ? err : (fsError(err, dest, true) ?? err);
  }
}

/** Live: the safety set's output goes back through the reset (when there is one) and the restore command. A restore test: its file is removed. */
async function undo(ctx: Ctx, before: SavedData | null): Promise<void> {
  if (ctx.destination) {
    await fs.rm(ctx.target, { force: true });
    return;
  }
  const saved = before && outputOf(before.artifacts);
  if (!saved) throw new Error('there is no safety set of it to put back');
  if (ctx.source.reset) await reset(ctx.source, ctx.signal);
  await feed(ctx.source, before.reader, saved, ctx.signal);
}

/**
 * A restore test: the file is the set's output, byte for byte. Live, a Django fixture: the dump
 * command, run again, holds every object of the set field for field (objects the set does not
 * have are a WARN: loaddata adds and updates, it never deletes). Other output cannot be compared
 * beyond its bytes: equal is a PASS, different a WARN that says so.
 */
async function verify(ctx: Ctx): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  const artifact = outputIn(ctx);
  const d = artifact.details;
  if (ctx.destination) {
    await timedCheck(checks, ctx.target, 'file is the recorded output', async () => {
      const tap = new HashTap();
      await pipeline(createReadStream(ctx.target), tap, drain);
      const sha = tap.digest();
      if (tap.bytes !== d.rawSize || sha !== d.rawSha256)
        throw new Error(`${tap.bytes} bytes with SHA-256 ${sha.slice(0, 12)}…, the manifest records ${d.rawSize} bytes and ${d.rawSha256.slice(0, 12)}…`);
      return `${d.rawSize} bytes, SHA-256 matches`;
    });
    return checks;
  }
  if (d.format === 'django-fixture') {
    const wanted = new Map<string, string>();
    await proveOutput(ctx.reader, artifact, (obj) => wanted.set(objectDigest(obj), objectLabel(obj)));
    let extra = 0;
    await timedCheck(checks, ctx.target, 'every object of the set is back, field for field', async () => {
      const found = await runDump(ctx.source, ctx.signal, (out) =>
        readFixture(out, (obj) => {
          if (!wanted.delete(objectDigest(obj))) extra++;
        }),
      );
      if (wanted.size) throw new Error(`${count(wanted.size, 'object')} of the set ${wanted.size === 1 ? 'is' : 'are'} missing or different now: ${[...wanted.values()].slice(0, 5).join(', ')}`);
      return `${count(found.objects - extra, 'object')} of the set found by ${shown(ctx.source.dump)}`;
    });
    const kept = `${count(extra, 'object')} that the set does not have ${extra === 1 ? 'is' : 'are'} there`;
    if (checks.at(-1)?.status === 'PASS' && ctx.source.reset) {
      // A reset ran first: the data should be exactly the set; what is left, it did not remove.
      checks.push(
        extra
          ? { target: ctx.target, name: BEYOND, status: 'WARN', reason: `${kept} although ${shown(ctx.source.reset)} ran first: it does not remove everything the dump covers`, durationMs: 0 }
          : { target: ctx.target, name: BEYOND, status: 'PASS', reason: `${shown(ctx.source.reset)} ran first; the data is exactly the set`, durationMs: 0 },
      );
    } else if (checks.at(-1)?.status === 'PASS' && extra)
      checks.push({ target: ctx.target, name: BEYOND, status: 'WARN', reason: `${kept}, kept: loaddata adds and updates objects, it never deletes any`, durationMs: 0 });
    return checks;
  }
  const tap = new HashTap();
  const ran = await timedCheck(checks, ctx.target, 'dump command runs after the restore', async () => {
    await runDump(ctx.source, ctx.signal, (out) => pipeline(out, tap, drain));
    return `it printed ${tap.bytes} bytes`;
  });
  if (!ran) return checks;
  const same = tap.bytes === d.rawSize && tap.digest() === d.rawSha256;
  checks.push(
    same
      ? { target: ctx.target, name: 'output as recorded', status: 'PASS', reason: `the dump command prints exactly the set's ${d.rawSize} bytes`, durationMs: 0 }
      : {
          target: ctx.target,
          name: 'output as recorded',
          status: 'WARN',
          reason: `the dump command now prints ${tap.bytes} bytes that differ from the set's ${d.rawSize}; output without a known format cannot be compared further`,
          durationMs: 0,
        },
  );
  return checks;
}

export const commandRestore: ApplyRestore<CommandSource> = {
  method: 'apply',
  atomic: false,
  target,
  /** Live, the application's data is taken to exist: a restore always saves it first with the dump command. */
  exists: async (ctx) =>
    !ctx.destination ||
    fs.stat(ctx.target).then(
      () => true,
      () => false,
    ),
  preview,
  inUse,
  /** Live: the restore command's folder and program are there (a restore test runs nothing). */
  programsReady: async (ctx) => {
    if (ctx.destination) return 'a restore test writes a file and runs nothing';
    if (ctx.source.reset) await checkStep(ctx.source, 'reset');
    await checkStep(ctx.source, 'restore');
    return `${ctx.source.reset ? `${shown(ctx.source.reset)} and ` : ''}${shown(ctx.source.restore)} can be started${ctx.source.restore.cwd ? ` in ${ctx.source.restore.cwd}` : ''}`;
  },
  apply,
  undo,
  undoLimit,
  verify,
};
