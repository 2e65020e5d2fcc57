import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/engine.js';
import { LifeboatError } from '../../electron/engine/errors.js';
import { ERROR_CLASSES } from '../../shared/errors.js';
import { fileSha, makeAppDb, makeAssets, treeFingerprint } from '../support/data.js';
import { Prng } from '../support/prng.js';
import { testSeed } from '../support/seed.js';
import { CLI, outputOf, useTempDirs, type CliResult } from '../support/tools.js';

/**
 * The environment-file fuzz: seeded mutations of a valid environment file, at the JSON level
 * (fields dropped, duplicated, retyped; huge strings, NUL, odd unicode; paths that climb, lead
 * through links, into /proc or into a source) and at the byte level (truncations, flips). Each
 * goes through the engine's `env.save` in this process, some through the real `env import`; a few
 * that are accepted are backed up. 0 crashes (every refusal a LifeboatError with a code, a message
 * and a hint, never INTERNAL), 0 hangs (a bound per mutation), 0 writes to the live data.
 */
const tempDir = useTempDirs();
const CASES = 300;
const CLI_EVERY = 30; // 10 of the 300 go through the real CLI too: the door is the same parser, and each start costs a second
const BACKUPS = 30; // accepted mutations with changed paths that are backed up (each is cheap: the data is small)
const BOUND_MS = 60_000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Place {
  root: string;
  /** Where the environment files are written: relative paths resolve against it, as `env import` does. */
  dir: string;
  live: string;
}

function makePlace(): Place {
  const root = tempDir();
  const live = path.join(root, 'live');
  mkdirSync(path.join(live, 'assets'), { recursive: true });
  makeAppDb(path.join(live, 'shop.db'), { rows: 50 });
  makeAssets(path.join(live, 'assets'));
  mkdirSync(path.join(root, 'files'));
  mkdirSync(path.join(root, 'home-folder'));
  writeFileSync(path.join(root, 'a-file'), 'not a folder\n');
  writeFileSync(path.join(root, 'notes.txt'), 'notes\n');
  symlinkSync(path.join(live, 'assets'), path.join(root, 'link-to-assets'));
  symlinkSync(path.join(live, 'shop.db'), path.join(root, 'link-to-db'));
  symlinkSync(live, path.join(root, 'link-to-live'));
  symlinkSync(path.join(root, 'loop'), path.join(root, 'loop'));
  symlinkSync('/proc/self', path.join(root, 'link-to-proc'));
  symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
  return { root, dir: path.join(root, 'files'), live };
}

/** A valid environment of a database and a folder, with every optional part: what may be backed up. */
function baseFiles(p: Place): { [k: string]: Json } {
  return {
    name: 'prod',
    app: 'shop',
    protection: 'normal',
    location: path.join(p.root, 'sets'),
    sources: [
      { kind: 'sqlite', name: 'db', path: path.join(p.live, 'shop.db') },
      { kind: 'files', name: 'assets', path: path.join(p.live, 'assets'), include: ['**/*'], exclude: ['*.tmp'] },
    ],
    retention: { keepLast: 3, daily: 7, safetyKeepDays: 7 },
    schedule: { at: 'daily 02:00', timezone: 'UTC', drillAfter: true, pruneAfter: false, graceMinutes: 60 },
    alerts: { minFreePercent: 5, sizeFactor: 1.5, durationFactor: 3, drillMaxAgeDays: 14 },
  };
}

/** Every kind of source, for the parser only: nothing of it is ever backed up (a command would run). */
function baseAllKinds(p: Place): { [k: string]: Json } {
  const env = baseFiles(p);
  (env.sources as Json[]).push(
    {
      kind: 'postgres',
      name: 'pg',
      host: '/var/run/postgresql',
      port: 5432,
      user: 'shop',
      database: 'shop',
      passwordEnv: 'SHOP_PG_PASSWORD',
      binDir: '/usr/lib/postgresql/16/bin',
      scratch: { user: 'shop', passfile: path.join(p.root, 'pgpass') },
      connectTimeoutSeconds: 10,
      timeoutSeconds: 60,
    },
    {
      kind: 'command',
      name: 'notes',
      dump: { argv: ['cat', path.join(p.root, 'notes.txt')], cwd: p.root, env: { LANG: 'C' } },
      restore: { argv: ['tee', path.join(p.root, 'notes.txt')] },
      timeoutSeconds: 60,
    },
  );
  return env;
}

