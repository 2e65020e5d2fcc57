import { z } from 'zod';

/** App and environment names become part of set folder names, so they are kept plain. */
const plainName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'use 1 to 40 lowercase letters, digits or "-", starting with a letter or digit');

/** Source names become artifact file names; lowercase so that no two collide on macOS or Windows. */
const sourceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'use 1 to 40 lowercase letters, digits, "-" or "_", starting with a letter or digit');

const path = z.string().min(1, 'give a path');

export const SqliteSource = z.strictObject({
  kind: z.literal('sqlite'),
  name: sourceName,
  /** The live database file. */
  path,
});

export const FilesSource = z.strictObject({
  kind: z.literal('files'),
  name: sourceName,
  /** The folder to pack. */
  path,
  /** Globs relative to the folder; a file is taken when it matches one include and no exclude. */
  include: z.array(z.string().min(1)).min(1, 'give at least one glob, e.g. "**/*"').default(['**/*']),
  exclude: z.array(z.string().min(1)).default([]),
});

/** One thing to back up inside an environment; `postgres` and `command` join this union later. */
export const Source = z.discriminatedUnion('kind', [SqliteSource, FilesSource]);
export type Source = z.infer<typeof Source>;
export type SqliteSource = z.infer<typeof SqliteSource>;
export type FilesSource = z.infer<typeof FilesSource>;
export type SourceKind = Source['kind'];

export const Protection = z.enum(['normal', 'protected']);
export type Protection = z.infer<typeof Protection>;

/** The environment file an operator writes and `env import` reads. */
export const Environment = z.strictObject({
  name: plainName,
  app: plainName,
  protection: Protection.default('normal'),
  /** The folder that holds this environment's backup sets. */
  location: path,
  sources: z.array(Source).min(1, 'add at least one source'),
});
export type Environment = z.infer<typeof Environment>;
/** What a file or a form may omit (defaults are filled in by the schema). */
export type EnvironmentInput = z.input<typeof Environment>;

/** `app/name`: unique across the catalog. */
export function environmentKey(env: Pick<Environment, 'app' | 'name'>): string {
  return `${env.app}/${env.name}`;
}
