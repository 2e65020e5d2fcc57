import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LinuxTimerMethod, TimerMethod, TimerResult } from '../../shared/schedule.js';
import { cronDaemonSeen, cronLine, findCronLine, installCronLine, removeCronLine } from './crontab.js';
import { writeFileAtomic } from './durable.js';
import { LifeboatError } from './errors.js';
import { chooseLinuxMethod, lingerAdvice, probeMachine, type MachineFacts, type MethodChoice } from './timer-method.js';

export type Platform = TimerResult['platform'];

/** The timer calls `run-due` this often; run-due itself decides what is due. */
export const TIMER_MINUTES = 5;
const UNIT = 'lifeboat-run-due';
const LAUNCHD_LABEL = 'org.lifeboat.run-due';
const TASK_NAME = 'Lifeboat\\Run due';
/** Where a system timer's units go; a test gives a folder of its own. */
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';

export interface TimerOptions {
  platform: Platform;
  /** On Linux: which timer; detected from the machine when absent. */
  method?: LinuxTimerMethod;
  /** Lifeboat's home: the timer's runs use this catalog. */
  home: string;
  /** How to start the command line: the program and its first arguments (`node …/bin/lifeboat.js`). */
  command: string[];
  /** Where HOME, XDG_CONFIG_HOME and PATH are read from. */
  env: NodeJS.ProcessEnv;
  /** The folder of system units (default /etc/systemd/system). */
  systemUnitDir?: string;
  /** The machine as the choice sees it; read from this machine when absent. */
  facts?: MachineFacts;
}

export interface TimerPlan {
  method: TimerMethod;
  files: { path: string; content: string }[];
  activate: string[][];
  deactivate: string[][];
  /** The cron method's line (it has no files). */
  crontabLine?: string;
}

let registered: string[] | null = null;

/**
 * The door that knows how it was started says so once (the CLI: `node` and its bin/lifeboat.js);
 * every engine of the process then uses it. Nothing here derives it from its own module address,
 * which an ES module bundle has and the desktop app's CommonJS bundle does not.
 */
export function registerRunDueCommand(command: string[]): void {
  registered = [...command];
}

/** The command the door registered, or null (the desktop app sets its own on the engine). */
export function defaultCommand(): string[] | null {
  return registered ? [...registered] : null;
}