/** Every place in a JSON value: a path of keys and indexes, the root included. */
function slots(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => slots(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) slots(v[k]!, [...at, k], out);
  return out;
}
const get = (v: Json, at: (string | number)[]): Json => at.reduce<Json>((o, k) => (o && typeof o === 'object' ? ((o as Record<string | number, Json>)[k] ?? null) : null), v);
function set(v: Json, at: (string | number)[], value: Json | undefined): Json {
  if (!at.length) return value ?? null;
  const parent = get(v, at.slice(0, -1)) as Record<string | number, Json> | Json[];
  if (!parent || typeof parent !== 'object') return v; // an earlier mutation made the parent a plain value
  const k = at[at.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(k as number, 1);
    else delete (parent as Record<string, Json>)[k as string];
  } else (parent as Record<string | number, Json>)[k] = value;
  return v;
}

const ODD_TEXT = [
  'prød',
  'ПРОД',
  '\u202eprod',
  'pro\u200bd',
  'ｐｒｏｄ',
  '\ud800',
  '\udfff',
  '🚀',
  'e\u0301',
  '\ufeff',
  '／etc',
  '\n',
  '\t',
  '\r\n',
  ' prod ',
  '\\',
  '"',
  "'",
  '$(id)',
  '`id`',
  '%s%n',
  '%00',
  '..',
  '*',
  '?',
  '[',
  '\u0085',
  '\u2028',
];
const ODD_GLOBS = ['../**', '/etc/**', '**/../../**', '', ' ', '[', '!(', '{a,b', '***', '~/x', 'C:\\x', '\0', '..', '**/.*', '!**', '\\', '/', '//**'];
const ODD_NAMES = ['PROD', 'a'.repeat(41), '../x', 'x/y', '', '-x', 'prød', '.', '..', 'con', 'a b', 'prod\n', '_x', 'a'.repeat(40)];
const RETYPED: Json[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', ' ', 'x', '0', [], {}, [1, 2], { a: 1 }, [null], [{}]];

function pathGames(p: Place): string[] {
  const { root, live } = p;
  const links = [path.join(root, 'link-to-assets', 'sets'), path.join(root, 'link-to-live', 'sets'), path.join(root, 'link-to-assets'), path.join(root, 'link-to-db')];
  return [
    ...links,
    ...links,
    '..',
    '../..',
    '.',
    '',
    ' ',
    '/',
    '//',
    '///etc',
    '~',
    '~/',
    '~root',
    '~/backups',
    '/proc/self/mem',
    '/proc/self/fd/0',
    '/proc/self/root',
    '/dev/null',
    '/dev/zero',
    '/dev/shm/x',
    '/sys/kernel',
    '/etc/passwd',
    path.join(root, 'link-to-assets'),
    path.join(root, 'link-to-assets', 'sets'),
    path.join(root, 'link-to-live', 'sets'),
    path.join(root, 'link-to-db'),
    path.join(root, 'loop'),
    path.join(root, 'loop', 'x'),
    path.join(root, 'link-to-proc', 'x'),
    path.join(root, 'dangling'),
    path.join(root, 'dangling', 'sets'),
    path.join(root, 'a-file'),
    path.join(root, 'a-file', 'sub'),
    path.join(live, 'assets'),
    path.join(live, 'assets', 'images', 'sets'),
    live,
    root,
    path.join(live, 'shop.db'),
    `${root}/sets/../live/assets`,
    '../live/assets',
    '../sets',
    'sets',
    './../sets/',
    `${root}/sets/`,
    `${root}//sets`,
    `${root}/sets\n`,
    `${root}/sets/.`,
    `${root}/./sets`,
    `${root}/sets/..`,
    '../'.repeat(40),
    `${root}/${'deep/'.repeat(900)}`,
    `${root}/${'n'.repeat(256)}`,
    `${root}/${'ü'.repeat(128)}`,
  ];
}

const PATH_KEYS = new Set(['location', 'path', 'passfile', 'binDir', 'cwd', 'host']);

/** One JSON-level mutation, in place; returns what it did. */
function mutateJson(rng: Prng, env: Json, p: Place): { env: Json; what: string } {
  const all = slots(env);
  const at = rng.pick(all);
  const where = at.join('.') || '(top)';
  const cur = get(env, at);
  const strings = all.filter((s) => typeof get(env, s) === 'string');
  const pathSlots = all.filter((s) => typeof s[s.length - 1] === 'string' && PATH_KEYS.has(s[s.length - 1] as string));
  switch (rng.int(0, 14)) {
    case 0:
      return at.length ? { env: set(env, at, undefined), what: `drop ${where}` } : { env: {}, what: 'empty object' };
    case 1: {
      const arrays = all.filter((s) => Array.isArray(get(env, s)) && (get(env, s) as Json[]).length);
      if (!arrays.length) return { env, what: 'no array to duplicate' };
      const a = rng.pick(arrays);
      const list = get(env, a) as Json[];
      const times = rng.pick([1, 1, 2, 50, 2000]);
      for (let i = 0; i < times; i++) list.push(structuredClone(rng.pick(list)));
      return { env, what: `duplicate an element of ${a.join('.')} ×${times}` };
    }
    case 2: {
      const v = rng.pick(RETYPED);
      return { env: set(env, at, structuredClone(v)), what: `retype ${where} to ${JSON.stringify(v)}` };
    }
    case 3: {
      if (!strings.length) return { env, what: 'no string' };
      const s = rng.pick(strings);
      const n = rng.logInt(256, 300_000);
      const huge = rng.next() < 0.5 ? 'a'.repeat(n) : `/${'ab/'.repeat(Math.ceil(n / 3))}`;
      return { env: set(env, s, huge), what: `huge string (${huge.length}) at ${s.join('.')}` };
    }
    case 4: {
      if (!strings.length) return { env, what: 'no string' };
      const s = rng.pick(strings);
      const v = get(env, s) as string;
      const i = rng.int(0, v.length);
      return { env: set(env, s, `${v.slice(0, i)}\0${v.slice(i)}`), what: `NUL at ${s.join('.')}[${i}]` };
    }
    case 5: {
      if (!strings.length) return { env, what: 'no string' };
      const s = rng.pick(strings);
      const v = get(env, s) as string;
      const odd = rng.pick(ODD_TEXT);
      const i = rng.int(0, v.length);
      const next = rng.next() < 0.3 ? odd : `${v.slice(0, i)}${odd}${v.slice(i)}`;
      return { env: set(env, s, next), what: `text ${JSON.stringify(next.slice(0, 60))} at ${s.join('.')}` };
    }
    case 6:
    case 7:
    case 14: {
      const s = pathSlots.length ? rng.pick(pathSlots) : ['location'];
      const game = rng.pick(pathGames(p));
      return { env: set(env, s, game), what: `path ${JSON.stringify(game.slice(0, 80))} at ${s.join('.')}` };
    }
    case 8: {
      const globs = all.filter((s) => s.includes('include') || s.includes('exclude')).filter((s) => typeof get(env, s) === 'string');
      if (!globs.length) return { env, what: 'no glob' };
      const s = rng.pick(globs);
      const g = rng.pick(ODD_GLOBS);
      return { env: set(env, s, g), what: `glob ${JSON.stringify(g)} at ${s.join('.')}` };
    }
    case 9: {
      const names = all.filter((s) => s[s.length - 1] === 'name' || s[s.length - 1] === 'app');
      const s = rng.pick(names.length ? names : [['name']]);
      const n = rng.pick(ODD_NAMES);
      return { env: set(env, s, n), what: `name ${JSON.stringify(n)} at ${s.join('.')}` };
    }
    case 10: {
      const enums = all.filter((s) => ['protection', 'kind', 'format'].includes(String(s[s.length - 1])));
      const s = rng.pick(enums.length ? enums : [['protection']]);
      const v = rng.pick(['PROTECTED', 'none', 'Protected', 'sqlite ', 'files', 'postgres', 'command', 'django-fixture', 'tar', '']);
      return { env: set(env, s, v), what: `enum ${JSON.stringify(v)} at ${s.join('.')}` };
    }
    case 11: {
      const objects = all.filter((s) => {
        const v = get(env, s);
        return !!v && typeof v === 'object' && !Array.isArray(v);
      });
      const s = rng.pick(objects);
      const key = rng.pick(['extra', 'constructor', 'toString', 'password', 'hasOwnProperty', 'Name', 'LOCATION', '']);
      (get(env, s) as Record<string, Json>)[key] = rng.pick(RETYPED);
      return { env, what: `extra key ${JSON.stringify(key)} at ${s.join('.') || '(top)'}` };
    }
    case 12: {
      const numbers = all.filter((s) => typeof get(env, s) === 'number');
      if (!numbers.length) return { env, what: 'no number' };
      const s = rng.pick(numbers);
      const v = rng.pick([-1, 0, 0.5, 1e9, 1e308, -0, 65536, 2 ** 31, 2 ** 53, 604801, 1e-300]);
      return { env: set(env, s, v), what: `number ${v} at ${s.join('.')}` };
    }
    default: {
      let deep: Json = cur ?? 'x';
      const depth = rng.logInt(5, 3000);
      for (let i = 0; i < depth; i++) deep = rng.next() < 0.5 ? [deep] : { a: deep };
      return { env: set(env, at, deep), what: `nest ${where} ${depth} deep` };
    }
  }
}

/** One byte-level mutation of the file's bytes. */
function mutateBytes(rng: Prng, bytes: Buffer): { bytes: Buffer; what: string } {
  const at = rng.int(0, Math.max(0, bytes.length - 1));
  switch (rng.int(0, 10)) {
    case 0:
      return { bytes: bytes.subarray(0, at), what: `truncate at ${at}` };
    case 1: {
      const b = Buffer.from(bytes);
      const bit = rng.int(0, 7);
      if (b.length) b[at] = b[at]! ^ (1 << bit);
      return { bytes: b, what: `flip bit ${bit} of byte ${at}` };
    }
    case 2: {
      const n = rng.int(1, 64);
      return { bytes: Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + n)]), what: `delete ${n} bytes at ${at}` };
    }
    case 3: {
      const junk = Buffer.from(Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255)));
      return { bytes: Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]), what: `insert ${junk.length} random bytes at ${at}` };
    }
    case 4: {
      const b = Buffer.from(bytes);
      if (b.length) b[at] = rng.pick([0xff, 0xc3, 0x80, 0xed, 0x00]);
      return { bytes: b, what: `bad UTF-8 byte at ${at}` };
    }
    case 5:
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]), what: 'byte-order mark first' };
    case 6: {
      const dup = rng.pick([
        '"name": "other", ',
        '"location": "/proc/self/mem", ',
        '"__proto__": {"polluted": "yes"}, ',
        '"protection": "protected", "protection": "normal", ',
        '"constructor": {"prototype": {"polluted": "yes"}}, ',
      ]);
      const text = bytes.toString('utf8');
      const i = text.indexOf('{');
      return { bytes: Buffer.from(i < 0 ? text : `${text.slice(0, i + 1)}${dup}${text.slice(i + 1)}`), what: `insert ${dup.trim()}` };
    }
    case 7:
      return { bytes: Buffer.from(rng.pick(['', ' ', '\n\n', 'null', '[]', '{}', '"x"', '0', 'true', '[{}]'])), what: 'replace by a bare value' };
    case 8:
      return { bytes: Buffer.concat([bytes, Buffer.from(rng.pick(['}', ']', ',', '\0', 'garbage', '\n{}']))]), what: 'trailing garbage' };
    case 9:
      return { bytes: Buffer.from(bytes.toString('utf8'), 'utf16le'), what: 'UTF-16' };
    default:
      return { bytes: Buffer.from(bytes.toString('utf8').replace(/\n/g, '\r\n')), what: 'CRLF' };
  }
}

