// `npm run bench`: Lifeboat's backup and drill beside the plain tools (sqlite3, gzip, tar, sha256sum)
// on the same generated data in the same run. Prints a table, writes JSON, exits non-zero only when
// a step itself failed. Usage: bench [--scale GB] [--scales 0.25,1] [--dir DIR] [--out FILE] [--keep]
// --scales runs only Lifeboat (backup, then drill) once per scale, and writes bench-output/bench-scales.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { generateDataset, type Dataset } from './dataset.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LIFEBOAT = path.join(REPO, 'bin', 'lifeboat.js');
const MB = 1024 * 1024;
const TARGETS = { backupRatio: 0.8, drillRatio: 1.5, peakMb: 200 };
const NEEDED = { sqlite3: 'sqlite3', gzip: 'gzip', tar: 'tar', sha256sum: 'coreutils', python3: 'python3' };

/** Runs argv[2:], then writes its wall time and the largest descendant's peak RSS (KB) to argv[1]. */
const MEASURE_PY = `import json, resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[2:]).returncode
s = time.monotonic() - t
with open(sys.argv[1], 'w') as f:
    json.dump({"rc": rc, "seconds": s, "maxrssKb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, f)
sys.exit(rc)`;

/** One measured command: wall seconds, peak MB of its largest process, and what it printed. */
interface Run {
  label: string;
  ok: boolean;
  rc: number;
  seconds: number;
  peakMb: number;
  stdout: string;
  stderr: string;
}
/** A step made of commands run one after another: total seconds, largest peak. */
interface Step {
  ok: boolean;
  seconds: number;
  peakMb: number;
  parts: Run[];
}
type Env = Record<string, string>;

const Stats = z.object({ rc: z.number(), seconds: z.number(), maxrssKb: z.number() });
const BackupJson = z.object({ id: z.string(), path: z.string() });
const DrillJson = z.object({
  passed: z.boolean(),
  checks: z.array(z.object({ target: z.string(), name: z.string(), status: z.string(), reason: z.string() })),
});

/** Runs one command through the python3 wrapper, with `env` added to the inherited variables. */
function measure(label: string, argv: string[], env: Env = {}): Run {
  const stats = path.join(os.tmpdir(), `lifeboat-bench-${process.pid}.json`);
  fs.rmSync(stats, { force: true });
  const r = spawnSync('python3', ['-c', MEASURE_PY, stats, ...argv], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * MB });
  const got = fs.existsSync(stats) ? Stats.parse(JSON.parse(fs.readFileSync(stats, 'utf8'))) : { rc: r.status ?? -1, seconds: 0, maxrssKb: 0 };
  fs.rmSync(stats, { force: true });
  const run = { label, ok: got.rc === 0, rc: got.rc, seconds: got.seconds, peakMb: got.maxrssKb / 1024, stdout: r.stdout, stderr: r.stderr };
  if (!run.ok) process.stderr.write(`\n✗ ${label} exited ${run.rc}\n${run.stderr}${run.stdout.slice(0, 4000)}\n`);
  return run;
}

/** Runs commands in order and stops at the first failure. */
function step(cmds: Array<[string, string[]]>, env: Env = {}): Step {
  const parts: Run[] = [];
  for (const [label, argv] of cmds) {
    const run = measure(label, argv, env);
    parts.push(run);
    if (!run.ok) break;
  }
  const ok = parts.length === cmds.length && parts.every((p) => p.ok);
  return { ok, seconds: parts.reduce((s, p) => s + p.seconds, 0), peakMb: Math.max(0, ...parts.map((p) => p.peakMb)), parts };
}

/** Untimed: `sync`, then reads every file under `paths` once so the page cache is warm. */
function warm(...paths: string[]): void {
  spawnSync('bash', ['-c', 'sync; find "$@" -type f -exec cat {} + > /dev/null', '_', ...paths], { stdio: 'ignore' });
}

