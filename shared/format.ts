/** Bytes in human units (1 decimal below 10), as the operator reads them: `184 MB`, `3.2 GB`. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  if (u === 0) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** A duration as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 07 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** `1 table`, `3 tables`: a count with its noun. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** How long ago `at` was, as an operator says it: `just now`, `42 s ago`, `3 min ago`, `5 h ago`, `2 days ago`; or `in 5 h` ahead. */
export function formatAge(at: string | number, now: number): string {
  const ms = now - (typeof at === 'number' ? at : Date.parse(at));
  if (!Number.isFinite(ms)) return 'unknown';
  const span = spanOf(Math.abs(ms));
  if (ms < 0) return span ? `in ${span}` : 'in a moment';
  return span ? `${span} ago` : 'just now';
}

/** `42 s`, `3 min`, `5 h`, `2 days`; empty below 10 s. */
function spanOf(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 10) return '';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

/** An exact UTC time for hovering: `2026-11-22 02:00:13 UTC`. */
export function formatUtc(at: string | number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `app:app (1001:1001) 0664`, or `1001:1001 0664` when the ids have no names here: owner, group and mode as `ls -ln` and `stat` show them. */
export function formatOwnership(o: { uid: number; gid: number; user: string | null; group: string | null; mode: number }): string {
  const ids = `${o.uid}:${o.gid}`;
  const names = o.user !== null || o.group !== null ? `${o.user ?? o.uid}:${o.group ?? o.gid} (${ids})` : ids;
  return `${names} ${o.mode.toString(8).padStart(4, '0')}`;
}