interface Case {
  n: number;
  what: string[];
  bytes: Buffer;
  /** From the files-only base: may be backed up when accepted. */
  backupable: boolean;
}

function makeCase(rng: Prng, n: number, p: Place): Case {
  const backupable = rng.next() < 0.6;
  let env: Json = backupable ? baseFiles(p) : baseAllKinds(p);
  const what: string[] = [];
  const jsonOps = rng.pick([0, 1, 1, 1, 2, 3]);
  for (let i = 0; i < jsonOps; i++) {
    const m = mutateJson(rng, env, p);
    env = m.env;
    what.push(m.what);
  }
  let bytes: Buffer = Buffer.from(JSON.stringify(env, null, rng.next() < 0.5 ? 2 : 0));
  const byteOps = jsonOps === 0 ? rng.int(1, 2) : rng.next() < 0.2 ? 1 : 0;
  for (let i = 0; i < byteOps; i++) {
    const m = mutateBytes(rng, bytes);
    bytes = m.bytes;
    what.push(m.what);
  }
  return { n, what, bytes, backupable };
}

/**
 * The live data as an operator would compare it: the database's bytes and every path, mode and
 * hash of the assets folder (a location beside them, in the same parent folder, is allowed).
 */
const liveHash = (p: Place) =>
  createHash('sha256')
    .update(fileSha(path.join(p.live, 'shop.db')))
    .update(treeFingerprint(path.join(p.live, 'assets')).join('\n'))
    .digest('hex');

