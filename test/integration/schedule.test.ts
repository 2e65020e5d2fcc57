import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RunDueResult, TimerResult } from '../../shared/schedule.js';
import type { EnvironmentInput } from '../../shared/environment.js';
import { Scheduler } from '../../electron/engine/scheduler.js';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { CLI, jsonOf, outputOf, requireBinary, runCli, useTempDirs, type CliResult } from '../support/tools.js';
import { installTimer } from '../../electron/engine/system-timer.js';

const temp = useTempDirs();
const engineAt = useEngines();
const MIN = 60_000;
const HOUR = 60 * MIN;

/** `HH:MM` (UTC) of a time, for a daily preset. */
const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const iso = (t: number) => new Date(t).toISOString();

/** Environments of one live database, each with one real backup; returns the latest backup's start. */
async function environments(schedules: Record<string, Partial<EnvironmentInput>>) {
  const root = temp();
  makeLiveData(root, { rows: 20 });
  const home = path.join(root, 'home');
  const engine = engineAt(home);
  let started = 0;
  for (const [name, extra] of Object.entries(schedules)) {
    await engine.call('env.save', { environment: demoEnvironment(root, { name, protection: 'normal', location: path.join(root, `sets-${name}`), ...extra }) });
    const r = await engine.call('backup.run', { env: name });
    started = Math.max(started, Date.parse(r.id.replace(/^shop_[a-z]+_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)$/, '$1-$2-$3T$4:$5:$6Z')));
  }
  return { root, home, engine, started };
}