const sh = (script: string, ...args: string[]): string[] => ['bash', '-c', `set -eo pipefail; ${script}`, '_', ...args];
const firstLine = (cmd: string): string => (spawnSync(cmd, ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0] ?? '';
const dirBytes = (p: string): number => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).reduce((s, n) => s + dirBytes(path.join(p, n)), 0) : fs.statSync(p).size);
const mb = (bytes: number | null): string => (bytes === null ? '—' : `${(bytes / MB).toFixed(1)} MB`);
const num = (n: number | null, digits = 2): string => (n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits));
const json = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const [i, r] of rows.entries()) {
    console.log(
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** Generates data, writes and imports the environment file; returns the variables Lifeboat runs with. */
function prepare(dir: string, scale: number, failures: string[]): { ds: Dataset; env: Env; genSeconds: number } {
  const t = Date.now();
  console.log(`generating ${scale} GB of data in ${dir} …`);
  const ds = generateDataset(path.join(dir, 'data'), scale);
  const genSeconds = (Date.now() - t) / 1000;
  console.log(`  ${mb(ds.bytes.total)} (db ${mb(ds.bytes.db)}, assets ${mb(ds.bytes.assets)} in ${ds.files.assets} files, faiss ${mb(ds.bytes.faiss)}) in ${genSeconds.toFixed(1)} s`);
  const envFile = path.join(dir, 'bench.env.json');
  fs.writeFileSync(
    envFile,
    JSON.stringify(
      {
        name: 'bench',
        app: 'bench',
        protection: 'normal',
        location: path.join(dir, 'sets'),
        sources: [
          { kind: 'sqlite', name: 'db', path: ds.dbPath },
          { kind: 'files', name: 'assets', path: ds.assetsDir, include: ['**/*'], exclude: [] },
          { kind: 'files', name: 'faiss', path: ds.faissDir, include: ['*.index', '*.meta.json'] },
        ],
      },
      null,
      2,
    ),
  );
  const env = { LIFEBOAT_HOME: path.join(dir, 'home') };
  const r = spawnSync('node', [LIFEBOAT, 'env', 'import', envFile], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) failures.push(`lifeboat env import exited ${r.status}: ${r.stderr.trim().split('\n').slice(0, 8).join('\n')}`);
  return { ds, env, genSeconds };
}

/** Lifeboat's backup, measured; returns the sealed set named in its JSON. */
function lifeboatBackup(env: Env, failures: string[]): { step: Step; set: z.infer<typeof BackupJson> | null } {
  const s = step([['lifeboat backup', [LIFEBOAT, 'backup', '--env', 'bench', '--json']]], env);
  if (!s.ok) return (failures.push(`lifeboat backup exited ${s.parts[0]?.rc}`), { step: s, set: null });
  const parsed = BackupJson.safeParse(json(s.parts[0]?.stdout ?? ''));
  if (!parsed.success) failures.push(`lifeboat backup printed unexpected JSON: ${(s.parts[0]?.stdout ?? '').slice(0, 500)}`);
  return { step: s, set: parsed.success ? parsed.data : null };
}

/** Lifeboat's drill of the latest set (at `setPath`, warmed first), measured; a drill that did not pass is a failure. */
function lifeboatDrill(env: Env, setPath: string, failures: string[]): { step: Step; report: z.infer<typeof DrillJson> | null } {
  warm(setPath);
  console.log('lifeboat drill …');
  const s = step([['lifeboat drill', [LIFEBOAT, 'drill', '--env', 'bench', '--latest', '--json']]], env);
  const parsed = DrillJson.safeParse(json(s.parts[0]?.stdout ?? ''));
  if (!s.ok) failures.push(`lifeboat drill exited ${s.parts[0]?.rc}`);
  if (!parsed.success) failures.push(`lifeboat drill printed unexpected JSON: ${(s.parts[0]?.stdout ?? '').slice(0, 500)}`);
  else if (!parsed.data.passed) {
    const bad = parsed.data.checks.filter((c) => c.status !== 'PASS').map((c) => `  ${c.target} ${c.name}: ${c.reason}`);
    failures.push(`lifeboat drill did not pass:\n${bad.join('\n')}\n${s.parts[0]?.stderr ?? ''}`);
  }
  return { step: s, report: parsed.success ? parsed.data : null };
}

/** The comparison at one scale: warm cache, plain backup, Lifeboat backup, plain drill, Lifeboat drill. */
function compare(dir: string, scale: number, failures: string[]): Record<string, unknown> {
  const { ds, env, genSeconds } = prepare(dir, scale, failures);
  const out = path.join(dir, 'plain');
  fs.mkdirSync(out, { recursive: true });
  const [dbOut, dbGz, assetsTar, faissTar] = ['db.sqlite', 'db.sqlite.gz', 'assets.tar.gz', 'faiss.tar.gz'].map((f) => path.join(out, f)) as [string, string, string, string];
  const inputs = [path.dirname(ds.dbPath), ds.assetsDir, ds.faissDir];

  warm(...inputs);
  console.log('plain backup …');
  const plainBackup = step([
    ['sqlite3 .backup', ['sqlite3', ds.dbPath, `.backup '${dbOut}'`]],
    ['gzip -6', sh('gzip -6 -c "$1" > "$2"; rm "$1"', dbOut, dbGz)],
    ['tar czf assets', ['tar', 'czf', assetsTar, '-C', ds.assetsDir, '.']],
    ['tar czf faiss', ['tar', 'czf', faissTar, '-C', ds.faissDir, 'vectors.index', 'vectors.meta.json']],
    ['sha256sum', sh('cd "$1"; sha256sum db.sqlite.gz assets.tar.gz faiss.tar.gz > SHA256SUMS', out)],
  ]);
  if (!plainBackup.ok) failures.push('plain backup failed');
  warm(...inputs);
  console.log('lifeboat backup …');
  const lb = lifeboatBackup(env, failures);
  warm(out);
  console.log('plain drill …');
  const plainDrill = step([
    ['gunzip + integrity_check', sh('gunzip -c "$1" > "$2"; r=$(sqlite3 "$2" "PRAGMA integrity_check"); rm "$2"; echo "$r"; test "$r" = ok', dbGz, path.join(out, 'restored.sqlite'))],
    ['tar tzf assets', sh('tar tzf "$1" > /dev/null', assetsTar)],
    ['tar tzf faiss', sh('tar tzf "$1" > /dev/null', faissTar)],
    ['sha256sum -c', sh('cd "$1"; sha256sum --quiet -c SHA256SUMS', out)],
  ]);
  if (!plainDrill.ok) failures.push('plain drill failed');
  const drill = lb.set ? lifeboatDrill(env, lb.set.path, failures) : null;
  const floor = measure('wrapper floor', ['true']).peakMb;
  const startup = measure('lifeboat --help', [LIFEBOAT, '--help'], env);

  const plainOut = [dbGz, assetsTar, faissTar].reduce((s, f) => s + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);
  const lbOut = lb.set && fs.existsSync(lb.set.path) ? dirBytes(lb.set.path) : null;
  const ok = (s: Step | null | undefined): s is Step => s?.ok === true;
  const ratio = (l: Step | null | undefined, p: Step): number | null => (ok(l) && p.ok && p.seconds > 0 ? l.seconds / p.seconds : null);
  const backupRatio = ratio(lb.step, plainBackup);
  const drillRatio = ratio(drill?.step, plainDrill);
  const lbPeak = ok(lb.step) ? Math.max(lb.step.peakMb, drill?.step.peakMb ?? 0) : null;
  const cell = (s: Step | null | undefined, f: (s: Step) => string): string => (ok(s) ? f(s) : '—');
  console.log('');
  printTable([
    ['step', 'plain s', 'Lifeboat s', 'ratio', 'plain peak MB', 'Lifeboat peak MB', 'data size', 'output size (plain / Lifeboat)'],
    [
      'backup',
      num(plainBackup.seconds),
      cell(lb.step, (s) => num(s.seconds)),
      num(backupRatio),
      num(plainBackup.peakMb, 1),
      cell(lb.step, (s) => num(s.peakMb, 1)),
      mb(ds.bytes.total),
      `${mb(plainOut)} / ${mb(lbOut)}`,
    ],
    [
      'drill',
      num(plainDrill.seconds),
      cell(drill?.step, (s) => num(s.seconds)),
      num(drillRatio),
      num(plainDrill.peakMb, 1),
      cell(drill?.step, (s) => num(s.peakMb, 1)),
      `${mb(plainOut)} / ${mb(lbOut)}`,
      '—',
    ],
  ]);
  const targets = [
    { name: `backup ratio ≤ ${TARGETS.backupRatio}`, value: backupRatio, pass: backupRatio !== null && backupRatio <= TARGETS.backupRatio },
    { name: `drill ratio ≤ ${TARGETS.drillRatio}`, value: drillRatio, pass: drillRatio !== null && drillRatio <= TARGETS.drillRatio },
    { name: `Lifeboat peak memory < ${TARGETS.peakMb} MB`, value: lbPeak, pass: lbPeak !== null && lbPeak < TARGETS.peakMb },
  ];
  console.log('');
  for (const t of targets) console.log(`${t.value === null ? 'n/a ' : t.pass ? 'PASS' : 'MISS'}  ${t.name}  (${num(t.value)})`);
  console.log(`\nplain parts: ${plainBackup.parts.map((p) => `${p.label} ${num(p.seconds)} s`).join(', ')}`);
  console.log(`peaks include the wrapper's fork floor (${num(floor, 1)} MB, what \`true\` measures); Lifeboat CLI start-up alone: ${num(startup.seconds)} s, ${num(startup.peakMb, 1)} MB`);

  const strip = (s: Step | null | undefined) => s && { ...s, parts: s.parts.map(({ stdout: _o, stderr: _e, ...rest }) => rest) };
  return {
    mode: 'compare',
    scale,
    genSeconds,
    dataset: { bytes: ds.bytes, assetFiles: ds.files.assets },
    plain: { backup: strip(plainBackup), drill: strip(plainDrill), outputBytes: plainOut },
    lifeboat: { backup: strip(lb.step), drill: strip(drill?.step), set: lb.set, outputBytes: lbOut, drillPassed: drill?.report?.passed ?? null, drillChecks: drill?.report?.checks.length ?? null },
    ratios: { backup: backupRatio, drill: drillRatio },
    lifeboatPeakMb: lbPeak,
    targets,
    wrapperFloorMb: floor,
    lifeboatStartup: { seconds: startup.seconds, peakMb: startup.peakMb },
  };
}

/** Lifeboat's backup and drill at several scales, to show whether peak memory grows with the data. */
function sweep(dir: string, scales: number[], keep: boolean, failures: string[]): Record<string, unknown> {
  const runs: Array<{ scale: number; dataBytes: number; outputBytes: number | null; backup: Step; drill: Step | null }> = [];
  for (const scale of scales) {
    const sub = path.join(dir, `scale-${scale}`);
    const { ds, env } = prepare(sub, scale, failures);
    warm(path.dirname(ds.dbPath), ds.assetsDir, ds.faissDir);
    console.log(`lifeboat backup at ${scale} GB …`);
    const { step: backup, set } = lifeboatBackup(env, failures);
    const drill = set ? lifeboatDrill(env, set.path, failures).step : null;
    runs.push({ scale, dataBytes: ds.bytes.total, outputBytes: set ? dirBytes(set.path) : null, backup, drill });
    if (!keep) fs.rmSync(sub, { recursive: true, force: true });
  }
  const fig = (s: Step | null, f: (s: Step) => number, digits: number): string => (s?.ok ? num(f(s), digits) : '—');
  console.log('');
  printTable([
    ['scale GB', 'data size', 'backup s', 'backup peak MB', 'drill s', 'drill peak MB', 'output size'],
    ...runs.map((r) => [
      String(r.scale),
      mb(r.dataBytes),
      fig(r.backup, (s) => s.seconds, 2),
      fig(r.backup, (s) => s.peakMb, 1),
      fig(r.drill, (s) => s.seconds, 2),
      fig(r.drill, (s) => s.peakMb, 1),
      mb(r.outputBytes),
    ]),
  ]);
  const strip = (s: Step | null) => s && { ok: s.ok, seconds: s.seconds, peakMb: s.peakMb };
  return { mode: 'scales', runs: runs.map((r) => ({ ...r, backup: strip(r.backup), drill: strip(r.drill) })) };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      scales: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const missing = Object.entries(NEEDED).filter(([bin]) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', bin]).status !== 0);
  if (missing.length) {
    console.error(missing.map(([bin, pkg]) => `missing ${bin}: install the Debian package "${pkg}" (apt-get install ${pkg})`).join('\n'));
    return 2;
  }
  const scales = values.scales?.split(',').map(Number);
  const scale = Number(values.scale);
  if (!(scale > 0) || scales?.some((s) => !(s > 0))) return (console.error('--scale and --scales take sizes in GB, > 0'), 2);
  if (values.dir && fs.existsSync(values.dir) && fs.readdirSync(values.dir).length) return (console.error(`--dir ${values.dir} is not empty`), 2);
  const outFile = path.resolve(values.out ?? path.join(REPO, 'bench-output', scales ? 'bench-scales.json' : 'bench.json'));
  const dir = values.dir ? path.resolve(values.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-'));
  fs.mkdirSync(dir, { recursive: true });
  const failures: string[] = [];
  const date = new Date().toISOString();
  try {
    const result = scales ? sweep(dir, scales, values.keep, failures) : compare(dir, scale, failures);
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      totalMemBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      sqlite3: firstLine('sqlite3'),
      gzip: firstLine('gzip'),
    };
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify({ date, machine, dir, ...result, failures }, null, 2) + '\n');
    console.log(`\nwrote ${outFile}`);
  } finally {
    if (!values.dir && !values.keep) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`data kept in ${dir}`);
  }
  if (failures.length) console.error(`\n${failures.length} step(s) failed:\n- ${failures.join('\n- ')}`);
  return failures.length ? 1 : 0;
}

process.exitCode = main();
