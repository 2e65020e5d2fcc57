import { SET_ID } from '../../shared/manifest.js';

/** The pattern of every set folder name. */
export const SET_ID_PATTERN = SET_ID;

/** `YYYYMMDD_HHMMSS` of a time, in UTC. */
export function stamp(at: Date): string {
  const iso = at.toISOString(); // 2026-11-22T02:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** The folder name of a set: `{app}_{env}_{YYYYMMDD}_{HHMMSS}`, `_{n}` added when taken. */
export function setId(app: string, env: string, at: Date, taken: (id: string) => boolean): string {
  const base = `${app}_${env}_${stamp(at)}`;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) if (!taken(`${base}_${n}`)) return `${base}_${n}`;
}

/** Whether a folder name is a set of exactly this app and environment (not of `prod-2` for `prod`). */
export function isSetOf(name: string, app: string, env: string): boolean {
  const m = SET_ID.exec(name);
  return !!m && m[1] === app && m[2] === env;
}

/** The hidden folder a set is written into before it is sealed. */
export const PARTIAL_PREFIX = '.partial-';
