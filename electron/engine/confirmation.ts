import { environmentKey, type Environment } from '../../shared/environment.js';
import { LifeboatError } from './errors.js';
import { kindOf } from './sources/index.js';

/** What the rule needs of the catalog: the environments a typed reference names. */
export interface EnvironmentFinder {
  findEnvironments(ref: string): Environment[];
}

/**
 * What the operator types to confirm something destructive on a protected environment: its name
 * when no other application has an environment of that name, else the full `app/name` — typing
 * `prod` must not confirm `iir/prod` while `shop/prod` exists too. Doors show this string.
 */
export function confirmationName(env: Environment, catalog: EnvironmentFinder): string {
  const key = environmentKey(env);
  const namesakes = catalog.findEnvironments(env.name).filter((e) => e.name === env.name && environmentKey(e) !== key);
  return namesakes.length ? key : env.name;
}

/** Whether `typed` confirms `env`: the string confirmationName asks for, or always the full `app/name`. */
export function confirms(env: Environment, typed: string | undefined, catalog: EnvironmentFinder): boolean {
  return typed !== undefined && (typed === environmentKey(env) || typed === confirmationName(env, catalog));
}

export interface ConfirmationRequest {
  /** What needs it, finishing "shop/prod is protected: …", e.g. `a prune needs its name typed to confirm`. */
  what: string;
  /** The command line to show in the hint, before `--confirm NAME` (empty: the command the operator ran). */
  command?: string;
  /** What the refusal left alone: `Nothing was deleted.` */
  unchanged: string;
}

/**
 * The one rule of the typed confirmation, for restore, prune, set deletion and saving: a protected
 * environment refuses unless `typed` confirms it, with a hint that names the exact string to type.
 */
export function requireConfirmation(env: Environment, typed: string | undefined, catalog: EnvironmentFinder, request: ConfirmationRequest): void {
  if (env.protection !== 'protected' || confirms(env, typed, catalog)) return;
  const name = confirmationName(env, catalog);
  const why = name === env.name ? '' : ` The full name is needed: other applications have an environment named ${env.name} too.`;
  throw new LifeboatError(
    'CONFIRMATION_REQUIRED',
    `${environmentKey(env)} is protected: ${request.what}.`,
    `Type ${name} to confirm (on the command line: ${request.command ? `${request.command} ` : ''}--confirm ${name}).${why} ${request.unchanged}`,
  );
}

/**
 * What a save would weaken of a saved environment, each as a phrase after "this save": a lower
 * protection, another location (the backups go elsewhere), a source taken away (renamed counts:
 * the old name's sets no longer restore into it). Empty when nothing needs the typed name.
 */
export function weakeningChanges(before: Environment, after: Environment): string[] {
  const changes: string[] = [];
  if (before.protection === 'protected' && after.protection !== 'protected') changes.push(`changes its protection from protected to ${after.protection}`);
  if (before.location !== after.location) changes.push(`changes its location from ${before.location} to ${after.location}`);
  const kept = new Set(after.sources.map((s) => s.name));
  const removed = before.sources.filter((s) => !kept.has(s.name)).map((s) => `"${s.name}"`);
  if (removed.length) changes.push(`removes the source${removed.length === 1 ? '' : 's'} ${removed.join(', ')}`);
  const before_ = new Map(before.sources.map((s) => [s.name, s]));
  const moved = after.sources.filter((s) => {
    const was = before_.get(s.name);
    return was !== undefined && restoreTarget(was) !== restoreTarget(s);
  });
  for (const s of moved) changes.push(`changes where source "${s.name}" restores to (${restoreTarget(before_.get(s.name)!)} → ${restoreTarget(s)})`);
  return changes;
}

/**
 * Where a restore of a source writes, as one line: another path, server, database or restore
 * command sends the set's data somewhere else, which weakens protection as much as removing it.
 */
function restoreTarget(source: Environment['sources'][number]): string {
  return kindOf(source).restoreTarget(source);
}

/** Joins phrases as a sentence does: `a`, `a and b`, `a, b and c`. */
export function sentenceList(parts: string[]): string {
  return parts.length < 2 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