function bounded<T>(what: string, work: Promise<T>, ms = BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what} did not end within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

/** Why a thrown value is not a proper refusal, or undefined when it is one. */
function crashOf(err: unknown): string | undefined {
  if (!(err instanceof LifeboatError)) return `not a LifeboatError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`;
  if (err.code === 'INTERNAL' || !(err.code in ERROR_CLASSES)) return `code ${err.code}: ${err.message}`;
  if (!err.message.trim() || !err.hint.trim()) return `${err.code} without a message or a hint`;
  return undefined;
}

/** A CLI's answer that is a crash (a status or output not of the documented shape), or undefined. */
function cliCrashOf(r: CliResult): string | undefined {
  if (r.signal) return `ended by ${r.signal}`;
  if (r.code === 0) return undefined;
  if (![1, 2, 3].includes(r.code ?? -1)) return `exit ${r.code}: ${r.stderr}`;
  try {
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    if (error.code === 'INTERNAL' || !error.message || !error.hint) return `exit ${r.code}: ${r.stdout}`;
  } catch {
    return `exit ${r.code} without one JSON document: ${r.stdout} ${r.stderr}`;
  }
  if (!r.stderr.includes('Hint:')) return `exit ${r.code} with no hint on stderr: ${r.stderr}`;
  return undefined;
}

