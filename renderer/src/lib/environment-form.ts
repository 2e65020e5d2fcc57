import type { Environment, Source } from '../../../shared/environment.js';

/**
 * The environment editor's form and the payload it saves, as pure functions: the screen binds to
 * the form, and tests build the very same payload without a browser.
 */

export interface SourceForm {
  kind: string;
  name: string;
  path: string;
  include: string;
  exclude: string;
  /** PostgreSQL: where the server is, and where the password is read from (never the password). */
  host: string;
  port: string;
  database: string;
  user: string;
  passwordEnv: string;
  passfile: string;
  scratch: boolean;
  /** Command: one argument per line, run without a shell. */
  dumpArgv: string;
  restoreArgv: string;
  cwd: string;
  format: string;
  /** Kinds without fields here are edited as their JSON. */
  json: string;
}

export interface EnvironmentForm {
  app: string;
  name: string;
  protection: 'normal' | 'protected';
  location: string;
  sources: SourceForm[];
}

export function blankSource(kind: string, name: string): SourceForm {
  return { kind, name, path: '', include: kind === 'files' ? '**/*' : '', exclude: '', host: '', port: '5432', database: '', user: '', passwordEnv: '', passfile: '', scratch: false, dumpArgv: '', restoreArgv: '', cwd: '', format: '', json: '' };
}

export function blankForm(): EnvironmentForm {
  return { app: '', name: '', protection: 'normal', location: '', sources: [blankSource('sqlite', 'db')] };
}

export function sourceForm(s: Source): SourceForm {
  const f = blankSource(s.kind, s.name);
  if (s.kind === 'sqlite') return { ...f, path: s.path };
  if (s.kind === 'files') return { ...f, path: s.path, include: s.include.join('\n'), exclude: s.exclude.join('\n') };
  if (s.kind === 'postgres') return { ...f, host: s.host ?? '', port: String(s.port), database: s.database, user: s.user, passwordEnv: s.passwordEnv ?? '', passfile: s.passfile ?? '', scratch: s.scratch !== undefined };
  if (s.kind === 'command') return { ...f, dumpArgv: s.dump.argv.join('\n'), restoreArgv: s.restore.argv.join('\n'), cwd: s.dump.cwd ?? '', format: s.format ?? '' };
  const { kind, name, ...rest } = s as { kind: string; name: string };
  return { ...blankSource(kind, name), json: JSON.stringify(rest, null, 2) };
}

export function formOf(env: Environment): EnvironmentForm {
  return { app: env.app, name: env.name, protection: env.protection, location: env.location, sources: env.sources.map(sourceForm) };
}

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);

/** The environment as the engine reads it, and the sources whose JSON does not parse (by index). */
export function toEnvironmentInput(form: EnvironmentForm): { input: Record<string, unknown>; jsonProblems: Record<number, string> } {
  const problems: Record<number, string> = {};
  const sources = form.sources.map((s, i) => {
    if (s.kind === 'sqlite') return { kind: 'sqlite', name: s.name, path: s.path };
    if (s.kind === 'files') return { kind: 'files', name: s.name, path: s.path, include: lines(s.include), exclude: lines(s.exclude) };
    if (s.kind === 'postgres') {
      const port = Number(s.port);
      return {
        kind: 'postgres',
        name: s.name,
        database: s.database,
        user: s.user,
        ...(s.host.trim() ? { host: s.host.trim() } : {}),
        ...(s.port.trim() ? { port: Number.isInteger(port) ? port : s.port } : {}),
        ...(s.passwordEnv.trim() ? { passwordEnv: s.passwordEnv.trim() } : {}),
        ...(s.passfile.trim() ? { passfile: s.passfile.trim() } : {}),
        ...(s.scratch ? { scratch: {} } : {}),
      };
    }
    if (s.kind === 'command') {
      const step = (argv: string) => ({ argv: lines(argv), ...(s.cwd.trim() ? { cwd: s.cwd.trim() } : {}) });
      return { kind: 'command', name: s.name, dump: step(s.dumpArgv), restore: step(s.restoreArgv), ...(s.format ? { format: s.format } : {}) };
    }
    try {
      return { kind: s.kind, name: s.name, ...JSON.parse(s.json || '{}') };
    } catch (err) {
      problems[i] = `not valid JSON: ${(err as Error).message}`;
      return { kind: s.kind, name: s.name };
    }
  });
  return { input: { app: form.app, name: form.name, protection: form.protection, location: form.location, sources }, jsonProblems: problems };
}
