import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TimerResult } from '../../shared/schedule.js';
import { writeFileAtomic } from './durable.js';
import { LifeboatError } from './errors.js';

export type Platform = TimerResult['platform'];

/** The timer calls `run-due` this often; run-due itself decides what is due. */
export const TIMER_MINUTES = 5;
const UNIT = 'lifeboat-run-due';
const LAUNCHD_LABEL = 'org.lifeboat.run-due';
const TASK_NAME = 'Lifeboat\\Run due';

export interface TimerOptions {
  platform: Platform;
  /** Lifeboat's home: the timer's runs use this catalog. */
  home: string;
  /** How to start the command line: the program and its first arguments (`node …/bin/lifeboat.js`). */
  command: string[];
  /** Where HOME and XDG_CONFIG_HOME are read from. */
  env: NodeJS.ProcessEnv;
}

export interface TimerPlan {
  files: { path: string; content: string }[];
  activate: string[][];
  deactivate: string[][];
}

/** `node` and the `bin/lifeboat.js` beside this code (in the sources or the bundle), or null. */
export function defaultCommand(): string[] | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const bin = path.join(dir, 'bin', 'lifeboat.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return [process.execPath, bin];
    dir = path.dirname(dir);
  }
  return null;
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

/** The files and commands of the timer on one platform; pure, so tests can read them. */
export function planTimer(o: TimerOptions): TimerPlan {
  const argv = [...o.command, 'run-due'];
  switch (o.platform) {
    case 'linux': {
      const dir = path.join(o.env.XDG_CONFIG_HOME || path.join(homeDir(o.env), '.config'), 'systemd', 'user');
      const service = [
        '[Unit]',
        'Description=Lifeboat: run the backups, drills and prunes that are due',
        '',
        '[Service]',
        'Type=oneshot',
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
      return {
        files: [
          { path: path.join(dir, `${UNIT}.service`), content: service },
          { path: path.join(dir, `${UNIT}.timer`), content: timer },
        ],
        activate: [['systemctl', '--user', 'daemon-reload'], ['systemctl', '--user', 'enable', '--now', `${UNIT}.timer`]],
        deactivate: [['systemctl', '--user', 'disable', '--now', `${UNIT}.timer`]],
      };
    }
    case 'darwin': {
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
      return { files: [{ path: plist, content }], activate: [['launchctl', 'load', '-w', plist]], deactivate: [['launchctl', 'unload', '-w', plist]] };
    }
    case 'win32': {
      // The task runs a small script, so that LIFEBOAT_HOME is set and the task's command line stays short.
      const script = path.join(o.home, 'run-due.cmd');
      const content = ['@echo off', `set "LIFEBOAT_HOME=${o.home}"`, argv.map((a) => `"${a}"`).join(' '), ''].join('\r\n');
      return {
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

/** Writes the timer's files (atomically) and, with `activate`, enables it. */
export async function installTimer(o: TimerOptions, activate: boolean): Promise<TimerResult> {
  const plan = planTimer(o);
  for (const f of plan.files) {
    await fs.mkdir(path.dirname(f.path), { recursive: true });
    await writeFileAtomic(f.path, f.content, 0o644);
  }
  const files = plan.files.map((f) => f.path);
  if (!activate) return { platform: o.platform, files, commands: plan.activate, activated: false, message: `Wrote ${files.join(' and ')}. To start the timer, run: ${plan.activate.map((c) => c.join(' ')).join(' && ')}` };
  const failure = runAll(plan.activate);
  if (failure) throw new LifeboatError('TIMER_FAILED', `Wrote ${files.join(' and ')}, but ${failure}.`, `Run ${plan.activate.map((c) => c.join(' ')).join(' && ')} yourself in a desktop session (or keep Lifeboat open: it runs due jobs while it is open).`);
  return { platform: o.platform, files, commands: plan.activate, activated: true, message: `The timer runs lifeboat run-due every ${TIMER_MINUTES} minutes (files: ${files.join(', ')}).` };
}

/** Disables the timer (with `activate`) and removes its files. */
export async function removeTimer(o: TimerOptions, activate: boolean): Promise<TimerResult> {
  const plan = planTimer(o);
  const failure = activate ? runAll(plan.deactivate) : null;
  const files: string[] = [];
  for (const f of plan.files) {
    if (await fs.rm(f.path).then(() => true, () => false)) files.push(f.path);
  }
  if (activate && o.platform === 'linux') runAll([['systemctl', '--user', 'daemon-reload']]);
  const what = files.length ? `Removed ${files.join(' and ')}.` : 'There was no timer file to remove.';
  if (failure) return { platform: o.platform, files, commands: plan.deactivate, activated: false, message: `${what} Stopping the timer: ${failure}; it stops at the next login.` };
  return { platform: o.platform, files, commands: plan.deactivate, activated: activate, message: activate ? `${what} The timer is stopped.` : `${what} To stop a timer already loaded, run: ${plan.deactivate.map((c) => c.join(' ')).join(' && ')}` };
}
