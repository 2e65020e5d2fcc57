import { describe, expect, it } from 'vitest';
import { chooseLinuxMethod, type MachineFacts } from '../../electron/engine/timer-method.js';

const headless = 'systemctl --user show-environment: Failed to connect to bus: No medium found; XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are not set';
const server: MachineFacts = { noUserSession: headless, root: false, systemd: true, crontab: '/usr/bin/crontab', user: 'backup' };

describe('which Linux timer works here', () => {
  it('a user timer where a user session answers, whoever runs it', () => {
    expect(chooseLinuxMethod({ ...server, noUserSession: null, root: true })).toEqual({ method: 'user', reason: 'a systemd user session answers here (systemctl --user)' });
  });

  it('on a headless server: a system timer for root, a crontab line for anyone else, each with the lingering advice', () => {
    const linger = 'For a systemd user timer instead, run `loginctl enable-linger backup` as root, log in again, then `lifeboat schedule install --method user`.';
    expect(chooseLinuxMethod({ ...server, root: true })).toEqual({
      method: 'system',
      reason: `there is no systemd user session here (${headless}), and Lifeboat runs as root on a machine that systemd runs`,
      advice: linger,
    });
    expect(chooseLinuxMethod(server)).toEqual({ method: 'cron', reason: `there is no systemd user session here (${headless}), and a systemd system timer needs root`, advice: linger });
  });

  it('without systemd (a container): cron even for root, and no lingering advice that could not work', () => {
    expect(chooseLinuxMethod({ ...server, root: true, systemd: false })).toEqual({
      method: 'cron',
      reason: `there is no systemd user session here (${headless}), and systemd does not run this machine`,
    });
  });

  it('with none of them: refused, naming the Debian package cron and what else would work', () => {
    expect(() => chooseLinuxMethod({ ...server, crontab: null })).toThrow(
      expect.objectContaining({
        code: 'TIMER_FAILED',
        message: `No timer can be installed here: there is no systemd user session here (${headless}), a systemd system timer needs root, and there is no crontab command.`,
        hint: expect.stringMatching(
          /^Install the Debian package cron \(apt-get install cron\) and run lifeboat schedule install again, or run it as root for a system timer \(--method system\)\. For a systemd user timer instead, run `loginctl enable-linger backup`/,
        ),
      }),
    );
  });
});
