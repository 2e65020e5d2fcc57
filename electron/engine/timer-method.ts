import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LinuxTimerMethod } from '../../shared/schedule.js';
import { LifeboatError } from './errors.js';

/** What decides which Linux timer can work here; `probeMachine` reads it, tests may give their own. */
export interface MachineFacts {
  /** Null when `systemctl --user` answers; otherwise why not (its words, and the missing variables). */
  noUserSession: string | null;
  /** Running as root: a system unit can be installed. */
  root: boolean;
  /** systemd runs this machine (`/run/systemd/system` exists), so its timers run at all. */
  systemd: boolean;
  /** The `crontab` command's path, or null. */
  crontab: string | null;
  /** The user the timer runs as. */
  user: string;
}

/** `command -v NAME` without a shell: the first executable of that name on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const full = path.join(dir || '.', name);
    if (existsSync(full)) return full;
  }
  return null;
}

/** Whether this user's systemd instance answers; on a headless server it does not ("Failed to connect to bus"). */
function userSessionProblem(env: NodeJS.ProcessEnv): string | null {
  const r = spawnSync('systemctl', ['--user', 'show-environment'], { encoding: 'utf8', env, timeout: 10_000 });
  if (!r.error && r.status === 0) return null;
  const said = r.error ? ((r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'systemctl is not installed' : r.error.message) : (r.stderr || `exit ${r.status}`).trim().split('\n')[0]!;
  const unset = ['XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS'].filter((v) => !env[v]);
  return `systemctl --user show-environment: ${said}${unset.length ? `; ${unset.join(' and ')} ${unset.length === 1 ? 'is' : 'are'} not set` : ''}`;
}

export function probeMachine(env: NodeJS.ProcessEnv): MachineFacts {
  return {
    noUserSession: userSessionProblem(env),
    root: process.getuid?.() === 0,
    systemd: existsSync('/run/systemd/system'),
    crontab: onPath('crontab', env),
    user: os.userInfo().username,
  };
}

/** The advice for a user timer on a machine where no one is logged in: lingering starts the user's systemd at boot. */
export function lingerAdvice(user: string): string {
  return `For a systemd user timer instead, run \`loginctl enable-linger ${user}\` as root, log in again, then \`lifeboat schedule install --method user\`.`;
}

export interface MethodChoice {
  method: LinuxTimerMethod;
  /** Why, as a clause: "there is no systemd user session here (…), and …". */
  reason: string;
  /** What would make another method work, when one would be better (lingering for a user timer). */
  advice?: string;
}

/**
 * Picks the Linux timer that works here, and says why: a user timer where a user session answers,
 * else a system timer when root on a machine systemd runs, else a crontab line. With none of them
 * it refuses, saying what would make one work.
 */
export function chooseLinuxMethod(f: MachineFacts): MethodChoice {
  if (f.noUserSession === null) return { method: 'user', reason: 'a systemd user session answers here (systemctl --user)' };
  const noSession = `there is no systemd user session here (${f.noUserSession})`;
  const advice = f.systemd ? { advice: lingerAdvice(f.user) } : {};
  if (f.root && f.systemd) return { method: 'system', reason: `${noSession}, and Lifeboat runs as root on a machine that systemd runs`, ...advice };
  const noSystem = f.systemd ? 'a systemd system timer needs root' : 'systemd does not run this machine';
  if (f.crontab) return { method: 'cron', reason: `${noSession}, and ${noSystem}`, ...advice };
  throw new LifeboatError(
    'TIMER_FAILED',
    `No timer can be installed here: ${noSession}, ${noSystem}, and there is no crontab command.`,
    `Install the Debian package cron (apt-get install cron) and run lifeboat schedule install again${f.systemd && !f.root ? ', or run it as root for a system timer (--method system)' : ''}.${f.systemd ? ` ${lingerAdvice(f.user)}` : ''} Until then, due jobs run only while Lifeboat is open (lifeboat serve).`,
  );
}