describe('run-due with a fake clock', () => {
  it('runs exactly the environments that are due, each once, and what the schedule asks after the backup', async () => {
    // Times are chosen from the real time of the first backups (R): a slot lies after R only when intended.
    const probe = Date.now();
    const R = probe - (probe % MIN) + MIN; // the next minute boundary: every slot below lies at least 10 minutes after the backups
    const { root, home } = await environments({
      early: { schedule: { at: `daily ${hhmm(R + 10 * MIN)}`, timezone: 'UTC', drillAfter: false } },
      mid: { schedule: { at: `daily ${hhmm(R + 30 * MIN)}`, timezone: 'UTC', pruneAfter: true }, retention: { keepLast: 1 } },
      late: { schedule: { at: `daily ${hhmm(R + 90 * MIN)}`, timezone: 'UTC', drillAfter: false } },
      manual: {},
    });

    const first = await runCli(['run-due', '--now', iso(R + 61 * MIN), '--json'], home);
    expect(first.code, first.stderr).toBe(0);
    const r1 = RunDueResult.parse(jsonOf(first));
    expect(r1.ran.map((j) => j.env).sort()).toEqual(['shop/early', 'shop/mid']);
    const early = r1.ran.find((j) => j.env === 'shop/early')!;
    expect(early).toMatchObject({ slot: iso(R + 10 * MIN), late: true, lateByMs: 51 * MIN, missedSlots: 0 });
    expect(early.steps.map((s) => [s.kind, s.outcome])).toEqual([['backup', 'success']]);
    const mid = r1.ran.find((j) => j.env === 'shop/mid')!;
    expect(mid).toMatchObject({ late: true, lateByMs: 31 * MIN });
    expect(mid.steps.map((s) => [s.kind, s.outcome])).toEqual([
      ['backup', 'success'],
      ['drill', 'success'],
      ['prune', 'success'],
    ]);
    expect(mid.steps[2]!.summary).toMatch(/^Deleted 1 of 2 sets/);
    expect(readdirSync(path.join(root, 'sets-mid')).filter((n) => n.startsWith('shop_mid_'))).toEqual([mid.steps[0]!.setId]);
    expect(r1.next.map((n) => n.env).sort()).toEqual(['shop/early', 'shop/late', 'shop/mid']);
    expect(r1.next.find((n) => n.env === 'shop/late')!.nextDueAt).toBe(iso(R + 90 * MIN));

    // The same instant again: nothing. Later: only the one whose slot has come.
    const again = await runCli(['run-due', '--now', iso(R + 61 * MIN)], home);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Nothing was due\.$/m);
    const second = RunDueResult.parse(jsonOf(await runCli(['run-due', '--now', iso(R + 95 * MIN), '--json'], home)));
    expect(second.ran.map((j) => [j.env, j.late])).toEqual([['shop/late', false]]);

    const log = jsonOf<{ action: string; env: string; summary: string }[]>(await runCli(['activity', '--json', '--limit', '50'], home));
    expect(
      log
        .filter((a) => a.action === 'schedule.run')
        .map((a) => a.env)
        .sort(),
    ).toEqual(['shop/early', 'shop/late', 'shop/mid']);
    expect(log.find((a) => a.action === 'schedule.run' && a.env === 'shop/early')!.summary).toBe(`Scheduled run for ${iso(R + 10 * MIN)} late by 51 min: backup success`);
  });

  it('a schedule missed for hours (machine off) runs once, late, and says how many slots it missed', async () => {
    const { home, started } = await environments({ prod: { schedule: { at: 'hourly', timezone: 'UTC', drillAfter: false } } });
    const now = started + 5.5 * HOUR;
    const latest = now - (now % HOUR);
    const missed = (latest - (started - (started % HOUR))) / HOUR - 1;

    const r = await runCli(['run-due', '--now', iso(now)], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`shop/prod: run for ${iso(latest)} — late by `);
    expect(r.stdout).toContain(`; ${missed} earlier slots were missed and are not run again`);
    const jobs = RunDueResult.parse(jsonOf(await runCli(['run-due', '--now', iso(now), '--json'], home))).ran;
    expect(jobs).toEqual([]); // once, not once per missed slot
    const next = RunDueResult.parse(jsonOf(await runCli(['run-due', '--now', iso(latest + HOUR + 5 * MIN), '--json'], home))).ran;
    expect(next).toEqual([expect.objectContaining({ slot: iso(latest + HOUR), late: false, lateByMs: 5 * MIN, missedSlots: 0 })]);
    const sets = jsonOf<unknown[]>(await runCli(['list', '--env', 'prod', '--json'], home));
    expect(sets).toHaveLength(3);
  });

  it('a failing backup is reported (exit 1) and its slot is not retried at every look', async () => {
    const { root, home, started } = await environments({ prod: { schedule: { at: 'hourly', timezone: 'UTC' } } });
    spawnSync('rm', ['-rf', path.join(root, 'live', 'assets')]);
    // A minute after the next hour's slot, so that five minutes later no further slot has come.
    const now = started - (started % HOUR) + HOUR + MIN;
    const r = await runCli(['run-due', '--now', iso(now)], home);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}backup failed: .*assets does not exist\.$/m);
    expect(r.stdout).toMatch(/^ {2}drill skipped: no new set to drill$/m);
    const again = await runCli(['run-due', '--now', iso(now + 5 * MIN)], home);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing was due.');
  });
  it('a backup that cannot read its source is a failed step, as its activity entry says, not a refusal (exit 1)', async () => {
    const { root, home, started } = await environments({ prod: { schedule: { at: 'hourly', timezone: 'UTC' } } });
    const db = path.join(root, 'live', 'shop.db');
    rmSync(db);
    symlinkSync(db, db); // a loop of links: SOURCE_UNREADABLE, whoever runs it
    const now = started - (started % HOUR) + HOUR + MIN;
    const r = await runCli(['run-due', '--now', iso(now), '--json'], home);
    const [job] = RunDueResult.parse(jsonOf(r)).ran;
    expect(job!.steps[0]).toMatchObject({ kind: 'backup', outcome: 'failed', error: { code: 'SOURCE_UNREADABLE' } });
    expect(r.code).toBe(1);
    const [backup] = jsonOf<{ action: string; outcome: string }[]>(await runCli(['activity', '--json', '--limit', '50'], home)).filter((a) => a.action === 'backup');
    expect(backup).toMatchObject({ action: 'backup', outcome: 'failed' });
  });
});

