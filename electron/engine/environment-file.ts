import os from 'node:os';
import path from 'node:path';
import { Environment, type PostgresSource } from '../../shared/environment.js';
import { LifeboatError } from './errors.js';
import { parseSchedule } from './schedule.js';

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

function isFull(p: string): boolean {
  return path.isAbsolute(p) || p === '~' || p.startsWith('~/');
}

function inside(child: string, parent: string): boolean {
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
  const problems: Problem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: fieldPath(issue.path), message: issue.message });
    throw invalid(origin, problems);
  }
  const env = parsed.data;
  if (baseDir === null) {
    if (!isFull(env.location)) problems.push({ path: 'location', message: FULL_PATH });
    env.sources.forEach((s, i) => {
      for (const [field, value] of pathsOf(s)) if (!isFull(value)) problems.push({ path: `sources[${i}].${field}`, message: FULL_PATH });
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
    if (source.kind === 'postgres' || source.kind === 'command') return;
    if (source.kind === 'files' && inside(env.location, source.path)) {
      problems.push({ path: 'location', message: `is inside the folder of source "${source.name}", so every backup would contain the ones before it; choose a location outside ${source.path}` });
    }
    if (inside(source.path, env.location)) {
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

/** The fields of a source that name a place on disk, with their values (for the full-path rule). */
export function pathsOf(source: Environment['sources'][number]): [string, string][] {
  switch (source.kind) {
    case 'sqlite':
    case 'files':
      return [['path', source.path]];
    case 'postgres':
      return [
        ['passfile', source.passfile],
        ['binDir', source.binDir],
        ['scratch.passfile', source.scratch?.passfile],
      ].filter((e): e is [string, string] => typeof e[1] === 'string');
    case 'command':
      return [
        ['dump.cwd', source.dump.cwd],
        ['restore.cwd', source.restore.cwd],
        ['drill.cwd', source.drill?.cwd],
        ['reset.cwd', source.reset?.cwd],
      ].filter((e): e is [string, string] => typeof e[1] === 'string');
  }
}

/** Makes every path of a source absolute (in place), against `baseDir`. */
export function resolveSourcePaths(source: Environment['sources'][number], baseDir: string): void {
  if (source.kind === 'postgres') resolvePostgresPaths(source, baseDir);
  else if (source.kind === 'command') {
    for (const step of [source.dump, source.restore, source.drill, source.reset]) if (step?.cwd) step.cwd = resolvePath(step.cwd, baseDir);
  } else source.path = resolvePath(source.path, baseDir);
}

/** A passfile and a folder of client programs are paths like any other; a socket folder must already be absolute. */
function resolvePostgresPaths(source: PostgresSource, baseDir: string): void {
  if (source.passfile) source.passfile = resolvePath(source.passfile, baseDir);
  if (source.binDir) source.binDir = resolvePath(source.binDir, baseDir);
  if (source.scratch?.passfile) source.scratch.passfile = resolvePath(source.scratch.passfile, baseDir);
}

function invalid(origin: string, problems: Problem[]): LifeboatError {
  const list = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return new LifeboatError(
    'BAD_ENVIRONMENT',
    `${origin} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${list}`,
    'Correct each field named above and import the environment again; nothing was saved.',
    problems,
  );
}
