import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Environment } from '../../shared/environment.js';
import { LifeboatError } from './errors.js';
import { probeLocation } from './store/location-probe.js';
import { parseSchedule } from './schedule.js';
import { kindOf } from './sources/index.js';

type Problem = { path: string; message: string };

export const FULL_PATH = 'give a full path, starting with / (or ~/ for your home folder)';

/** `sources[1].path` from zod's `['sources', 1, 'path']`. */
function fieldPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
}

export function resolvePath(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(baseDir, p);
}

/** A path that means the same wherever Lifeboat started: absolute, or in the home folder (`~/`). */
export function isFullPath(p: string): boolean {
  return path.isAbsolute(p) || p === '~' || p.startsWith('~/');
}

export function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Parses an environment (from a file or a form), reporting every problem at once with its field
 * path. Relative paths are resolved against `baseDir` (the file's folder) and stored absolute; with
 * no `baseDir` (a form in the app) a relative path is a problem, since it would depend on where
 * Lifeboat happened to start.
 */
export function parseEnvironment(input: unknown, baseDir: string | null, origin = 'The environment'): Environment {
  const parsed = Environment.safeParse(input);
  // Paths no filesystem can hold, found on the raw input so they are reported with the schema's own problems.
  const problems: Problem[] = pathProblems(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: fieldPath(issue.path), message: issue.message });
  }
  if (!parsed.success || problems.length) throw invalid(origin, problems);
  const env = parsed.data;
  if (baseDir === null) {
    if (!isFullPath(env.location)) problems.push({ path: 'location', message: FULL_PATH });
    env.sources.forEach((s, i) => {
      for (const [field, value] of pathsOf(s)) if (!isFullPath(value)) problems.push({ path: `sources[${i}].${field}`, message: FULL_PATH });
    });
    if (problems.length) throw invalid(origin, problems);
  }
  const base = baseDir ?? '/';
  env.location = resolvePath(env.location, base);
  const seen = new Map<string, number>();
  env.sources.forEach((source, i) => {
    const first = seen.get(source.name);
    if (first !== undefined) problems.push({ path: `sources[${i}].name`, message: `"${source.name}" is already the name of sources[${first}]; each source needs its own name` });
    else seen.set(source.name, i);
    resolveSourcePaths(source, base);
    const live = kindOf(source).livePath(source);
    if (!live) return;
    if (live.folder && inside(env.location, live.path)) {
      problems.push({ path: 'location', message: `is inside the folder of source "${source.name}", so every backup would contain the ones before it; choose a location outside ${live.path}` });
    }
    if (inside(live.path, env.location)) {
      problems.push({ path: `sources[${i}].path`, message: `is inside the backup location ${env.location}; keep live data and backups apart` });
    }
  });
  if (env.schedule) {
    const schedule = parseSchedule(env.schedule);
    if ('problem' in schedule) problems.push({ path: 'schedule.at', message: schedule.problem });
  }
  if (problems.length) throw invalid(origin, problems);
  return env;
}

/**
 * The path with every symbolic link resolved. A path that does not exist yet is resolved at its
 * nearest existing folder, the rest appended: that is where creating it would put it.
 */
export async function realPathOf(p: string): Promise<string> {
  const rest: string[] = [];
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return path.join(await fs.realpath(at), ...rest.reverse());
    } catch {
      if (path.dirname(at) === at) return p;
      rest.push(path.basename(at));
    }
  }
}

/** A problem of the location and the sources compared by real path, with the code a backup refuses with. */
export interface OverlapProblem extends Problem {
  code: 'LOCATION_INSIDE_SOURCE' | 'SOURCE_INSIDE_LOCATION';
  /** The real folder to keep out of (the source's for a location inside it, the location's for a source inside it). */
  apart: string;
  /** What the message is about, for a sentence of its own: `The backup location /backups/sets`. */
  subject: string;
}

/**
 * The location and the sources compared by real path, both ways: parseEnvironment compares the
 * paths as written, which a link walks around (a location `/backups/sets` where `/backups` links
 * into the assets folder would put every lock and set into the live data). Asked at save time
 * and again before every backup or restore writes, since a link can be made after the save.
 */
export async function overlapProblems(env: Environment): Promise<OverlapProblem[]> {
  const location = await realPathOf(env.location);
  const leads = (written: string, real: string) => (real === written ? 'is' : `leads to ${real},`);
  const problems: OverlapProblem[] = [];
  for (const [i, source] of env.sources.entries()) {
    const live = kindOf(source).livePath(source);
    if (!live) continue;
    const real = await realPathOf(live.path);
    if (live.folder && inside(location, real)) {
      problems.push({
        code: 'LOCATION_INSIDE_SOURCE',
        apart: real,
        subject: `The backup location ${env.location}`,
        path: 'location',
        message: `${leads(env.location, location)} inside the folder of source "${source.name}" (${real}), so every backup would write its lock and sets into the live data; choose a location outside it`,
      });
    } else if (inside(real, location)) {
      problems.push({
        code: 'SOURCE_INSIDE_LOCATION',
        apart: location,
        subject: `The path ${live.path} of source "${source.name}"`,
        path: `sources[${i}].path`,
        message: `${leads(live.path, real)} inside the backup location ${env.location}${location === env.location ? '' : ` (${location})`}; keep live data and backups apart`,
      });
    }
  }
  return problems;
}

/** Refuses, before anything is written, a location and sources that overlap by real path. */
export async function refuseOverlap(env: Environment): Promise<void> {
  const [first] = await overlapProblems(env);
  if (!first) return;
  const hint =
    first.code === 'LOCATION_INSIDE_SOURCE'
      ? `Choose a location outside ${first.apart} (and not reached through a link into it), then import the environment again or save it in the editor. Nothing was written.`
      : `Keep the source's data outside ${first.apart} (and not reached through a link into it), or choose another location. Nothing was written.`;
  throw new LifeboatError(first.code, `${first.subject} ${first.message.replace(/; (choose|keep) [^;]*$/, '')}.`, hint);
}