describe('the Scheduler (app and web host)', () => {
  it('looks at once when started, runs what is due through the engine and tells its listeners; stop() ends it', async () => {
    const { root, engine } = await environments({ other: {} });
    // Never backed up, with a slot behind it: due at the first look.
    await engine.call('env.save', { environment: demoEnvironment(root, { protection: 'normal', location: path.join(root, 'sets-prod'), schedule: { at: 'hourly', timezone: 'UTC' } }) });
    const changes: (string | null)[] = [];
    engine.onChange((env) => changes.push(env));
    const runs: RunDueResult[] = [];
    const errors: unknown[] = [];
    const scheduler = new Scheduler(engine, { everyMs: 50, onRun: (r) => runs.push(r), onError: (e) => errors.push(e) });
    scheduler.start();
    for (let i = 0; i < 300 && !runs.length; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300)); // a few more looks: nothing more is due
    await scheduler.stop();
    expect(errors).toEqual([]);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.ran.map((j) => j.env)).toEqual(['shop/prod']);
    expect(runs[0]!.ran[0]!.steps.map((s) => [s.kind, s.outcome])).toEqual([
      ['backup', 'success'],
      ['drill', 'success'],
    ]);
    expect(changes.filter((c) => c === 'shop/prod').length).toBeGreaterThanOrEqual(2);
    expect(await engine.call('sets.list', { env: 'prod' })).toHaveLength(1);
  });
});

describe('schedule install / remove', () => {
  it('writes a systemd user timer and service that pass systemd-analyze verify, and removes them', async () => {
    const analyze = requireBinary('systemd-analyze', 'systemd');
    const root = temp();
    const home = path.join(root, 'lb %q home'); // a space and a % that systemd must not read as a specifier
    const config = path.join(root, 'config');
    const env = { XDG_CONFIG_HOME: config };
    const r = await runCli(['schedule', 'install', '--method', 'user', '--no-activate', '--json'], home, env);
    expect(r.code, r.stderr).toBe(0);
    const result = TimerResult.parse(jsonOf(r));
    const unitDir = path.join(config, 'systemd', 'user');
    expect(result).toMatchObject({
      platform: 'linux',
      methods: ['user'],
      reason: 'it was asked for (--method user)',
      activated: false,
      files: [path.join(unitDir, 'lifeboat-run-due.service'), path.join(unitDir, 'lifeboat-run-due.timer')],
    });
    expect(result.commands).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', 'lifeboat-run-due.timer'],
    ]);
    const service = readFileSync(result.files[0]!, 'utf8');
    expect(service).toContain(`ExecStart="${process.execPath}" "${CLI}" "run-due"`);
    expect(service).toContain(`Environment="LIFEBOAT_HOME=${home.replace('%', '%%')}"`);
    expect(readFileSync(result.files[1]!, 'utf8')).toMatch(/^OnCalendar=\*:0\/5$[\s\S]*^Persistent=true$/m);

    const runtime = path.join(root, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const verify = spawnSync(analyze, ['--user', 'verify', '--man=no', ...result.files], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: config } });
    expect(`${verify.status} ${verify.stderr}`.trim()).toBe('0');

    const removed = TimerResult.parse(jsonOf(await runCli(['schedule', 'remove', '--method', 'user', '--no-activate', '--json'], home, env)));
    expect(removed.methods).toEqual(['user']);
    expect(removed.files).toEqual(result.files);
    expect(result.files.some((f) => existsSync(f))).toBe(false);
  });

  it('writes a launchd agent (macOS) and a Task Scheduler entry (Windows) that call run-due', async () => {
    const root = temp();
    const home = path.join(root, 'home');
    const mac = TimerResult.parse(jsonOf(await runCli(['schedule', 'install', '--no-activate', '--platform', 'darwin', '--json'], home, { HOME: root })));
    expect(mac.files).toEqual([path.join(root, 'Library', 'LaunchAgents', 'org.lifeboat.run-due.plist')]);
    const plist = readFileSync(mac.files[0]!, 'utf8');
    expect(plist).toContain(`<string>${CLI}</string>\n    <string>run-due</string>`);
    expect(plist).toContain(`<key>LIFEBOAT_HOME</key><string>${home}</string>`);
    expect(plist).toContain('<key>StartInterval</key><integer>300</integer>');
    expect(mac.commands).toEqual([['launchctl', 'load', '-w', mac.files[0]]]);

    const win = TimerResult.parse(jsonOf(await runCli(['schedule', 'install', '--no-activate', '--platform', 'win32', '--json'], home)));
    expect(win.files).toEqual([path.join(home, 'run-due.cmd')]);
    expect(readFileSync(win.files[0]!, 'utf8')).toBe(`@echo off\r\nset "LIFEBOAT_HOME=${home}"\r\n"${process.execPath}" "${CLI}" "run-due"\r\n`);
    expect(win.commands[0]).toEqual(['schtasks', '/Create', '/F', '/SC', 'MINUTE', '/MO', '5', '/TN', 'Lifeboat\\Run due', '/TR', `"${win.files[0]}"`]);
  });
});

