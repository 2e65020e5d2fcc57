import { Command, CommanderError, Option } from 'commander';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { EXIT_CODES, type ErrorShape } from '../shared/errors.js';
import { exitCodeOf } from '../shared/outcome.js';
import { count, formatBytes, formatDuration, formatOwnership } from '../shared/format.js';
import type { MethodName, ResultOf } from '../shared/api.js';
import type { Progress } from '../shared/progress.js';
import { Engine } from './engine/engine.js';
import { LifeboatError, toErrorShape } from './engine/errors.js';
import { lifeboatHome } from './engine/home.js';
import { startWebHost } from './web.js';
import { writeFileAtomic } from './engine/durable.js';
import { prometheusText } from './engine/prometheus.js';
import { registerRunDueCommand } from './engine/system-timer.js';
import { fileURLToPath } from 'node:url';

/**
 * The command-line door: parses words into a contract call, prints the result for a person or as
 * one JSON document (`--json`), and maps failures to the documented exit codes. No logic lives here.
 */
const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

// A reader that stops early (`lifeboat list | head -1`) closes the pipe. What is left to print then
// has nowhere to go, which is not a failure: it is dropped, and the command ends with its own status.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

interface Common {
  json?: boolean;
}

/** How long a cancelled call may take to remove its partial work before the process ends anyway. */
const CANCEL_GRACE_MS = 10_000;

/**
 * Runs one contract call with cancellation on Ctrl-C or SIGTERM and progress on a terminal;
 * returns its result, or undefined after a failure. A cancelled call that has not ended within
 * CANCEL_GRACE_MS ends the process anyway: what it leaves (a partial set, a restore's journal) is
 * what a killed run leaves, and the next run cleans it up.
 */
async function call<M extends MethodName>(method: M, args: unknown, opts: Common, print: (r: ResultOf<M>) => void): Promise<ResultOf<M> | undefined> {
  const controller = new AbortController();
  let interrupts = 0;
  let grace: NodeJS.Timeout | undefined;
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received = signal;
    if (++interrupts > 1) endBySignal(signal);
    err('Cancelling… (the partial work is being removed)');
    controller.abort();
    grace = setTimeout(() => {
      report(
        {
          code: 'CANCELLED',
          message: `Cancelled by ${signal}, but the work did not stop within ${CANCEL_GRACE_MS / 1000} s; Lifeboat stopped it there.`,
          hint: 'The next run cleans up what it had begun (a partial set is removed, an unfinished restore is rolled back or forward). Start it again when ready.',
        },
        opts,
      );
      process.exit(process.exitCode);
    }, CANCEL_GRACE_MS).unref();
  };
  // Should the call's work stop without settling (nothing left to wait for), say so instead of
  // letting Node exit 13 with nothing printed.
  const unsettled = () =>
    report(
      {
        code: 'INTERNAL',
        message: `The ${method} call stopped without a result or an error.`,
        hint: 'This is a bug in Lifeboat: run the command again, and report it with the activity log if it repeats.',
      },
      opts,
    );
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('beforeExit', unsettled);
  let engine: Engine | undefined;
  try {
    engine = new Engine(lifeboatHome(), 'cli');
    for (const note of await engine.recover()) err(`Note: ${note.message}`);
    const showProgress = !opts.json && process.stderr.isTTY;
    const result = await engine.call(method, args, { signal: controller.signal, onProgress: showProgress ? drawProgress : undefined });
    if (showProgress) process.stderr.write('\r\x1b[K');
    if (opts.json) out(JSON.stringify(result, null, 2));
    else print(result);
    if (method === 'drill.run' && !(result as ResultOf<'drill.run'>).passed) process.exitCode = EXIT_CODES.failed;
    if (method === 'restore.preview' && !(result as ResultOf<'restore.preview'>).ready) process.exitCode = EXIT_CODES.refused;
    if (method === 'status.get' && (result as ResultOf<'status.get'>).level === 'fail') process.exitCode = EXIT_CODES.failed;
    if (method === 'schedule.runDue' && (result as ResultOf<'schedule.runDue'>).ran.some((j) => j.steps.some((s) => s.outcome === 'failed'))) process.exitCode = EXIT_CODES.failed;
    return result;
  } catch (e) {
    report(toErrorShape(e), opts);
    return undefined;
  } finally {
    clearTimeout(grace);
    const stuck = (engine?.abandonedWork() ?? 0) > 0;
    engine?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('beforeExit', unsettled);
    // Work the engine stopped waiting for (a read on a hung disk) must not keep the command running.
    if (stuck) endBySignal(received ?? 'SIGTERM');
  }
}

