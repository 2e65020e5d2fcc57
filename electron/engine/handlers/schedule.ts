import type { LinuxTimerMethod } from '../../../shared/schedule.js';
import { LifeboatError } from '../errors.js';
import { runDue } from '../run-due.js';
import { installTimer, removeTimer, type Platform, type TimerOptions } from '../system-timer.js';
import type { EngineCore, HandlerTable } from './types.js';

/** Running what is due, and installing or removing the operating system's timer that does it. */
export function scheduleHandlers(core: EngineCore): HandlerTable<'schedule.runDue' | 'schedule.install' | 'schedule.remove'> {
  /** Where and how the operating system's timer is written. */
  const timerOptions = (platform: Platform | undefined, method: LinuxTimerMethod | undefined): TimerOptions => {
    const current = process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
    if (!core.runDueCommand)
      throw new LifeboatError(
        'TIMER_FAILED',
        'This Lifeboat cannot tell how to start its command line, so it cannot install a timer.',
        'Install the timer from the command line: lifeboat schedule install.',
      );
    return { platform: platform ?? current, method, home: core.home, command: core.runDueCommand, env: process.env };
  };
  return {
    // Each job inside tells its own change; a look that ran something tells once more, after its log entry.
    'schedule.runDue': async ({ now }, { signal }) => {
      const result = await runDue(core, now ? new Date(now) : new Date(), signal);
      for (const job of result.ran) core.tell(job.env);
      return result;
    },
    'schedule.install': async ({ activate, platform, method }, { log }) => {
      const result = await installTimer(timerOptions(platform, method), activate);
      log.done(result.message, { subject: { env: null, action: 'schedule.install' } });
      return result;
    },
    'schedule.remove': async ({ activate, platform, method }, { log }) => {
      const result = await removeTimer(timerOptions(platform, method), activate);
      log.done(result.message, { subject: { env: null, action: 'schedule.remove' } });
      return result;
    },
  };
}
