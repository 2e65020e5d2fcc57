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

/** The name of an environment variable (where a password is read from; never the password). */
const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use the name of an environment variable: letters, digits and "_", not starting with a digit');

/** A time limit in seconds, after which the program is stopped and the run fails. */
const seconds = (fallback: number) => z.number().int('give a whole number of seconds').positive('give a number of seconds above 0').max(7 * 24 * 3600, 'give at most a week (604800 seconds)').default(fallback);

/** How to reach a PostgreSQL server. The password itself is never written here, only where it is read from. */
const postgresConnection = {
  /** A host name, or the absolute path of the folder that holds the server's socket (e.g. /var/run/postgresql); default: the local socket. */
  host: z.string().min(1, "give a host name or the folder of the server's socket").optional(),
  port: z.number().int('give a port number').min(1, 'give a port from 1 to 65535').max(65535, 'give a port from 1 to 65535').optional(),
  user: z.string().min(1, 'give the database user name').optional(),
  /** The environment variable that holds the password when Lifeboat runs. */
  passwordEnv: envVarName.optional(),
  /** A `.pgpass`-format file (`host:port:database:user:password`, mode 0600). */
  passfile: path.optional(),
};

const onePasswordSource = (v: { passwordEnv?: string; passfile?: string }) => !(v.passwordEnv && v.passfile);
const onePasswordMessage = { message: 'give either passwordEnv or passfile, not both', path: ['passfile'] };

/** A server (or the source's own) where the drill may create and drop a scratch database. */
export const PostgresScratch = z.strictObject(postgresConnection).refine(onePasswordSource, onePasswordMessage);

export const PostgresSource = z
  .strictObject({
    kind: z.literal('postgres'),
    name: sourceName,
    ...postgresConnection,
    port: postgresConnection.port.unwrap().default(5432),
    user: z.string('give the database user name').min(1, 'give the database user name'),
    database: z.string('give the database name').min(1, 'give the database name'),
    /** The folder of pg_dump, pg_restore and psql (e.g. /usr/lib/postgresql/16/bin); default: found on PATH. */
    binDir: path.optional(),
    /**
     * When set, the drill restores the dump into a new database `lifeboat_drill_<id>` on this
     * server (`{}`: the source's own server) and compares its rows, then drops it.
     */
    scratch: PostgresScratch.optional(),
    connectTimeoutSeconds: seconds(10),
    /** For each pg_dump, pg_restore or psql run. */
    timeoutSeconds: seconds(3600),
  }, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' && issue.keys.includes('password')
        ? 'Lifeboat never keeps a password in an environment: name the variable that holds it in "passwordEnv", or a .pgpass file in "passfile"'
        : undefined,
  })
  .refine(onePasswordSource, onePasswordMessage);

/** One program run: an argument list (never a shell line), its working folder and extra variables. */
export const CommandStep = z.strictObject({
  argv: z
    .array(z.string(), 'give the program and its arguments as a list, e.g. ["python3", "manage.py", "dumpdata"]')
    .min(1, 'give the program and its arguments as a list, e.g. ["python3", "manage.py", "dumpdata"]')
    .refine((a) => a[0] !== '', 'the first entry is the program to run; it cannot be empty'),
  cwd: path.optional(),
  env: z.record(envVarName, z.string()).default({}),
}, 'give an object with "argv" (the program and its arguments as a list), and optionally "cwd" and "env"; a shell line is not run');

export const CommandSource = z.strictObject({
  kind: z.literal('command'),
  name: sourceName,
  /** Its standard output is the artifact. */
  dump: CommandStep,
  /** Reads the artifact on its standard input. */
  restore: CommandStep,
  /** `django-fixture`: the output is a Django JSON fixture, checked object by object. */
  format: z.enum(['django-fixture'], 'the only format Lifeboat knows is "django-fixture"; leave it out for any other output').optional(),
  /** For each run of the dump or restore command. */
  timeoutSeconds: seconds(3600),
});

/** One thing to back up inside an environment. */
export const Source = z.discriminatedUnion('kind', [SqliteSource, FilesSource, PostgresSource, CommandSource]);
export type Source = z.infer<typeof Source>;
export type SqliteSource = z.infer<typeof SqliteSource>;
export type FilesSource = z.infer<typeof FilesSource>;
export type PostgresSource = z.infer<typeof PostgresSource>;
export type PostgresScratch = z.infer<typeof PostgresScratch>;
export type CommandSource = z.infer<typeof CommandSource>;
export type CommandStep = z.infer<typeof CommandStep>;
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