const NOBODY = 65534;

/** `crontab -u nobody -l` as root: the crontab an operator would read; '' when there is none. */
function crontabOf(user: string): string {
  const r = spawnSync(requireBinary('crontab', 'cron'), ['-u', user, '-l'], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout;
  if (/^no crontab for /m.test(r.stderr)) return '';
  throw new Error(`crontab -u ${user} -l failed: ${r.stderr}`);
}

/** Replaces (or with '' removes) a user's crontab as root. */
function setCrontab(user: string, text: string): void {
  const crontab = requireBinary('crontab', 'cron');
  const r = text ? spawnSync(crontab, ['-u', user, '-'], { input: text, encoding: 'utf8' }) : spawnSync(crontab, ['-u', user, '-r'], { encoding: 'utf8' });
  if (r.status !== 0 && !/^no crontab for /m.test(r.stderr)) throw new Error(`crontab -u ${user} failed: ${r.stderr}`);
}

/**
 * nobody's crontab for one test, given back as it was afterwards: the machine's own crontabs
 * (root's above all) are never written.
 */
function useNobodysCrontab(): void {
  const saved = crontabOf('nobody');
  onTestFinished(() => setCrontab('nobody', saved));
}

/** `lifeboat ARGS` as the unprivileged user nobody, with no session bus: what a headless server's cron user has. */
function runAsNobody(args: string[], home: string, env: Record<string, string>): Promise<CliResult> {
  const setpriv = requireBinary('setpriv', 'util-linux');
  const { XDG_RUNTIME_DIR: _r, DBUS_SESSION_BUS_ADDRESS: _d, ...rest } = process.env;
  return outputOf(
    spawn(setpriv, ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, CLI, ...args], {
      env: { ...rest, LIFEBOAT_HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** A folder of nobody's own, as a home would be. */
function nobodysFolder(root: string, name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  chownSync(dir, NOBODY, NOBODY);
  return dir;
}

describe('schedule install on a machine without a desktop session', () => {
  it('finds no user session bus, says so, and installs one marked crontab line that remove takes out again, leaving the other lines', { timeout: 300_000 }, async () => {
    requireBinary('crontab', 'cron');
    useNobodysCrontab();
    const root = temp();
    chmodSync(root, 0o755);
    const home = nobodysFolder(root, "lb 'home' 100%"); // quotes and a % that cron must not read as a newline
    const env = { HOME: nobodysFolder(root, 'home-dir') };
    const theirs = 'MAILTO=""\n17 3 * * * /usr/bin/true # the operator\'s own job\n';
    setCrontab('nobody', theirs);

    const r = await runAsNobody(['schedule', 'install', '--json'], home, env);
    expect(r.code, r.stderr).toBe(0);
    const result = TimerResult.parse(jsonOf(r));
    expect(result.methods).toEqual(['cron']);
    expect(result.reason).toMatch(
      /^there is no systemd user session here \(systemctl --user show-environment: .+; XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are not set\), and (a systemd system timer needs root|systemd does not run this machine)$/,
    );
    expect(result.message).toMatch(/^Chose a crontab line \(cron\) because there is no systemd user session here/);
    expect(result.activated).toBe(true);

    // The crontab as `crontab -l` shows it: the operator's lines, then one line of Lifeboat's.
    const line = result.crontabLine!;
    expect(line).toBe(`*/5 * * * * LIFEBOAT_HOME='${home.replaceAll("'", "'\\''").replace('%', '\\%')}' '${process.execPath}' '${CLI}' 'run-due' >/dev/null # lifeboat-run-due`);
    expect(crontabOf('nobody')).toBe(`${theirs}${line}\n`);
    // Installing again changes nothing: still one line.
    const again = TimerResult.parse(jsonOf(await runAsNobody(['schedule', 'install', '--json'], home, env)));
    expect(again.message).toContain("Already had this line in nobody's crontab");
    expect(crontabOf('nobody')).toBe(`${theirs}${line}\n`);

    // The line runs as cron runs it: its command, with cron's \\% turned into %, through sh, as nobody.
    const command = line.split(' ').slice(5).join(' ').replace(/\\%/g, '%');
    const ran = spawnSync(requireBinary('setpriv', 'util-linux'), ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'sh', '-c', command.replace('>/dev/null', '')], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: env.HOME },
    });
    expect(`${ran.status} ${ran.stderr}`.trim()).toBe('0');
    expect(ran.stdout).toBe('Nothing was due.\n');
    expect(existsSync(path.join(home, 'catalog.sqlite'))).toBe(true);

    const removed = TimerResult.parse(jsonOf(await runAsNobody(['schedule', 'remove', '--json'], home, env)));
    expect(removed).toMatchObject({ methods: ['cron'], activated: true, crontabLine: line });
    expect(crontabOf('nobody')).toBe(theirs);
    const none = TimerResult.parse(jsonOf(await runAsNobody(['schedule', 'remove', '--json'], home, env)));
    expect(none.methods).toEqual([]);
    expect(none.message).toBe('There was no timer to remove (looked for a systemd user timer, a systemd system timer, a crontab line).');
  });

  it('a user timer asked for where no user session runs fails with the way out: lingering, or cron', async () => {
    const root = temp();
    chmodSync(root, 0o755);
    const home = nobodysFolder(root, 'home');
    const config = nobodysFolder(root, 'config');
    const r = await runAsNobody(['schedule', 'install', '--method', 'user'], home, { HOME: root, XDG_CONFIG_HOME: config });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: Wrote .*lifeboat-run-due\.service and .*lifeboat-run-due\.timer, but `systemctl --user daemon-reload` failed: .*bus/m);
    expect(r.stderr).toContain('Hint: There is no systemd user session here (systemctl --user show-environment:');
    expect(r.stderr).toContain('run `loginctl enable-linger nobody` as root, log in again, then `lifeboat schedule install --method user`. Or use --method cron;');
  });

  it("as root: a system timer with User= that passes systemd-analyze verify, written into a folder of the test's", async () => {
    const analyze = requireBinary('systemd-analyze', 'systemd');
    const root = temp();
    const unitDir = path.join(root, 'etc', 'systemd', 'system');
    const home = path.join(root, 'lb home');
    const facts = { noUserSession: 'systemctl --user show-environment: Failed to connect to bus', root: true, systemd: true, crontab: null, user: 'root' };
    // Where systemd runs the machine and no user session answers, root gets a system timer, with the lingering advice.
    const result = await installTimer({ platform: 'linux', home, command: [process.execPath, CLI], env: process.env, systemUnitDir: unitDir, facts }, false);
    expect(result).toMatchObject({ methods: ['system'], activated: false, files: [path.join(unitDir, 'lifeboat-run-due.service'), path.join(unitDir, 'lifeboat-run-due.timer')] });
    expect(result.message).toMatch(
      /^Chose a systemd system timer \(system\) because there is no systemd user session here \(.*\), and Lifeboat runs as root on a machine that systemd runs\. For a systemd user timer instead, run `loginctl enable-linger root` as root/,
    );
    expect(result.commands).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'lifeboat-run-due.timer'],
    ]);
    const service = readFileSync(result.files[0]!, 'utf8');
    expect(service).toMatch(/^User=root$/m);
    expect(service).toContain(`ExecStart="${process.execPath}" "${CLI}" "run-due"`);
    expect(service).toContain(`Environment="LIFEBOAT_HOME=${home}"`);
    const verify = spawnSync(analyze, ['verify', '--man=no', ...result.files], { encoding: 'utf8' });
    expect(`${verify.status} ${verify.stderr}`.trim()).toBe('0');
  });
});