/** A systemd word: quoted, with `\`, `"`, `%` and `$` escaped so that systemd passes it on unchanged. */
function unitWord(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

function systemdUnits(o: TimerOptions, dir: string, user: string | null): TimerPlan['files'] {
  const argv = [...o.command, 'run-due'];
  const service = [
    '[Unit]',
    'Description=Lifeboat: run the backups, drills and prunes that are due',
    '',
    '[Service]',
    'Type=oneshot',
    ...(user === null ? [] : [`User=${user}`]),
    `Environment=${unitWord(`LIFEBOAT_HOME=${o.home}`)}`,
    `ExecStart=${argv.map(unitWord).join(' ')}`,
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    `Description=Lifeboat: look for due backups every ${TIMER_MINUTES} minutes`,
    '',
    '[Timer]',
    `OnCalendar=*:0/${TIMER_MINUTES}`,
    // A slot missed while the machine was off runs at the next start (run-due says it was late).
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return [
    { path: path.join(dir, `${UNIT}.service`), content: service },
    { path: path.join(dir, `${UNIT}.timer`), content: timer },
  ];
}

/** The user the system unit runs as: this one, whose home and catalog the timer uses. */
function userName(o: TimerOptions): string {
  return o.facts?.user ?? os.userInfo().username;
}

/** The files and commands of one kind of timer; pure, so tests can read them. */
export function planTimer(o: TimerOptions, method: TimerMethod): TimerPlan {
  const argv = [...o.command, 'run-due'];
  switch (method) {
    case 'user': {
      const dir = path.join(o.env.XDG_CONFIG_HOME || path.join(homeDir(o.env), '.config'), 'systemd', 'user');
      return {
        method,
        files: systemdUnits(o, dir, null),
        activate: [
          ['systemctl', '--user', 'daemon-reload'],
          ['systemctl', '--user', 'enable', '--now', `${UNIT}.timer`],
        ],
        deactivate: [
          ['systemctl', '--user', 'disable', '--now', `${UNIT}.timer`],
          ['systemctl', '--user', 'daemon-reload'],
        ],
      };
    }
    case 'system':
      return {
        method,
        files: systemdUnits(o, o.systemUnitDir ?? SYSTEM_UNIT_DIR, userName(o)),
        activate: [
          ['systemctl', 'daemon-reload'],
          ['systemctl', 'enable', '--now', `${UNIT}.timer`],
        ],
        deactivate: [
          ['systemctl', 'disable', '--now', `${UNIT}.timer`],
          ['systemctl', 'daemon-reload'],
        ],
      };
    case 'cron':
      return { method, files: [], activate: [], deactivate: [], crontabLine: cronLine(argv, o.home, TIMER_MINUTES) };
    case 'launchd': {
      const plist = path.join(homeDir(o.env), 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
      const content = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
        '<plist version="1.0">',
        '<dict>',
        `  <key>Label</key><string>${LAUNCHD_LABEL}</string>`,
        '  <key>ProgramArguments</key>',
        '  <array>',
        ...argv.map((a) => `    <string>${xml(a)}</string>`),
        '  </array>',
        '  <key>EnvironmentVariables</key>',
        `  <dict><key>LIFEBOAT_HOME</key><string>${xml(o.home)}</string></dict>`,
        `  <key>StartInterval</key><integer>${TIMER_MINUTES * 60}</integer>`,
        '  <key>RunAtLoad</key><true/>',
        '  <key>ProcessType</key><string>Background</string>',
        '</dict>',
        '</plist>',
        '',
      ].join('\n');
      return { method, files: [{ path: plist, content }], activate: [['launchctl', 'load', '-w', plist]], deactivate: [['launchctl', 'unload', '-w', plist]] };
    }
    case 'schtasks': {
      // The task runs a small script, so that LIFEBOAT_HOME is set and the task's command line stays short.
      const script = path.join(o.home, 'run-due.cmd');
      const content = ['@echo off', `set "LIFEBOAT_HOME=${o.home}"`, argv.map((a) => `"${a}"`).join(' '), ''].join('\r\n');
      return {
        method,
        files: [{ path: script, content }],
        activate: [['schtasks', '/Create', '/F', '/SC', 'MINUTE', '/MO', String(TIMER_MINUTES), '/TN', TASK_NAME, '/TR', `"${script}"`]],
        deactivate: [['schtasks', '/Delete', '/F', '/TN', TASK_NAME]],
      };
    }
  }
}

/** Runs commands in order; the first failure is returned, with its output. */
function runAll(commands: string[][]): string | null {
  for (const [cmd, ...args] of commands) {
    const r = spawnSync(cmd!, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `\`${[cmd, ...args].join(' ')}\` failed: ${(r.error?.message ?? r.stderr ?? '').trim() || `exit ${r.status}`}`;
  }
  return null;
}

/** Each kind of timer as an operator reads it. */
const KINDS: Record<TimerMethod, string> = { user: 'a systemd user timer', system: 'a systemd system timer', cron: 'a crontab line', launchd: 'a launchd agent', schtasks: 'a Task Scheduler entry' };

const shown = (commands: string[][]) => commands.map((c) => c.join(' ')).join(' && ');

/** The machine as the choice sees it, read once per call. */
function factsOf(o: TimerOptions): MachineFacts {
  return (o.facts ??= probeMachine(o.env));
}

/** Which timer, and why: the platform's own on macOS and Windows; on Linux the one asked for, or the one that works here. */
function choose(o: TimerOptions): Omit<MethodChoice, 'method'> & { method: TimerMethod } {
  if (o.platform !== 'linux') {
    if (o.method)
      throw new LifeboatError(
        'BAD_ARGUMENT',
        `--method ${o.method} is for Linux; ${o.platform === 'darwin' ? 'macOS has launchd agents' : 'Windows has the Task Scheduler'} only.`,
        'Leave out --method.',
      );
    return o.platform === 'darwin' ? { method: 'launchd', reason: 'macOS runs it as a launchd agent' } : { method: 'schtasks', reason: 'Windows runs it as a Task Scheduler entry' };
  }
  if (o.method) return { method: o.method, reason: `it was asked for (--method ${o.method})` };
  if (process.platform !== 'linux') return { method: 'user', reason: 'the files are for another machine, which cannot be looked at from here (choose with --method)' };
  return chooseLinuxMethod(factsOf(o));
}

/** Writes the timer's files (atomically) and, with `activate`, enables it; says which kind it chose and why. */
export async function installTimer(o: TimerOptions, activate: boolean): Promise<TimerResult> {
  const { method, reason, advice } = choose(o);
  const plan = planTimer(o, method);
  const base = { platform: o.platform, methods: [method], reason, commands: plan.activate };
  const chose = `Chose ${KINDS[method]} (${method}) because ${reason}.${advice ? ` ${advice}` : ''}`;
  if (method === 'system' && (activate || o.systemUnitDir === undefined) && !factsOf(o).root) {
    throw new LifeboatError(
      'BAD_ARGUMENT',
      `A system timer is installed into ${o.systemUnitDir ?? SYSTEM_UNIT_DIR} and started by the system's systemd, which needs root.`,
      'Run it as root (sudo lifeboat schedule install --method system), or use --method cron (or --method user where a systemd user session runs).',
    );
  }
  if (method === 'cron') return installCron(o, plan.crontabLine!, activate, base, chose);
  for (const f of plan.files) {
    await fs.mkdir(path.dirname(f.path), { recursive: true });
    await writeFileAtomic(f.path, f.content, 0o644);
  }
  const files = plan.files.map((f) => f.path);
  if (!activate) return { ...base, files, activated: false, message: `${chose} Wrote ${files.join(' and ')}. To start the timer, run: ${shown(plan.activate)}` };
  const failure = runAll(plan.activate);
  if (failure) {
    const facts = method === 'user' ? factsOf(o) : null;
    const hint = facts?.noUserSession
      ? `There is no systemd user session here (${facts.noUserSession}). ${lingerAdvice(facts.user)} Or use --method cron${facts.root ? ' or --method system' : ''}; without --method, lifeboat schedule install chooses what works here.`
      : `Run ${shown(plan.activate)} yourself${method === 'user' ? ' in a desktop session' : ' as root'}, or choose another timer with --method (or keep Lifeboat open: it runs due jobs while it is open).`;
    throw new LifeboatError('TIMER_FAILED', `Wrote ${files.join(' and ')}, but ${failure}.`, hint);
  }
  return { ...base, files, activated: true, message: `${chose} It runs lifeboat run-due every ${TIMER_MINUTES} minutes (files: ${files.join(', ')}).` };
}

function crontabCommand(o: TimerOptions): string {
  const crontab = factsOf(o).crontab;
  if (!crontab)
    throw new LifeboatError(
      'TIMER_FAILED',
      'There is no crontab command here, so no crontab line can be installed.',
      'Install the Debian package cron (apt-get install cron), or use --method user or --method system.',
    );
  return crontab;
}

function installCron(o: TimerOptions, line: string, activate: boolean, base: Pick<TimerResult, 'platform' | 'methods' | 'reason' | 'commands'>, chose: string): TimerResult {
  const user = factsOf(o).user;
  if (!activate) return { ...base, files: [], crontabLine: line, activated: false, message: `${chose} To start the timer, add this line to ${user}'s crontab (crontab -e):\n${line}` };
  const changed = installCronLine(crontabCommand(o), line);
  const daemon = cronDaemonSeen() ? '' : ' No cron daemon seems to run here (no /run/crond.pid): start it (systemctl enable --now cron), or the line never runs.';
  return {
    ...base,
    files: [],
    crontabLine: line,
    activated: true,
    message: `${chose} ${changed ? 'Added' : 'Already had'} this line in ${user}'s crontab, which runs lifeboat run-due every ${TIMER_MINUTES} minutes:\n${line}${daemon}`,
  };
}

interface Removal {
  method: TimerMethod;
  files: string[];
  commands: string[][];
  notes: string[];
  /** Whether it was stopped and removed in full (false with --no-activate, or when a step failed). */
  stopped: boolean;
  crontabLine?: string;
}

/** Stops one kind of timer (with `activate`) and removes its files; null when it is not installed. */
async function removeOne(o: TimerOptions, method: TimerMethod, activate: boolean): Promise<Removal | null> {
  const plan = planTimer(o, method);
  if (method === 'cron') {
    const crontab = factsOf(o).crontab;
    if (!crontab) return null;
    const user = factsOf(o).user;
    if (!activate) {
      const line = findCronLine(crontab);
      return line === null
        ? null
        : { method, files: [], commands: [], crontabLine: line, stopped: false, notes: [`To stop it, delete the line ending in "# lifeboat-run-due" from ${user}'s crontab (crontab -e).`] };
    }
    const line = removeCronLine(crontab);
    return line === null ? null : { method, files: [], commands: [], crontabLine: line, stopped: true, notes: [`Removed Lifeboat's line from ${user}'s crontab; its other lines are unchanged.`] };
  }
  const present = plan.files.filter((f) => existsSync(f.path));
  if (!present.length) return null;
  const notes: string[] = [];
  if (method === 'system' && !factsOf(o).root && (o.systemUnitDir ?? SYSTEM_UNIT_DIR) === SYSTEM_UNIT_DIR) {
    return {
      method,
      files: [],
      commands: plan.deactivate,
      stopped: false,
      notes: [`A system timer is installed (${present.map((f) => f.path).join(', ')}): remove it as root (sudo lifeboat schedule remove --method system).`],
    };
  }
  const failure = activate ? runAll(plan.deactivate.slice(0, 1)) : null;
  const files: string[] = [];
  for (const f of present)
    if (
      await fs.rm(f.path).then(
        () => true,
        () => false,
      )
    )
      files.push(f.path);
  if (activate) runAll(plan.deactivate.slice(1));
  notes.push(`Removed ${files.join(' and ')}.`);
  if (failure) notes.push(`Stopping the timer: ${failure}; it stops at the next ${method === 'system' ? 'boot' : 'login'}.`);
  else notes.push(activate ? 'The timer is stopped.' : `To stop a timer already loaded, run: ${shown(plan.deactivate)}`);
  return { method, files, commands: plan.deactivate, notes, stopped: activate && !failure };
}

/** Stops and removes whichever of Lifeboat's timers are installed (or only `method`), saying what it found. */
export async function removeTimer(o: TimerOptions, activate: boolean): Promise<TimerResult> {
  const look: TimerMethod[] = o.platform === 'linux' ? (o.method ? [o.method] : ['user', 'system', 'cron']) : [choose(o).method];
  if (o.platform === 'linux' && o.method === 'cron') crontabCommand(o);
  const found: Removal[] = [];
  const unreadable: string[] = [];
  for (const method of look) {
    try {
      const r = await removeOne(o, method, activate);
      if (r) found.push(r);
    } catch (err) {
      // Looking everywhere: a crontab that cannot be read must not hide what was removed before it.
      if (o.method || !(err instanceof LifeboatError)) throw err;
      unreadable.push(`${KINDS[method]}: ${err.message}`);
    }
  }
  // macOS and Windows: the platform's own commands run even without a file, as before (a task may outlive its script).
  if (o.platform !== 'linux' && !found.length && activate) {
    const plan = planTimer(o, look[0]!);
    const failure = runAll(plan.deactivate);
    found.push({
      method: look[0]!,
      files: [],
      commands: plan.deactivate,
      stopped: !failure,
      notes: ['There was no timer file to remove.', failure ? `Stopping the timer: ${failure}.` : 'The timer is stopped.'],
    });
  }
  const commands = found.flatMap((r) => r.commands);
  const cron = found.find((r) => r.crontabLine !== undefined);
  const base = {
    platform: o.platform,
    methods: found.map((r) => r.method),
    files: found.flatMap((r) => r.files),
    commands,
    activated: found.length > 0 && found.every((r) => r.stopped),
    ...(cron ? { crontabLine: cron.crontabLine } : {}),
  };
  const also = unreadable.length ? ` Could not look for ${unreadable.join('; ')}` : '';
  if (!found.length) {
    const none = look.map((m) => KINDS[m]).join(', ');
    return { ...base, reason: `found none of: ${none}`, message: `There was no timer to remove (looked for ${none}).${also}` };
  }
  const reason = `found ${found.map((r) => KINDS[r.method]).join(' and ')}`;
  return { ...base, reason, message: `Found ${found.map((r) => `${KINDS[r.method]} (${r.method})`).join(' and ')}. ${found.flatMap((r) => r.notes).join(' ')}${also}` };
}