/**
 * Ends the process at once by the signal's default action (exit status 128 + its number, as an
 * interrupted command ends). `process.exit` would wait for ever: Node joins its I/O threads on the
 * way out, and one of them may be blocked in a read that never returns.
 */
function endBySignal(sig: NodeJS.Signals): never {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig); // delivered to this thread before kill() returns
  process.exit(128 + (constants.signals[sig] ?? 15));
}

function report(shape: ErrorShape, opts: Common): void {
  if (opts.json) out(JSON.stringify({ error: shape }, null, 2));
  err(`Error: ${shape.message}`);
  err(`Hint: ${shape.hint}`);
  process.exitCode = exitCodeOf(shape.code);
}

function drawProgress(p: Progress): void {
  const pct = p.bytesTotal ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 0;
  const left = p.secondsLeft === null ? '' : `, ${formatDuration(p.secondsLeft * 1000)} left`;
  process.stderr.write(
    `\r\x1b[K${p.phase}${p.source ? ` ${p.source}` : ''}: ${pct}% · ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${p.filesDone}/${p.filesTotal} files · ${formatBytes(p.bytesPerSecond)}/s${left}`,
  );
}

/** An environment file is small; anything larger is not one (and `/dev/zero` would never end). */
const MAX_ENV_FILE = 1 << 20;

/** What a path that is not a regular file is, for the refusal. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads an environment file, bounded in type and size before a byte is read: a FIFO would block
 * and a device never end. Opened non-blocking and checked again on the open file, so a path
 * swapped after the first look cannot slip through.
 */
