import type { StatusResult } from '../shared/status.js';
import type { RunDueResult } from '../shared/schedule.js';

export interface Notice {
  title: string;
  body: string;
}

/**
 * What the desktop app tells the operator through the system's notifications: each scheduled run
 * that did not succeed (or ran late), and each alert when it first appears, never the same alert
 * twice while it lasts. Plain logic, so it is tested without Electron.
 */
export class AlertNotifier {
  private seen = new Set<string>();

  /** Notices for alerts that are new since the last look; alerts that went away may come back later. */
  alerts(status: StatusResult): Notice[] {
    const now = new Set<string>();
    const out: Notice[] = [];
    for (const env of status.environments) {
      for (const alert of env.alerts) {
        const key = `${env.env}\n${alert.code}`;
        now.add(key);
        if (this.seen.has(key)) continue;
        out.push({ title: `Lifeboat: ${env.env.replace('/', ' / ')} ${alert.severity === 'fail' ? 'needs action' : 'needs a look'}`, body: `${alert.message} ${alert.hint}` });
      }
    }
    this.seen = now;
    return out;
  }

  /** Notices for scheduled runs that failed, or that ran late after the machine was off. */
  runs(result: RunDueResult): Notice[] {
    const out: Notice[] = [];
    for (const run of result.ran) {
      const failed = run.steps.filter((s) => s.outcome !== 'success' && s.outcome !== 'skipped');
      const name = run.env.replace('/', ' / ');
      if (failed.length) out.push({ title: `Lifeboat: scheduled work of ${name} failed`, body: failed.map((s) => `${s.kind}: ${s.error?.message ?? s.summary}`).join(' ') });
      else if (run.late)
        out.push({
          title: `Lifeboat: ${name} backed up late`,
          body: `The scheduled backup ran ${Math.round(run.lateByMs / 60_000)} min late (the computer was off or Lifeboat was closed); it succeeded.`,
        });
    }
    return out;
  }
}