/** Linux's limits: a path of at most 4095 bytes, each of its names at most 255. */
const PATH_MAX = 4095;
const NAME_MAX = 255;

/** Why a path can never name a file (a NUL byte, only spaces, past the system's limits), or undefined. */
export function unusablePath(p: string): string | undefined {
  if (p.includes('\0')) return 'contains a NUL byte (\\0), which no file name can hold; remove it';
  if (p.length > 0 && p.trim() === '') return 'is only spaces; give the path of a folder or file';
  const bytes = Buffer.byteLength(p);
  if (bytes > PATH_MAX) return `is ${bytes} bytes long; a path can be at most ${PATH_MAX} bytes`;
  const long = p.split('/').find((name) => Buffer.byteLength(name) > NAME_MAX);
  if (long !== undefined) return `has a name of ${Buffer.byteLength(long)} bytes ("${long.slice(0, 24)}…"); each name in a path can be at most ${NAME_MAX} bytes`;
  return undefined;
}

/** Why an include or exclude glob can never match (absolute, a NUL byte), or undefined. */
function unusableGlob(glob: string, folder: unknown): string | undefined {
  if (glob.includes('\0')) return 'contains a NUL byte (\\0); remove it';
  if (glob.startsWith('/') || glob === '~' || glob.startsWith('~/') || /^[A-Za-z]:[\\/]/.test(glob)) {
    const inside = glob.replace(/^(~\/?|[A-Za-z]:[\\/]|\/+)/, '') || '**';
    return `is absolute, but globs are relative to the source's folder${typeof folder === 'string' ? ` (${folder})` : ''}: write "${inside}" for what lies inside it, or point the source's path at the folder you mean`;
  }
  return undefined;
}

const fieldsWithPaths = ['path', 'passfile', 'binDir', 'scratch.passfile', 'dump.cwd', 'restore.cwd'];

/** The unusable paths and globs of an environment as given (before the schema), each with its field path. */
function pathProblems(input: unknown): Problem[] {
  const problems: Problem[] = [];
  const at = (obj: unknown, dotted: string): unknown => dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
  const check = (value: unknown, field: string) => {
    const why = typeof value === 'string' ? unusablePath(value) : undefined;
    if (why) problems.push({ path: field, message: why });
  };
  check(at(input, 'location'), 'location');
  const sources = at(input, 'sources');
  if (!Array.isArray(sources)) return problems;
  sources.forEach((source: unknown, i) => {
    for (const field of fieldsWithPaths) check(at(source, field), `sources[${i}].${field}`);
    for (const list of ['include', 'exclude']) {
      const globs = at(source, list);
      if (!Array.isArray(globs)) continue;
      globs.forEach((glob: unknown, j) => {
        const why = typeof glob === 'string' ? unusableGlob(glob, at(source, 'path')) : undefined;
        if (why) problems.push({ path: `sources[${i}].${list}[${j}]`, message: why });
      });
    }
  });
  return problems;
}

/**
 * parseEnvironment for saving (`env import`, the editor's Save): also asks the disk whether the
 * location can hold backups (see probeLocation), and reports that with every other problem. When
 * the location is the only problem, the error's hint is the location's own.
 */
export async function parseForSaving(input: unknown, baseDir: string | null, origin = 'The environment'): Promise<Environment> {
  let env: Environment | null = null;
  let problems: Problem[] = [];
  try {
    env = parseEnvironment(input, baseDir, origin);
  } catch (err) {
    if (!(err instanceof LifeboatError) || err.code !== 'BAD_ENVIRONMENT') throw err;
    problems = [...(err.problems ?? [])];
  }
  const raw = (input as { location?: unknown } | null)?.location;
  const location = env?.location ?? (typeof raw === 'string' && raw && (baseDir !== null || isFullPath(raw)) ? resolvePath(raw, baseDir ?? '/') : null);
  if (env && !problems.length) problems.push(...(await overlapProblems(env)).map(({ path, message }) => ({ path, message })));
  let hint: string | undefined;
  // The test file is not written where it would land in a source's folder.
  if (location && !problems.some((p) => p.path === 'location')) {
    const verdict = await probeLocation(location);
    if (!verdict.ok) {
      hint = verdict.problem.hint;
      problems.push({ path: 'location', message: verdict.problem.message });
    }
  }
  if (env && !problems.length) return env;
  if (hint && problems.length > 1) {
    // Among other problems the location's advice goes with its line (it was added last).
    const last = problems.pop()!;
    problems.push({ path: last.path, message: `${last.message} — ${hint.charAt(0).toLowerCase()}${hint.slice(1)}` });
    hint = undefined;
  }
  throw invalid(origin, problems, hint);
}

/** The fields of a source that name a place on disk, with their values (for the full-path rule). */
export function pathsOf(source: Environment['sources'][number]): [string, string][] {
  return kindOf(source).pathsOf(source);
}

/** Makes every path of a source absolute (in place), against `baseDir`. */
export function resolveSourcePaths(source: Environment['sources'][number], baseDir: string): void {
  kindOf(source).resolvePaths(source, baseDir, resolvePath);
}

function invalid(origin: string, problems: Problem[], hint?: string): LifeboatError {
  const list = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return new LifeboatError(
    'BAD_ENVIRONMENT',
    `${origin} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${list}`,
    hint ? `${hint} Nothing was saved.` : 'Correct each field named above and import the environment again; nothing was saved.',
    problems,
  );
}
