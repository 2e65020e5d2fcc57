import { z } from 'zod';

/** App and environment names become part of set folder names, so they are kept plain. */
const plainName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'use 1 to 40 lowercase letters, digits or "-", starting with a letter or digit');

/** Source names become artifact file names; lowercase so that no two collide on macOS or Windows. */
const sourceName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'use 1 to 40 lowercase letters, digits, "-" or "_", starting with a letter or digit');

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
const seconds = (fallback: number) =>
  z
    .number()
    .int('give a whole number of seconds')
    .positive('give a number of seconds above 0')
    .max(7 * 24 * 3600, 'give at most a week (604800 seconds)')
    .default(fallback);

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
  .strictObject(
    {
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
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' && issue.keys.includes('password')
          ? 'Lifeboat never keeps a password in an environment: name the variable that holds it in "passwordEnv", or a .pgpass file in "passfile"'
          : undefined,
    },
  )
  .refine(onePasswordSource, onePasswordMessage);

/** One program run: an argument list (never a shell line), its working folder and extra variables. */
export const CommandStep = z.strictObject(
  {
    argv: z
      .array(z.string(), 'give the program and its arguments as a list, e.g. ["python3", "manage.py", "dumpdata"]')
      .min(1, 'give the program and its arguments as a list, e.g. ["python3", "manage.py", "dumpdata"]')
      .refine((a) => a[0] !== '', 'the first entry is the program to run; it cannot be empty'),
    cwd: path.optional(),
    env: z.record(envVarName, z.string()).default({}),
  },
  'give an object with "argv" (the program and its arguments as a list), and optionally "cwd" and "env"; a shell line is not run',
);

export const CommandSource = z.strictObject({
  kind: z.literal('command'),
  name: sourceName,
  /** Its standard output is the artifact. */
  dump: CommandStep,
  /** Reads the artifact on its standard input. */
  restore: CommandStep,
  /**
   * Run by the drill with the artifact on its standard input: loads it into a throw-away target
   * (Django: the restore command with a scratch settings module). `LIFEBOAT_DRILL_DIR` names an
   * empty folder for it, removed after the drill. A failure is a FAIL check.
   */
  drill: CommandStep.optional(),
  /**
   * Run before each load of a live restore and of its undo (Django: `flush --no-input`), so the
   * data becomes exactly the set. Without it a restore that merges (loaddata) keeps what the set lacks.
   */
  reset: CommandStep.optional(),
  /** `django-fixture`: the output is a Django JSON fixture, checked object by object. */
  format: z.enum(['django-fixture'], 'the only format Lifeboat knows is "django-fixture"; leave it out for any other output').optional(),
  /** For each run of the dump, restore, drill or reset command. */
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

const count = z.number().int().min(0, 'use 0 or more').max(100_000);

/**
 * Which sets a prune keeps. Rules keep sets; `maxAgeDays` caps them. Pinned sets, the newest set
 * and the newest set whose drill passed are kept whatever the rules say. Buckets are counted in
 * UTC, as set names are.
 */
export const Retention = z.strictObject({
  /** Keep the newest N sets. */
  keepLast: count.optional(),
  /** Keep the newest set of each of the last N hours (days, weeks, months, years) that have one. */
  hourly: count.optional(),
  daily: count.optional(),
  weekly: count.optional(),
  monthly: count.optional(),
  yearly: count.optional(),
  /** Prune sets older than this, even when a rule keeps them; alone, keeps every younger set. */
  maxAgeDays: z.number().positive().optional(),
  /** Pre-restore safety sets are kept this long, then pruned; they count for no other rule. */
  safetyKeepDays: z.number().min(0).default(7),
});
export type Retention = z.infer<typeof Retention>;

function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** When the scheduler backs an environment up, and what it does after. */
export const Schedule = z.strictObject({
  /** `hourly`, `daily 02:00`, `weekly mon 02:00`, `monthly 1 02:00`, or a five-field cron expression. */
  at: z.string().trim().min(1, 'give a time such as "daily 02:00" or a cron expression'),
  /** An IANA time zone (`Europe/Berlin`, `UTC`); the machine's own when absent. */
  timezone: z.string().refine(knownTimeZone, 'use an IANA time zone name such as "Europe/Berlin" or "UTC"').optional(),
  /** Drill the new set after each scheduled backup. */
  drillAfter: z.boolean().default(true),
  /** Prune by the retention policy after each scheduled backup (and its drill, when that passed). */
  pruneAfter: z.boolean().default(false),
  /** How long after a missed slot the environment counts as overdue. */
  graceMinutes: z.number().int().min(0).default(60),
});
export type Schedule = z.infer<typeof Schedule>;

/** Thresholds of the monitoring alerts; every field has a default. */
export const Alerts = z.strictObject({
  /** Warn when the location's disk has less free space than this (default: 5% when neither is given). */
  minFreeBytes: z.number().int().min(0).optional(),
  minFreePercent: z.number().min(0).max(100).optional(),
  /** A set this many times smaller or larger than the median of the last ten is an anomaly. */
  sizeFactor: z.number().gt(1, 'use a factor above 1, e.g. 1.5').default(1.5),
  /** A run this many times slower than the median of the last ten is an anomaly. */
  durationFactor: z.number().gt(1, 'use a factor above 1, e.g. 3').default(3),
  /** Warn when no drill has passed for this many days. */
  drillMaxAgeDays: z.number().positive().default(14),
});
export type Alerts = z.infer<typeof Alerts>;

/** The environment file an operator writes and `env import` reads. */
export const Environment = z.strictObject({
  name: plainName,
  app: plainName,
  protection: Protection.default('normal'),
  /** The folder that holds this environment's backup sets. */
  location: path,
  sources: z.array(Source).min(1, 'add at least one source'),
  retention: Retention.optional(),
  schedule: Schedule.optional(),
  alerts: Alerts.optional(),
});
export type Environment = z.infer<typeof Environment>;
/** What a file or a form may omit (defaults are filled in by the schema). */
export type EnvironmentInput = z.input<typeof Environment>;

/** `app/name`: unique across the catalog. */
export function environmentKey(env: Pick<Environment, 'app' | 'name'>): string {
  return `${env.app}/${env.name}`;
}
