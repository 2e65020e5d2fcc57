import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvironmentInput } from '../../shared/environment.js';
import { formOf, toEnvironmentInput } from '../../renderer/src/lib/environment-form.js';
import { createWebBridge, type WebBridgePage } from '../../renderer/src/lib/web-bridge.js';
import { jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';
import { useServedHosts, type ServedHost } from '../support/web-host.js';

const temp = useTempDirs();
const serve = useServedHosts();

/** A stand-in browser page at the printed address, as the web bridge needs one. */
function bridgeOf(host: ServedHost) {
  const storage = new Map<string, string>();
  const page: WebBridgePage = {
    location: { origin: host.origin, pathname: '/', search: '', hash: `#token=${host.token}` },
    history: { replaceState: () => undefined },
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) },
    fetch: globalThis.fetch,
  };
  return createWebBridge(page);
}

/** Every leaf of a JSON value by its path (`sources[2].dump.env.DJANGO_SETTINGS_MODULE`), so a difference names its field. */
function leaves(value: unknown, at = ''): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (!value.length) return { [at]: [] };
    return Object.assign({}, ...value.map((v, i) => leaves(v, `${at}[${i}]`)));
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return { [at]: {} };
    return Object.assign({}, ...entries.map(([k, v]) => leaves(v, at ? `${at}.${k}` : k)));
  }
  return { [at]: value };
}

const isEmptyObject = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length;

/** The value at a path of `leaves`, for a field that is an object in the export. */
function valueAt(value: unknown, at: string): unknown {
  return at.split(/\.|(?=\[)/).reduce<unknown>((v, part) => {
    const index = /^\[(\d+)\]$/.exec(part);
    return (v as Record<string, unknown> | undefined)?.[index ? Number(index[1]) : part];
  }, value);
}

/** One environment of every kind of source, with every optional field of the environment file given. */
function everything(root: string): EnvironmentInput[] {
  const live = path.join(root, 'live');
  return [
    {
      app: 'shop',
      name: 'prod',
      protection: 'protected',
      location: path.join(root, 'sets-shop'),
      sources: [
        { kind: 'sqlite', name: 'db', path: path.join(live, 'shop.db') },
        { kind: 'files', name: 'media', path: path.join(live, 'media'), include: ['uploads/**', '*.pdf'], exclude: ['**/*.tmp', 'cache/**'] },
      ],
      retention: { keepLast: 3, hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 2, maxAgeDays: 400, safetyKeepDays: 3 },
      schedule: { at: 'weekly fri 23:15', timezone: 'Europe/Berlin', drillAfter: false, pruneAfter: true, graceMinutes: 90 },
      alerts: { minFreeBytes: 5_368_709_120, minFreePercent: 7.5, sizeFactor: 2, durationFactor: 4, drillMaxAgeDays: 10 },
    },
    {
      app: 'ledger',
      name: 'prod',
      location: path.join(root, 'sets-ledger'),
      sources: [
        {
          kind: 'postgres',
          name: 'ledger',
          host: 'db.internal',
          port: 5433,
          user: 'ledger_backup',
          database: 'ledger',
          passwordEnv: 'LEDGER_PGPASSWORD',
          binDir: '/usr/lib/postgresql/16/bin',
          scratch: { host: 'scratch.internal', port: 6543, user: 'drill', passfile: path.join(root, 'scratch.pgpass') },
          connectTimeoutSeconds: 25,
          timeoutSeconds: 900,
        },
        { kind: 'postgres', name: 'audit', user: 'audit', database: 'audit', passfile: path.join(root, 'audit.pgpass'), scratch: {} },
      ],
      retention: { maxAgeDays: 30 },
      schedule: { at: '*/30 6-22 * * 1-5' },
      alerts: { minFreePercent: 10 },
    },
    {
      app: 'blog',
      name: 'staging',
      location: path.join(root, 'sets-blog'),
      sources: [
        {
          kind: 'command',
          name: 'fixture',
          dump: { argv: ['python3', 'manage.py', 'dumpdata', '--indent', ''], cwd: path.join(live, 'blog'), env: { DJANGO_SETTINGS_MODULE: 'blog.settings.staging', PYTHONIOENCODING: 'utf-8' } },
          restore: { argv: ['python3', 'manage.py', 'loaddata', '--format=json', '-'], cwd: path.join(live, 'blog-restore'), env: { DJANGO_SETTINGS_MODULE: 'blog.settings.drill' } },
          format: 'django-fixture',
          timeoutSeconds: 120,
        },
        { kind: 'command', name: 'raw', dump: { argv: ['sh', '-c', '  cat data.bin'] }, restore: { argv: ['tee', 'data.bin'] } },
      ],
      retention: {},
      schedule: { at: 'hourly', drillAfter: true, pruneAfter: false, graceMinutes: 0 },
    },
    {
      app: 'notes',
      name: 'dev',
      location: path.join(root, 'sets-notes'),
      sources: [{ kind: 'sqlite', name: 'notes', path: path.join(live, 'notes.db') }],
    },
  ];
}

describe('saving from the environment editor', () => {
  it('keeps every field of every kind of environment: the export after a save equals the file imported', async () => {
    const root = temp();
    const host = await serve({ args: ['--no-schedule'] });
    const bridge = bridgeOf(host);
    const files = everything(root);
    const keys = files.map((f) => `${f.app}/${f.name}`);
    for (const r of await Promise.all(files.map((f) => runCli(['env', 'import', writeEnvFile(root, f, `${f.app}.json`)], host.home)))) expect(r.code, r.stderr).toBe(0);

    const kinds = await bridge.methods['kinds.list']({});
    if (!kinds.ok) throw new Error(kinds.error.message);
    const before: unknown[] = [];
    for (const key of keys) {
      const loaded = await bridge.methods['env.get']({ env: key });
      if (!loaded.ok) throw new Error(loaded.error.message);
      before.push(loaded.result);
      const { input, problems } = toEnvironmentInput(formOf(loaded.result, kinds.result));
      expect(problems).toEqual({});
      const saved = await bridge.methods['env.save']({ environment: input });
      if (!saved.ok) throw new Error(`${key}: ${saved.error.message}`);
    }

    const exported = await Promise.all(keys.map((key) => runCli(['env', 'export', key], host.home)));
    files.forEach((file, i) => {
      const after = jsonOf(exported[i]!);
      // Field by field: every value the operator wrote is still there, and nothing was added or changed.
      // (An empty object written, `retention: {}`, comes back with its defaults filled in.)
      const wrote = Object.fromEntries(Object.entries(leaves(file)).map(([k, v]) => [k, isEmptyObject(v) ? expect.any(Object) : v]));
      const kept = leaves(after);
      expect(Object.fromEntries(Object.keys(wrote).map((k) => [k, kept[k] ?? valueAt(after, k)])), keys[i]).toEqual(wrote);
      expect(kept, keys[i]).toEqual(leaves(before[i]));
    });
  }, 300_000);
});