describe('environment-file fuzz', () => {
  const saved: { home?: string } = {};
  // `~/` paths resolve in the home folder: keep that inside the test's own folder.
  beforeAll(() => {
    saved.home = process.env.HOME;
  });
  afterAll(() => {
    if (saved.home === undefined) delete process.env.HOME;
    else process.env.HOME = saved.home;
  });

  it(`${CASES} seeded mutations: 0 crashes, 0 hangs, 0 writes to live data; ${CASES / CLI_EVERY} through the real env import`, async () => {
    const seed = testSeed('the environment-file fuzz');
    const rng = new Prng(seed);
    const p = makePlace();
    process.env.HOME = path.join(p.root, 'home-folder');
    const live = liveHash(p);
    const crashes: string[] = [];
    const tally = { accepted: 0, refused: 0, notJson: 0, backedUp: 0, cli: 0 };
    const codes = new Map<string, number>();
    const cliCases: Case[] = [];

    // One engine for the in-process cases, as one running app or web host takes edit after edit.
    const engine = new Engine(path.join(p.root, 'home'), 'test');
    const t0 = performance.now();
    let inSaves = 0;
    let inBackups = 0;
    for (let n = 0; n < CASES; n++) {
      const c = makeCase(rng, n, p);
      const label = `case ${n} [${c.what.join('; ')}]`;
      if (n % CLI_EVERY === 0) cliCases.push(c);
      let environment: unknown;
      try {
        environment = JSON.parse(c.bytes.toString('utf8'));
      } catch {
        tally.notJson++; // `env import` refuses it as not JSON; the CLI cases show how
        continue;
      }
      try {
        const ts = performance.now();
        const env = await bounded(label, engine.call('env.save', { environment, baseDir: p.dir })).finally(() => (inSaves += performance.now() - ts));
        tally.accepted++;
        // Accepted ones whose paths were changed are backed up (a few): the backup writes only to its location.
        const base = baseFiles(p) as unknown as { location: string; sources: { path: string }[] };
        const moved = env.location !== base.location || env.sources.some((s, i) => 'path' in s && s.path !== base.sources[i]?.path);
        const inside = env.location.startsWith(`${p.root}/`);
        if (c.backupable && moved && inside && tally.backedUp < BACKUPS && env.sources.every((s) => s.kind === 'sqlite' || s.kind === 'files')) {
          tally.backedUp++;
          const tb = performance.now();
          try {
            await bounded(`${label}, its backup`, engine.call('backup.run', { env: `${env.app}/${env.name}` }), 180_000);
          } catch (err) {
            const why = crashOf(err);
            if (why) crashes.push(`${label}, its backup: ${why}`);
          }
          inBackups += performance.now() - tb;
        }
      } catch (err) {
        const why = crashOf(err);
        if (why) crashes.push(`${label}: ${why}`);
        else {
          tally.refused++;
          const code = (err as LifeboatError).code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
      if ((Object.prototype as Record<string, unknown>).polluted !== undefined) crashes.push(`${label}: Object.prototype was polluted`);
      if (liveHash(p) !== live) {
        crashes.push(`${label}: the live data changed`);
        break;
      }
    }

    engine.close();
    const t1 = performance.now();
    // The real CLI, two at a time: the file read, the JSON parse and the exit status are its own.
    const queue = [...cliCases];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const file = path.join(p.dir, `case-${c.n}.json`);
        writeFileSync(file, c.bytes);
        const child = spawn(process.execPath, [CLI, 'env', 'import', file, '--json'], {
          env: { ...process.env, LIFEBOAT_HOME: path.join(p.root, 'cli-homes', String(c.n)) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const label = `CLI case ${c.n} [${c.what.join('; ')}]`;
        try {
          const r = await bounded(label, outputOf(child), 180_000);
          tally.cli++;
          const why = cliCrashOf(r);
          if (why) crashes.push(`${label}: ${why}`);
        } catch (err) {
          child.kill('SIGKILL');
          crashes.push(`${label}: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    if (liveHash(p) !== live) crashes.push('the CLI cases changed the live data');

    const ms = { inProcess: Math.round(t1 - t0), saves: Math.round(inSaves), backups: Math.round(inBackups), cli: Math.round(performance.now() - t1) };
    console.info(`environment-file fuzz (seed ${seed}): ${JSON.stringify(tally)}, ms ${JSON.stringify(ms)}, refusals ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(crashes, crashes.join('\n\n')).toEqual([]);
    expect(tally.accepted + tally.refused + tally.notJson).toBe(CASES);
    expect(tally.cli).toBe(CASES / CLI_EVERY);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.backedUp).toBeGreaterThan(0);
  });
});