function readEnvironmentText(file: string): string {
  const refuse = (why: string) =>
    new LifeboatError('BAD_ARGUMENT', `${file} is ${why}, not an environment file.`, 'Give the path of an environment file (JSON) on disk; to import what a program prints, save it to a file first.');
  const tooLarge = (size: string) =>
    new LifeboatError(
      'TOO_LARGE',
      `${file} is ${size}; an environment file is at most ${MAX_ENV_FILE} bytes (1 MiB).`,
      'Check that this is the environment file you meant: it holds one environment as JSON.',
    );
  let fd: number | undefined;
  try {
    const before = statSync(file);
    if (!before.isFile()) throw refuse(kindOf(before));
    if (before.size > MAX_ENV_FILE) throw tooLarge(`${before.size} bytes`);
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse(kindOf(st));
    const buf = Buffer.alloc(MAX_ENV_FILE + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_ENV_FILE) throw tooLarge('larger than that');
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof LifeboatError) throw e;
    throw new LifeboatError('BAD_ARGUMENT', `Cannot read ${file}: ${(e as Error).message}.`, 'Give the path of an environment file (JSON).');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readJsonFile(file: string): unknown {
  const text = readEnvironmentText(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LifeboatError('BAD_ENVIRONMENT', `${file} is not valid JSON: ${(e as Error).message}.`, 'Fix the JSON syntax (a linter or `python3 -m json.tool FILE` shows where) and import again.');
  }
}

const json = () => new Option('--json', 'print one JSON document on stdout');
const program = new Command('lifeboat')
  .description('Back up, drill and restore the local data of applications.')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .showHelpAfterError('(run lifeboat --help for the commands)');

const envCmd = program.command('env').description('manage environments');
envCmd
  .command('import')
  .argument('<file>', 'environment file (JSON)')
  .description('create or replace the environment of that name from a file')
  .option('--confirm <name>', "the environment's name: required to lower a protected environment's protection, change its location or remove a source")
  .addOption(json())
  .action(async (file: string, o: Common & { confirm?: string }) => {
    const abs = path.resolve(file);
    let environment: unknown;
    try {
      environment = readJsonFile(abs);
    } catch (e) {
      return report(toErrorShape(e), o);
    }
    await call('env.save', { environment, baseDir: path.dirname(abs), confirm: o.confirm }, o, (env) =>
      out(`Imported environment ${env.app}/${env.name} (${env.protection}): ${env.sources.length} sources, sets go to ${env.location}`),
    );
  });
envCmd
  .command('export')
  .argument('<name>', 'environment name or app/name')
  .option('--out <file>', 'write to a file instead of standard output')
  .description('write an environment back as a file')
  .action(async (name: string, o: { out?: string }) => {
    await call('env.get', { env: name }, { json: false }, (env) => {
      const text = `${JSON.stringify(env, null, 2)}\n`;
      if (o.out) writeFileSync(o.out, text, { mode: 0o600 });
      else process.stdout.write(text);
    });
  });
envCmd
  .command('list')
  .description('list environments')
  .addOption(json())
  .action(async (o: Common) => {
    await call('env.list', {}, o, (list) => {
      if (!list.length) return out('No environments yet. Import one with: lifeboat env import FILE');
      for (const e of list) out(`${e.key.padEnd(28)} ${e.protection.padEnd(10)} ${String(e.sets).padStart(4)} sets  last backup ${e.lastBackupAt ?? 'never'}  ${e.location}`);
    });
  });
envCmd
  .command('show')
  .argument('<name>', 'environment name or app/name')
  .addOption(json())
  .description('show an environment')
  .action(async (name: string, o: Common) => {
    await call('env.get', { env: name }, o, (env) => out(JSON.stringify(env, null, 2)));
  });

program
  .command('backup')
  .description('back up every source of an environment into a new sealed set')
  .requiredOption('--env <name>', 'environment name or app/name')
  .addOption(json())
  .action(async (o: Common & { env: string }) => {
    await call('backup.run', { env: o.env }, o, (r) => {
      for (const c of r.cleaned) out(`Cleaned up ${c}.`);
      out(`Backup ${r.id} sealed: ${r.artifacts.length} artifacts, ${formatBytes(r.sizeBytes)} in ${formatDuration(r.durationMs)}.`);
      out(`  ${r.path}`);
      out(`Check it restores with: lifeboat drill --env ${o.env} --set ${r.id}`);
    });
  });

program
  .command('list')
  .description('list the backup sets of an environment, newest first')
  .requiredOption('--env <name>', 'environment name or app/name')
  .addOption(json())
  .action(async (o: Common & { env: string }) => {
    await call('sets.list', { env: o.env }, o, (sets) => {
      if (!sets.length) return out(`No backup sets yet. Make one with: lifeboat backup --env ${o.env}`);
      for (const s of sets) {
        const drill = s.drill ? (s.drill.passed ? 'drill PASS' : 'drill FAIL') : 'not drilled';
        out(`${s.id.padEnd(36)} ${formatBytes(s.sizeBytes).padStart(9)} ${formatDuration(s.durationMs).padStart(10)}  ${drill}${s.label ? `  [${s.label}]` : ''}`);
      }
    });
  });

program
  .command('drill')
  .description('prove a backup set restores, without touching live data')
  .requiredOption('--env <name>', 'environment name or app/name')
  .addOption(new Option('--set <id>', 'the set to drill').conflicts('latest'))
  .option('--latest', 'drill the newest set (the default)')
  .addOption(json())
  .action(async (o: Common & { env: string; set?: string }) => {
    await call('drill.run', { env: o.env, set: o.set }, o, (r) => {
      for (const c of r.checks) out(`${c.status === 'PASS' ? 'PASS' : 'FAIL'}  ${c.target} — ${c.name}: ${c.reason} (${formatDuration(c.durationMs)})`);
      const failed = r.checks.filter((c) => c.status === 'FAIL').length;
      out(
        r.passed
          ? `Drill of ${r.setId} passed: ${r.checks.length} checks in ${formatDuration(r.durationMs)}.`
          : `Drill of ${r.setId} FAILED: ${failed} of ${r.checks.length} checks failed. Do not restore from this set.`,
      );
    });
  });

program
  .command('restore')
  .description('restore a backup set: preview, pre-flight checks, safety backup, swap, verification')
  .requiredOption('--env <name>', 'environment name or app/name')
  .requiredOption('--set <id>', 'the set to restore (see lifeboat list)')
  .option('--dry-run', 'show what would change and the pre-flight checks; change nothing')
  .option('--to <dir>', 'restore into this (empty or new) folder instead of the live paths')
  .option('--to-database <name>', 'restore PostgreSQL sources into this new database on the same server instead of the live one')
  .option('--confirm <name>', "the environment's name (app/name where another app has one of that name): required to restore a protected environment")
  .addOption(json())
  .action(async (o: Common & { env: string; set: string; dryRun?: boolean; to?: string; toDatabase?: string; confirm?: string }) => {
    const args = { env: o.env, set: o.set, to: o.to ? path.resolve(o.to) : undefined, toDatabase: o.toDatabase };
    if (o.dryRun) {
      await call('restore.preview', args, o, (p) => {
        out(`Restore of ${p.setId} ${p.mode === 'live' ? 'over the live data' : `into ${[o.to, o.toDatabase && `database ${o.toDatabase}`].filter(Boolean).join(' and ')}`} would change:`);
        for (const s of p.sources) {
          out(`  ${s.source} → ${s.target}${s.targetExists ? '' : ' (does not exist now)'}`);
          if (s.type === 'tables') for (const t of s.tables) out(`    table ${t.name}: ${t.now ?? '—'} rows now, ${t.inSet ?? '—'} in the set`);
          else if (s.type === 'command') out(`    runs ${s.argv.join(' ')} with the set's output (${formatBytes(s.inputBytes)}) on its standard input`);
          else {
            out(
              `    ${s.added.count} files added (${formatBytes(s.added.bytes)}), ${s.removed.count} removed (${formatBytes(s.removed.bytes)}), ${s.changed.count} changed (${formatBytes(s.changed.bytes)}), ${s.unchanged} unchanged${s.kept ? `, ${s.kept} not covered by the source kept as they are` : ''}`,
            );
            for (const [kind, list] of [
              ['+', s.samples.added],
              ['-', s.samples.removed],
              ['~', s.samples.changed],
            ] as const)
              for (const f of list) out(`      ${kind} ${f.path}`);
          }
          if (s.type !== 'files' && s.loading) out(`    ${s.loading.merges === 'no' ? '' : 'WARN  '}${s.loading.note}`);
          if (s.type !== 'command' && s.ownership?.count) {
            out(`    ${count(s.ownership.count, 'path')} whose owner or mode after the restore differs from now or from the set:`);
            for (const c of s.ownership.samples)
              out(`      ${c.path}: ${c.now ? `now ${formatOwnership(c.now)}` : 'new'}${c.inSet ? `, set ${formatOwnership(c.inSet)}` : ''} → ${formatOwnership(c.after)} (${c.why})`);
          }
        }
        out('Pre-flight checks:');
        for (const c of p.preflight) out(`  ${c.status}  ${c.name} (${c.target}): ${c.reason}`);
        if (p.safetyLocation) out(`A safety backup of the current data will be taken first, into ${p.safetyLocation}.`);
        if (p.confirmAs) out(`This environment is protected: add --confirm ${p.confirmAs} to restore.`);
        out(p.ready ? 'Dry run: nothing was changed.' : 'Dry run: this restore would be refused (see the FAIL checks). Nothing was changed.');
      });
      return;
    }
    await call('restore.run', { ...args, confirm: o.confirm }, o, (r) => {
      for (const t of r.targets) out(`Restored ${t.source} → ${t.path}`);
      const warned = r.verification.filter((c) => c.status === 'WARN');
      out(`Verified after the restore: ${count(r.verification.length - warned.length, 'check')} passed${warned.length ? `, ${warned.length} could not prove everything` : ''}.`);
      for (const c of warned) out(`  WARN  ${c.target} — ${c.name}: ${c.reason}`);
      if (r.safetySet)
        out(
          `Safety backup of the data as it was: ${r.safetySet.id}\n  ${r.safetySet.path}\n${r.undoLimits.length ? 'To load it again (not a full undo)' : 'To undo this restore'}: lifeboat restore --env ${o.env} --set ${r.safetySet.id}`,
        );
      for (const u of r.undoLimits) out(`  ${u.source}: ${u.reason}`);
      out(`Restore of ${r.setId} done in ${formatDuration(r.durationMs)}.`);
    });
  });

program
  .command('catalog')
  .description("Lifeboat's own catalog")
  .command('rebuild')
  .description('rescan every backup location (and folders given) and index every sealed set')
  .option('--location <dir...>', 'also adopt the environments found in these backup folders')
  .addOption(json())
  .action(async (o: Common & { location?: string[] }) => {
    await call('catalog.rebuild', { locations: o.location ?? [] }, o, (r) => {
      for (const a of r.adoptedEnvironments) out(`Adopted environment ${a} from its backup sets.`);
      out(`Catalog rebuilt: ${count(r.environments.length, 'environment')}, ${count(r.sets, 'set')} (${r.added} added, ${r.removed} no longer on disk).`);
      for (const u of r.unreadable) out(`Could not read ${u.path}: ${u.message}`);
    });
  });

program
  .command('activity')
  .description('show the activity log')
  .option('--env <name>', 'only this environment')
  .option('--limit <n>', 'how many entries', '50')
  .addOption(json())
  .action(async (o: Common & { env?: string; limit: string }) => {
    await call('activity.list', { env: o.env, limit: Number(o.limit) }, o, (entries) => {
      for (const a of entries) out(`${a.at}  ${(a.env ?? '-').padEnd(20)} ${a.action.padEnd(16)} ${a.outcome.padEnd(9)} ${a.door.padEnd(4)} ${a.summary}`);
    });
  });

program
  .command('serve')
  .description("open Lifeboat's screens in a browser: a web host on 127.0.0.1 with a one-time address")
  .option('--port <n>', 'the port to listen on (0: any free port)', '0')
  .option('--no-schedule', 'do not run due scheduled jobs while serving (the system timer runs them)')
  .action(async (o: { port: string; schedule: boolean }) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return report({ code: 'BAD_ARGUMENT', message: `--port ${o.port} is not a port number.`, hint: 'Give a number from 1 to 65535, or 0 (or nothing) for any free port.' }, {});
    }
    let host;
    try {
      host = await startWebHost({ home: lifeboatHome(), port, schedule: o.schedule });
    } catch (e) {
      const busy = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
      return report(
        busy ? { code: 'BAD_ARGUMENT', message: `Port ${port} is already in use on 127.0.0.1.`, hint: 'Choose another port, or leave --port out to take any free one.' } : toErrorShape(e),
        {},
      );
    }
    // One write, so a reader of the output sees both lines at once.
    out(`Lifeboat web host: ${host.url}\nOpen that address in a browser on this machine (it works once); press Ctrl-C to stop.`);
    const opened = host;
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = () => {
        // A second signal while stopping ends the process at once.
        if (stopping) process.exit(130);
        stopping = true;
        err('Stopping the web host… (running work is cancelled and its partial files removed)');
        void opened.close().finally(() => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  });

const setOptions = (c: Command) => c.requiredOption('--env <name>', 'environment name or app/name').requiredOption('--set <id>', 'the set (see lifeboat list)').addOption(json());
for (const pinned of [true, false]) {
  setOptions(program.command(pinned ? 'pin' : 'unpin').description(pinned ? 'pin a set: it is never pruned nor deleted' : 'unpin a set: the retention policy may prune it again')).action(
    async (o: Common & { env: string; set: string }) => {
      await call('sets.pin', { env: o.env, set: o.set, pinned }, o, (s) => out(`${s.pinned ? 'Pinned' : 'Unpinned'} ${s.id}.`));
    },
  );
}

setOptions(program.command('delete').description('delete one backup set (refused for a pinned set)'))
  .option('--confirm <name>', "the environment's name: required for a protected environment")
  .action(async (o: Common & { env: string; set: string; confirm?: string }) => {
    await call('sets.delete', { env: o.env, set: o.set, confirm: o.confirm }, o, (r) => {
      for (const c of r.cleaned) out(`Cleaned up ${c}.`);
      out(`Deleted ${r.deleted.id} (${formatBytes(r.deleted.sizeBytes)} freed).`);
    });
  });

program
  .command('prune')
  .description("delete the sets the environment's retention policy does not keep")
  .requiredOption('--env <name>', 'environment name or app/name')
  .option('--dry-run', 'list what a prune would keep and delete, and why; delete nothing')
  .option('--confirm <name>', "the environment's name: required to prune a protected environment")
  .addOption(json())
  .action(async (o: Common & { env: string; dryRun?: boolean; confirm?: string }) => {
    await call('sets.prune', { env: o.env, dryRun: !!o.dryRun, confirm: o.confirm }, o, (r) => {
      for (const c of r.cleaned) out(`Cleaned up ${c}.`);
      for (const d of r.decisions)
        out(`${d.action === 'keep' ? 'KEEP ' : r.dryRun ? 'PRUNE' : 'GONE '}  ${d.id.padEnd(36)} ${formatBytes(d.sizeBytes).padStart(9)}  ${d.reasons.map((x) => x.text).join('; ')}`);
      out(r.summary);
    });
  });

program
  .command('run-due')
  .description('run the scheduled backups (then drills and prunes) that are due, and exit: for a system timer')
  .option('--now <time>', 'act as if it were this time (ISO 8601, e.g. 2026-11-22T02:05:00Z)')
  .addOption(json())
  .action(async (o: Common & { now?: string }) => {
    await call('schedule.runDue', { now: o.now }, o, (r) => {
      if (!r.ran.length) out('Nothing was due.');
      for (const j of r.ran) {
        const late = j.late
          ? ` — late by ${formatDuration(j.lateByMs)}${j.missedSlots ? `; ${j.missedSlots >= 1000 ? 'at least ' : ''}${j.missedSlots} earlier slots were missed and are not run again` : ''}`
          : '';
        out(`${j.env}: run for ${j.slot}${late}`);
        for (const s of j.steps) out(`  ${s.kind} ${s.outcome}: ${s.summary}`);
      }
      for (const n of r.next) out(`Next for ${n.env}: ${n.nextDueAt ?? 'never (check its schedule)'}`);
    });
  });

// The system timer starts this same command line: node and bin/lifeboat.js, one folder up from
// electron/ (the sources) and out/ (the bundle). The desktop app sets its own on its engine.
registerRunDueCommand([process.execPath, fileURLToPath(new URL('../bin/lifeboat.js', import.meta.url))]);
const scheduleCmd = program.command('schedule').description("the operating system's timer that runs `lifeboat run-due` while the app is closed");
for (const action of ['install', 'remove'] as const) {
  scheduleCmd
    .command(action)
    .description(
      action === 'install'
        ? 'write (and start) the timer: on Linux a systemd user timer, a systemd system timer (as root) or a crontab line, whichever works here (or --method); a launchd agent on macOS; a scheduled task on Windows'
        : 'stop and remove whichever timer is installed (or only --method)',
    )
    .option('--no-activate', 'only write (or remove) the files; print the commands that start (or stop) the timer')
    .addOption(new Option('--platform <name>', 'write the files of another platform').choices(['linux', 'darwin', 'win32']))
    .addOption(
      new Option('--method <how>', 'Linux: user (systemd user timer), system (systemd system timer, as root) or cron (a crontab line); detected when absent').choices(['user', 'system', 'cron']),
    )
    .addOption(json())
    .action(async (o: Common & { activate: boolean; platform?: 'linux' | 'darwin' | 'win32'; method?: 'user' | 'system' | 'cron' }) => {
      await call(action === 'install' ? 'schedule.install' : 'schedule.remove', { activate: o.activate, platform: o.platform, method: o.method }, o, (r) => out(r.message));
    });
}

program
  .command('status')
  .description('health and alerts per environment; exits 1 when anything is overdue or failing')
  .option('--env <name>', 'only this environment')
  .option('--prometheus <file>', 'also write the node-exporter textfile format to this file (atomically)')
  .option('--now <time>', 'judge as if it were this time (ISO 8601)')
  .addOption(json())
  .action(async (o: Common & { env?: string; prometheus?: string; now?: string }) => {
    const r = await call('status.get', { env: o.env, now: o.now }, o, (s) => {
      if (!s.environments.length) out('No environments yet. Import one with: lifeboat env import FILE');
      for (const e of s.environments) {
        const last = e.lastSet ? `last backup ${e.lastSet.finishedAt} (${formatBytes(e.lastSet.sizeBytes)} in ${formatDuration(e.lastSet.durationMs)})` : 'no backup yet';
        const drill = e.lastDrill ? `last drill ${e.lastDrill.passed ? 'PASS' : 'FAIL'} ${e.lastDrill.at}` : 'never drilled';
        out(`${e.env.padEnd(24)} ${e.level.toUpperCase().padEnd(4)}  ${last} · ${drill}${e.nextDueAt ? ` · next ${e.nextDueAt}` : ''}`);
        for (const a of e.alerts)
          out(`  ${a.severity.toUpperCase().padEnd(4)}  ${a.message}
        ${a.hint}`);
      }
    });
    if (r && o.prometheus) {
      try {
        await writeFileAtomic(path.resolve(o.prometheus), prometheusText(r), 0o644);
      } catch (e) {
        report({ code: 'WRITE_FAILED', message: `Cannot write ${o.prometheus}: ${(e as Error).message}.`, hint: "Give a file in node-exporter's textfile folder that this user can write." }, o);
      }
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_CODES.input;
  } else {
    report(toErrorShape(e), { json: process.argv.includes('--json') });
  }
}
