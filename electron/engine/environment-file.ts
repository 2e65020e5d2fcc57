import os from 'node:os';
import path from 'node:path';
import { Environment, type PostgresSource } from '../../shared/environment.js';
import { LifeboatError } from './errors.js';

type Problem = { path: string; message: string };

/** `sources[1].path` from zod's `['sources', 1, 'path']`. */
function fieldPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
}

function resolvePath(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(baseDir, p);
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Parses an environment (from a file or a form), reporting every problem at once with its field
 * path. Relative paths are resolved against `baseDir` (the file's folder) and stored absolute.
 */
export function parseEnvironment(input: unknown, baseDir: string, origin = 'The environment'): Environment {
  const parsed = Environment.safeParse(input);
  const problems: Problem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: fieldPath(issue.path), message: issue.message });
    throw invalid(origin, problems);
  }
  const env = parsed.data;
  env.location = resolvePath(env.location, baseDir);
  const seen = new Map<string, number>();
  env.sources.forEach((source, i) => {
    const first = seen.get(source.name);
    if (first !== undefined) problems.push({ path: `sources[${i}].name`, message: `"${source.name}" is already the name of sources[${first}]; each source needs its own name` });
    else seen.set(source.name, i);
    if (source.kind === 'postgres') {
      resolvePostgresPaths(source, baseDir);
      return;
    }
    if (source.kind === 'command') {
      for (const step of [source.dump, source.restore]) if (step.cwd) step.cwd = resolvePath(step.cwd, baseDir);
      return;
    }
    source.path = resolvePath(source.path, baseDir);
    if (source.kind === 'files' && inside(env.location, source.path)) {
      problems.push({ path: 'location', message: `is inside the folder of source "${source.name}", so every backup would contain the ones before it; choose a location outside ${source.path}` });
    }
    if (inside(source.path, env.location)) {
      problems.push({ path: `sources[${i}].path`, message: `is inside the backup location ${env.location}; keep live data and backups apart` });
    }
  });
  if (problems.length) throw invalid(origin, problems);
  return env;
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
