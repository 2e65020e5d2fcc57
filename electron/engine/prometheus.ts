import type { StatusResult } from '../../shared/status.js';

/** A label value with `\`, `"` and newlines escaped, as the text exposition format wants. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The status as a node-exporter textfile: one gauge family each for health, alerts, the last
 * successful backup's time, size and duration, and the last drill's result and time. A family has
 * no line for an environment without such a value (never backed up, never drilled).
 */
export function prometheusText(status: StatusResult): string {
  const families: { name: string; help: string; value: (e: StatusResult['environments'][number]) => number | null }[] = [
    { name: 'lifeboat_health', help: 'Health of the environment: 0 ok, 1 warn, 2 fail.', value: (e) => ({ ok: 0, warn: 1, fail: 2 })[e.level] },
    { name: 'lifeboat_alerts', help: 'Alerts raised for the environment.', value: (e) => e.alerts.length },
    { name: 'lifeboat_overdue', help: '1 when no successful backup followed the last scheduled slot plus its grace.', value: (e) => (e.alerts.some((a) => a.code === 'OVERDUE') ? 1 : 0) },
    { name: 'lifeboat_last_success_timestamp_seconds', help: 'When the newest successful backup finished (Unix time).', value: (e) => (e.lastSet ? Date.parse(e.lastSet.finishedAt) / 1000 : null) },
    { name: 'lifeboat_last_size_bytes', help: 'Size of the newest successful backup set.', value: (e) => e.lastSet?.sizeBytes ?? null },
    { name: 'lifeboat_last_duration_seconds', help: 'How long the newest successful backup took.', value: (e) => (e.lastSet ? e.lastSet.durationMs / 1000 : null) },
    { name: 'lifeboat_last_drill_success', help: '1 when the newest drill passed, 0 when it failed.', value: (e) => (e.lastDrill ? (e.lastDrill.passed ? 1 : 0) : null) },
    { name: 'lifeboat_last_drill_timestamp_seconds', help: 'When the newest drill ran (Unix time).', value: (e) => (e.lastDrill ? Date.parse(e.lastDrill.at) / 1000 : null) },
  ];
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const e of status.environments) {
      const v = f.value(e);
      if (v !== null) lines.push(`${f.name}{env="${label(e.env)}"} ${v}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
