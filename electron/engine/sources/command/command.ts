import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandSource, CommandStep } from '../../../../shared/environment.js';
import type { Artifact, CommandOutputDetails } from '../../../../shared/manifest.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import { count } from '../../../../shared/format.js';
import { timedCheck } from '../../checks.js';
import { cancelled, LifeboatError } from '../../errors.js';
import { HashTap } from '../../pipeline.js';
import type { ArtifactReader } from '../../codec/index.js';
import { describeExit, startProgram, type ProgramExit, type RunningProgram } from '../../run-program.js';
import { readFixture, type FixtureObject, type FixtureSummary } from './django-fixture.js';
import type { CaptureContext, CheckContext, SourceEstimate, SourcePlugin } from '../common/types.js';

/** How a step of a command source is shown: `python3 manage.py dumpdata` (its argv, not a shell line). */
export function shown(step: CommandStep): string {
  return step.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** The program a step runs, found as the spawn will find it: a path (relative to its folder), or a name on PATH. */
async function findProgram(step: CommandStep): Promise<string | undefined> {
  const name = step.argv[0]!;
  const env = { ...process.env, ...step.env };
  const candidates = name.includes('/')
    ? [path.resolve(step.cwd ?? process.cwd(), name)]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, name));
  for (const c of candidates) {
    if (
      await fs.access(c, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return c;
  }
  return undefined;
}

/** The programs a command source runs: the dump and restore, and the optional drill and reset. */
export type StepName = 'dump' | 'restore' | 'drill' | 'reset';

/** A step of the source; only asked for a step the caller knows is configured. */
function stepOf(source: CommandSource, which: StepName): CommandStep {
  const step = source[which];
  if (!step) throw new Error(`source "${source.name}" has no ${which} command`);
  return step;
}

/** Checks a step can run: its folder exists and its program is installed. */
export async function checkStep(source: CommandSource, which: StepName): Promise<void> {
  const step = stepOf(source, which);
  if (
    step.cwd &&
    !(await fs.stat(step.cwd).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new LifeboatError('SOURCE_MISSING', `The ${which} command of source "${source.name}" runs in ${step.cwd}, which is not a folder.`, `Correct "${which}.cwd" of source "${source.name}".`);
  }
  if (!(await findProgram(step))) {
    throw new LifeboatError(
      'TOOL_MISSING',
      `The ${which} command of source "${source.name}" runs ${step.argv[0]}, which is not ${step.argv[0]!.includes('/') ? 'an executable file' : 'found on the PATH'}.`,
      `Install it, or give its full path as the first entry of "${which}.argv" of source "${source.name}".`,
    );
  }
}

/** Starts one step without a shell, in its folder, with its variables (and `extraEnv`) added to Lifeboat's own. */
export function startStep(source: CommandSource, which: StepName, signal: AbortSignal, stdin?: Readable, extraEnv: Record<string, string> = {}): RunningProgram {
  const step = stepOf(source, which);
  return startProgram({ argv: step.argv, cwd: step.cwd, env: { ...process.env, ...step.env, ...extraEnv }, timeoutMs: source.timeoutSeconds * 1000, signal, stdin });
}

/** `; it said: …` with the last lines a program wrote, or that it wrote nothing. */
function said(text: string, where: string): string {
  return text ? `; it said: ${text.split('\n').slice(-8).join(' | ').slice(-800)}` : `; it wrote nothing to ${where}`;
}

/** The operator-facing error of a step that did not succeed, with the end of what it wrote to stderr. */
export function stepError(source: CommandSource, which: StepName, exit: ProgramExit, afterwards: string): LifeboatError {
  if (exit.aborted) return cancelled();
  const how = describeExit(exit, source.timeoutSeconds * 1000);
  const step = stepOf(source, which);
  const stderr = said(exit.stderr, 'stderr');
  if (exit.timedOut)
    return new LifeboatError(
      'TIMED_OUT',
      `The ${which} command of source "${source.name}" (${shown(step)}) ${how}${stderr}.`,
      `Raise "timeoutSeconds" of source "${source.name}" if it needs longer, or find what it waits for. ${afterwards}`,
    );
  return new LifeboatError(
    which === 'dump' ? 'COMMAND_FAILED' : 'RESTORE_FAILED',
    `The ${which} command of source "${source.name}" (${shown(step)}) ${how}${stderr}.`,
    `Run it by hand in ${step.cwd ?? 'the same folder'} to see why. ${afterwards}`,
  );
}

/** Awaits a step; throws when it could not start or did not exit with status 0. */
export async function finishStep(source: CommandSource, which: StepName, running: RunningProgram, afterwards: string): Promise<void> {
  let exit: ProgramExit;
  try {
    exit = await running.exit;
  } catch (err) {
    throw new LifeboatError(
      'TOOL_MISSING',
      `The ${which} command of source "${source.name}" could not be started: ${(err as Error).message}.`,
      `Check "${which}.argv" and "${which}.cwd" of source "${source.name}". ${afterwards}`,
    );
  }
  if (exit.code !== 0) throw stepError(source, which, exit, afterwards);
}

/**
 * Runs the dump command now and hands its output to `consume` (which must read it to the end);
 * throws when the command fails. Used for a preview's "now" and a restore's verification.
 */
export async function runDump<T>(source: CommandSource, signal: AbortSignal, consume: (out: Readable) => Promise<T>): Promise<T> {
  await checkStep(source, 'dump');
  const running = startStep(source, 'dump', signal);
  let result: T;
  try {
    result = await consume(running.stdout);
  } finally {
    running.stdout.resume();
    await finishStep(source, 'dump', running, 'Nothing was changed.');
  }
  return result;
}

async function inspect(source: CommandSource): Promise<SourceEstimate> {
  await checkStep(source, 'dump');
  return { bytes: 0, files: 1 };
}

/**
 * Runs the dump command with nothing on its input and streams its standard output through gzip
 * and hashing into `<name>.out.gz`. A non-zero exit or empty output fails the backup with the
 * command's stderr. A Django fixture is then read back from the artifact and counted per model.
 */
async function capture(ctx: CaptureContext<CommandSource>): Promise<Artifact[]> {
  const { source, writer, signal, progress } = ctx;
  await checkStep(source, 'dump');
  progress.setPhase('dump command', source.name);
  const file = `${source.name}.out.gz`;
  const running = startStep(source, 'dump', signal);
  const nothing = 'Nothing was sealed.';
  let written;
  try {
    written = await writer.write(file, running.stdout, { compression: 'gzip', signal, onRawBytes: (n) => progress.addBytes(n) });
  } finally {
    await finishStep(source, 'dump', running, nothing);
  }
  if (written.raw.size === 0) {
    throw new LifeboatError(
      'COMMAND_FAILED',
      `The dump command of source "${source.name}" (${shown(source.dump)}) exited with status 0 but printed nothing.`,
      `A dump command must write the data to its standard output; check "dump.argv" (e.g. no --output option). ${nothing}`,
    );
  }
  const details: CommandOutputDetails = { type: 'command-output', rawSize: written.raw.size, rawSha256: written.raw.sha256, format: source.format ?? 'raw' };
  const artifact: Artifact = { source: source.name, kind: 'command', ...written.stored, details };
  if (source.format === 'django-fixture') {
    progress.setPhase('count objects', source.name);
    try {
      details.models = (await readFixture(writer.open(artifact, { signal }))).models;
    } catch (err) {
      throw new LifeboatError(
        'COMMAND_FAILED',
        `The output of the dump command of source "${source.name}" is not a Django JSON fixture: ${(err as Error).message}.`,
        `Make it print only JSON (dumpdata --format json, without --output), or remove "format" from the source. ${nothing}`,
      );
    }
  }
  progress.addFiles(1);
  return [artifact];
}

/** The command-output artifact of a source's artifacts. */
export function outputOf(artifacts: Artifact[]): (Artifact & { details: CommandOutputDetails }) | undefined {
  return artifacts.find((a): a is Artifact & { details: CommandOutputDetails } => a.details.type === 'command-output');
}

/**
 * Reads the stored output once: its size and SHA-256 against the manifest and, for a Django
 * fixture, every object's shape and the objects per model.
 */
export async function proveOutput(
  reader: ArtifactReader,
  artifact: Artifact & { details: CommandOutputDetails },
  onObject?: (obj: FixtureObject) => void,
): Promise<{ size: number; sha256: string; fixture?: FixtureSummary; fixtureError?: string }> {
  const details = artifact.details;
  const tap = new HashTap();
  const plain = new PassThrough();
  const read = pipeline(reader.open(artifact), tap, plain);
  let fixture: FixtureSummary | undefined;
  let fixtureError: string | undefined;
  if (details.format === 'django-fixture') {
    fixture = await readFixture(plain, onObject).catch((err: unknown) => {
      fixtureError = (err as Error).message;
      plain.resume();
      return undefined;
    });
  } else plain.resume();
  await read;
  return { size: tap.bytes, sha256: tap.digest(), fixture, fixtureError };
}

/** Compares objects per model with the recorded ones; throws naming the differences. */
export function compareModels(recorded: { name: string; rows: number }[], found: { name: string; rows: number }[]): string {
  const now = new Map(found.map((m) => [m.name, m.rows]));
  const names = [...new Set([...recorded.map((m) => m.name), ...now.keys()])].sort();
  const want = new Map(recorded.map((m) => [m.name, m.rows]));
  const wrong = names.filter((n) => (want.get(n) ?? 0) !== (now.get(n) ?? 0)).map((n) => `${n}: ${now.get(n) ?? 0} objects, recorded ${want.get(n) ?? 0}`);
  if (wrong.length) throw new Error(wrong.slice(0, 10).join('; '));
  return `${count(
    recorded.reduce((n, m) => n + m.rows, 0),
    'object',
  )} of ${count(recorded.length, 'model')}`;
}

/**
 * Feeds the stored output to the drill command, which loads it into a throw-away target of its
 * own; `LIFEBOAT_DRILL_DIR` names an empty folder for it inside the drill's scratch folder. Throws
 * with the end of what the command said unless it exits with status 0.
 */
async function drillLoad(source: CommandSource, reader: ArtifactReader, artifact: Artifact & { details: CommandOutputDetails }, scratch: string, signal: AbortSignal): Promise<string> {
  const rawSize = artifact.details.rawSize;
  const step = stepOf(source, 'drill');
  await checkStep(source, 'drill');
  const folder = path.join(scratch, 'drill-target');
  await fs.mkdir(folder, { mode: 0o700 });
  const running = startStep(source, 'drill', signal, reader.open(artifact), { LIFEBOAT_DRILL_DIR: folder });
  let stdout = '';
  running.stdout.on('data', (d: Buffer) => {
    stdout = (stdout + d.toString('utf8')).slice(-4096);
  });
  let exit: ProgramExit;
  try {
    exit = await running.exit;
  } catch (err) {
    throw new Error(`${shown(step)} could not be started: ${(err as Error).message}`, { cause: err });
  }
  if (exit.aborted) throw cancelled();
  const out = exit.stderr || stdout.trim();
  if (exit.code !== 0) throw new Error(`${shown(step)} ${describeExit(exit, source.timeoutSeconds * 1000)}${said(out, 'its output')}`);
  const last = stdout.trim().split('\n').at(-1)?.trim().slice(0, 200);
  return `${shown(step)} read ${rawSize} bytes and exited with status 0${last ? `: ${last}` : ''}`;
}

async function check(ctx: CheckContext): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  const artifact = outputOf(ctx.artifacts);
  if (!artifact) return checks;
  const d = artifact.details;
  ctx.progress.setPhase('decompress', ctx.source);
  let proof: Awaited<ReturnType<typeof proveOutput>> | undefined;
  const whole = await timedCheck(checks, artifact.file, 'decompresses to the recorded output', async () => {
    proof = await proveOutput(ctx.reader, artifact);
    ctx.progress.addBytes(proof.size);
    if (proof.size !== d.rawSize || proof.sha256 !== d.rawSha256)
      throw new Error(`decompressed to ${proof.size} bytes with SHA-256 ${proof.sha256.slice(0, 12)}…, the manifest records ${d.rawSize} bytes and ${d.rawSha256.slice(0, 12)}…`);
    return `${d.rawSize} bytes, SHA-256 matches`;
  });
  if (!whole || !proof) return checks;
  if (d.format === 'django-fixture') {
    const p = proof;
    const parsed = await timedCheck(checks, artifact.file, 'Django fixture parses', async () => {
      if (p.fixtureError || !p.fixture) throw new Error(p.fixtureError ?? 'not read');
      return `a JSON array of ${count(p.fixture.objects, 'object')}, each with "model" and "fields"`;
    });
    if (!parsed) return checks;
    await timedCheck(checks, artifact.file, 'objects per model as recorded', async () => compareModels(d.models ?? [], p.fixture!.models));
  }
  // Parsing proves the shape; only loading it somewhere proves the application takes it back.
  const config = ctx.config?.kind === 'command' ? ctx.config : undefined;
  if (config?.drill) {
    ctx.progress.setPhase('drill command', ctx.source);
    await timedCheck(checks, artifact.file, 'drill command loads the output', () => drillLoad(config, ctx.reader, artifact, ctx.scratch, ctx.signal));
  }
  return checks;
}

export const commandPlugin: SourcePlugin<CommandSource> = { kind: 'command', inspect, capture, check };
