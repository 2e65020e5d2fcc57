import type { Environment, Source } from '../../../shared/environment.js';
import type { KindDescription, KindField } from '../../../shared/kinds.js';

/**
 * The environment editor's form and the payload it saves, as pure functions: the screen binds to
 * the form, and tests build the very same payload without a browser.
 *
 * Saving never loses what the form does not show. The payload starts from the environment as it
 * was loaded and overwrites only the fields the operator changed, so a field this form has no
 * control for (or one added to the environment file later) is saved exactly as it was, and so is
 * a field whose text the operator left alone (an argument with spaces at its ends, say).
 */

type Json = Record<string, unknown>;

export interface SourceForm {
  kind: string;
  name: string;
  /**
   * The typed value of each field, by its key in the source (`path`, `dump.argv`): text as typed,
   * a tick box as true or false. Holds every known kind's fields, so what was typed survives a change of kind.
   */
  values: Record<string, string | boolean>;
  /** Kinds without a description are edited as their JSON. */
  json: string;
  /** The source as loaded, or null for a new one. */
  origin: Json | null;
}

export const SCHEDULE_PRESETS = ['hourly', 'daily', 'weekly', 'monthly', 'cron'] as const;
export type SchedulePreset = (typeof SCHEDULE_PRESETS)[number];
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface ScheduleForm {
  /** False: backups run only when the operator asks. */
  on: boolean;
  preset: SchedulePreset;
  /** `HH:MM`, as a time input gives it. */
  time: string;
  weekday: string;
  /** Day of the month, 1 to 28. */
  day: string;
  cron: string;
  timezone: string;
  drillAfter: boolean;
  pruneAfter: boolean;
  grace: string;
}

export const RETENTION_RULES = ['keepLast', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'maxAgeDays', 'safetyKeepDays'] as const;
export type RetentionRule = (typeof RETENTION_RULES)[number];

export type RetentionForm = { on: boolean } & Record<RetentionRule, string>;

export interface AlertsForm {
  /** In GB (10⁹ bytes), as sizes are shown everywhere else. */
  minFreeGb: string;
  minFreePercent: string;
  sizeFactor: string;
  durationFactor: string;
  drillMaxAgeDays: string;
}

export interface EnvironmentForm {
  app: string;
  name: string;
  protection: 'normal' | 'protected';
  location: string;
  /** The source kinds this version knows (the contract's `kinds.list`): their fields are the form's. */
  kinds: KindDescription[];
  sources: SourceForm[];
  schedule: ScheduleForm;
  retention: RetentionForm;
  alerts: AlertsForm;
  /** The environment as loaded, or null for a new one. */
  origin: Json | null;
}

/** Problems the form itself finds before the engine sees the payload, by field path (`retention.daily`). */
export type FormProblems = Record<string, string>;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A new source of `kind`: every field at its kind's starting value (a folder takes every file, a server listens on 5432). */
export function blankSource(kind: string, name: string, kinds: KindDescription[]): SourceForm {
  const values: Record<string, string | boolean> = {};
  for (const k of [...kinds.filter((k) => k.kind !== kind), ...kinds.filter((k) => k.kind === kind)]) {
    for (const f of k.fields) values[f.key] = f.input === 'presence' ? false : f.initial;
  }
  return { kind, name, values, json: '', origin: null };
}

/** The description of a kind, or undefined for one this version does not describe (edited as JSON). */
export function kindNamed(kinds: KindDescription[], kind: string): KindDescription | undefined {
  return kinds.find((k) => k.kind === kind);
}

/** A schedule the operator has not turned on yet holds a sensible start: every night at 02:00, then a drill. */
export function blankSchedule(): ScheduleForm {
  return { on: false, preset: 'daily', time: '02:00', weekday: 'mon', day: '1', cron: '', timezone: '', drillAfter: true, pruneAfter: false, grace: '60' };
}

/** Retention not turned on yet holds a common policy: a week of dailies, a month of weeklies, a year of monthlies. */
export function blankRetention(): RetentionForm {
  return { on: false, keepLast: '', hourly: '', daily: '7', weekly: '4', monthly: '12', yearly: '', maxAgeDays: '', safetyKeepDays: '7' };
}

export function blankForm(kinds: KindDescription[]): EnvironmentForm {
  const first = kinds[0];
  return {
    app: '',
    name: '',
    protection: 'normal',
    location: '',
    kinds,
    sources: first ? [blankSource(first.kind, first.defaultName, kinds)] : [],
    schedule: blankSchedule(),
    retention: blankRetention(),
    alerts: alertsFormOf(undefined),
    origin: null,
  };
}

const varsText = (env: Record<string, string> | undefined) =>
  Object.entries(env ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
const text = (v: number | string | undefined) => (v === undefined ? '' : String(v));

/** The value at a dotted key (`dump.argv`) of an object, or undefined. */
function valueAt(obj: Json, key: string): unknown {
  let at: unknown = obj;
  for (const part of key.split('.')) at = isObject(at) ? at[part] : undefined;
  return at;
}

/** A field's value as the form shows it. */
function fieldText(f: KindField, v: unknown): string | boolean {
  switch (f.input) {
    case 'presence':
      return v !== undefined;
    case 'lines':
      return Array.isArray(v) ? v.join('\n') : '';
    case 'variables':
      return varsText(isObject(v) ? (v as Record<string, string>) : undefined);
    default:
      return v === undefined || v === null ? '' : String(v);
  }
}

export function sourceForm(s: Source, kinds: KindDescription[]): SourceForm {
  const f = { ...blankSource(s.kind, s.name, kinds), origin: clone(s) as Json };
  const kind = kindNamed(kinds, s.kind);
  if (kind) {
    for (const field of kind.fields) f.values[field.key] = fieldText(field, valueAt(s as unknown as Json, field.key));
    return f;
  }
  const { kind: k, name, ...rest } = s as { kind: string; name: string };
  return { ...blankSource(k, name, kinds), origin: clone(s) as Json, json: JSON.stringify(rest, null, 2) };
}

const CLOCK = '(?:\\s+(\\d{1,2}):(\\d{2}))?';
const clockOf = (hh: string | undefined, mm: string | undefined): string | null => {
  if (hh === undefined) return '00:00';
  return Number(hh) <= 23 && Number(mm) <= 59 ? `${hh.padStart(2, '0')}:${mm}` : null;
};

/** The form of a schedule's `at`: a preset the engine knows, or the text as a cron expression. */
export function scheduleFormOf(schedule: Environment['schedule']): ScheduleForm {
  const f = blankSchedule();
  if (!schedule) return f;
  const on = { ...f, on: true, timezone: schedule.timezone ?? '', drillAfter: schedule.drillAfter, pruneAfter: schedule.pruneAfter, grace: String(schedule.graceMinutes) };
  const at = schedule.at.trim().toLowerCase().replace(/\s+/g, ' ');
  let m: RegExpExecArray | null;
  if (at === 'hourly') return { ...on, preset: 'hourly' };
  if ((m = new RegExp(`^daily${CLOCK}$`).exec(at)) && clockOf(m[1], m[2])) return { ...on, preset: 'daily', time: clockOf(m[1], m[2])! };
  if ((m = new RegExp(`^weekly(?:\\s+(${WEEKDAYS.join('|')})[a-z]*)?${CLOCK}$`).exec(at)) && clockOf(m[2], m[3]))
    return { ...on, preset: 'weekly', weekday: m[1] ?? 'sun', time: clockOf(m[2], m[3])! };
  if ((m = new RegExp(`^monthly(?:\\s+(\\d{1,2}))?${CLOCK}$`).exec(at)) && clockOf(m[2], m[3]) && Number(m[1] ?? 1) >= 1 && Number(m[1] ?? 1) <= 28) {
    return { ...on, preset: 'monthly', day: String(Number(m[1] ?? 1)), time: clockOf(m[2], m[3])! };
  }
  return { ...on, preset: 'cron', cron: schedule.at };
}

/** The `at` of the environment file for what the schedule form shows. */
export function atOf(f: ScheduleForm): string {
  switch (f.preset) {
    case 'hourly':
      return 'hourly';
    case 'daily':
      return `daily ${f.time}`;
    case 'weekly':
      return `weekly ${f.weekday} ${f.time}`;
    case 'monthly':
      return `monthly ${f.day} ${f.time}`;
    case 'cron':
      return f.cron.trim();
  }
}

export function retentionFormOf(r: Environment['retention']): RetentionForm {
  return r ? { on: true, ...(Object.fromEntries(RETENTION_RULES.map((k) => [k, text(r[k])])) as Record<RetentionRule, string>) } : blankRetention();
}

export function alertsFormOf(a: Environment['alerts']): AlertsForm {
  return {
    minFreeGb: a?.minFreeBytes === undefined ? '' : String(a.minFreeBytes / 1e9),
    minFreePercent: text(a?.minFreePercent),
    sizeFactor: text(a?.sizeFactor),
    durationFactor: text(a?.durationFactor),
    drillMaxAgeDays: text(a?.drillMaxAgeDays),
  };
}

export function formOf(env: Environment, kinds: KindDescription[]): EnvironmentForm {
  return {
    app: env.app,
    name: env.name,
    protection: env.protection,
    location: env.location,
    kinds,
    sources: env.sources.map((s) => sourceForm(s, kinds)),
    schedule: scheduleFormOf(env.schedule),
    retention: retentionFormOf(env.retention),
    alerts: alertsFormOf(env.alerts),
    origin: clone(env) as unknown as Json,
  };
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Writes a trimmed text, or removes the field when the text is empty (its default applies). */
function setText(obj: Json, key: string, value: string): void {
  const t = value.trim();
  if (t) obj[key] = t;
  else delete obj[key];
}

/** Writes a number, removes the field when empty, and names a text that is not a number. */
function setNumber(obj: Json, key: string, value: string, at: string, problems: FormProblems, scale = 1): void {
  const t = value.trim();
  const n = Number(t);
  if (!t) delete obj[key];
  else if (!Number.isFinite(n)) {
    problems[at] = 'give a number, written with digits (and a point for decimals, e.g. 1.5)';
    delete obj[key];
  } else obj[key] = scale === 1 ? n : Math.round(n * scale);
}

/** `NAME=value` lines as an object; a line without "=" is a problem. */
function parseVars(value: string, at: string, problems: FormProblems): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of value.split('\n')) {
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    if (eq < 1) {
      problems[at] = `write each variable as NAME=value on its own line ("${line.trim().slice(0, 40)}" has no "=")`;
      continue;
    }
    vars[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return vars;
}

/** Writes one field's typed value into the source, as its input says (see KindField). */
function writeField(out: Json, f: KindField, typed: string | boolean, at: string, problems: FormProblems): void {
  const parts = f.key.split('.');
  const last = parts.pop()!;
  let parent = out;
  for (const part of parts) {
    if (!isObject(parent[part])) parent[part] = {};
    parent = parent[part] as Json;
  }
  const value = typeof typed === 'string' ? typed : '';
  switch (f.input) {
    case 'text':
      if (f.required) parent[last] = value;
      else setText(parent, last, value);
      break;
    case 'choice':
      setText(parent, last, value);
      break;
    case 'number':
      setNumber(parent, last, value, `${at}.${f.key}`, problems);
      break;
    case 'lines':
      parent[last] = lines(value);
      break;
    case 'variables':
      parent[last] = parseVars(value, `${at}.${f.key}`, problems);
      break;
    case 'presence':
      if (typed !== true) delete parent[last];
      else if (!isObject(parent[last])) parent[last] = {};
      break;
  }
}

function sourceInput(s: SourceForm, i: number, kinds: KindDescription[], problems: FormProblems): Json {
  // A source whose kind changed starts afresh: the fields of its old kind would not fit the new one.
  const origin = s.origin && s.origin.kind === s.kind ? s.origin : null;
  const was = origin ? sourceForm(origin as unknown as Source, kinds) : null;
  const out: Json = origin ? clone(origin) : { kind: s.kind };
  const at = `sources[${i}]`;
  out.kind = s.kind;
  out.name = s.name;
  const kind = kindNamed(kinds, s.kind);
  if (kind) {
    for (const f of kind.fields) if (!was || was.values[f.key] !== s.values[f.key]) writeField(out, f, s.values[f.key] ?? '', at, problems);
  } else if (!was || was.json !== s.json) {
    try {
      const parsed: unknown = JSON.parse(s.json || '{}');
      if (!isObject(parsed)) throw new Error('give an object, in { }');
      return { ...parsed, kind: s.kind, name: s.name };
    } catch (err) {
      problems[at] = `not valid JSON: ${(err as Error).message}`;
      return { kind: s.kind, name: s.name };
    }
  }
  return out;
}

function scheduleInput(f: ScheduleForm, origin: unknown, problems: FormProblems): Json | undefined {
  if (!f.on) return undefined;
  const was = isObject(origin) ? scheduleFormOf(origin as Environment['schedule']) : null;
  const out: Json = was ? clone(origin as Json) : {};
  const changed = (k: keyof ScheduleForm) => !was || was[k] !== f[k];
  if (!was || atOf(was) !== atOf(f)) {
    if (f.preset === 'cron' && !f.cron.trim()) problems['schedule.at'] = 'give a cron expression: minute hour day-of-month month day-of-week, e.g. 30 1 * * 1-5';
    else if (f.preset !== 'hourly' && f.preset !== 'cron' && !/^\d{2}:\d{2}$/.test(f.time)) problems['schedule.at'] = 'give the time of day, e.g. 02:00';
    out.at = atOf(f);
  }
  if (changed('timezone')) setText(out, 'timezone', f.timezone);
  if (changed('drillAfter')) out.drillAfter = f.drillAfter;
  if (changed('pruneAfter')) out.pruneAfter = f.pruneAfter;
  if (changed('grace')) setNumber(out, 'graceMinutes', f.grace, 'schedule.graceMinutes', problems);
  return out;
}

function retentionInput(f: RetentionForm, origin: unknown, problems: FormProblems): Json | undefined {
  if (!f.on) return undefined;
  const was = isObject(origin) ? retentionFormOf(origin as Environment['retention']) : null;
  const out: Json = was ? clone(origin as Json) : {};
  for (const k of RETENTION_RULES) if (!was || was[k] !== f[k]) setNumber(out, k, f[k], `retention.${k}`, problems);
  return out;
}

function alertsInput(f: AlertsForm, origin: unknown, problems: FormProblems): Json | undefined {
  const base = isObject(origin) ? (origin as Environment['alerts']) : undefined;
  const was = alertsFormOf(base);
  const out: Json = base ? clone(base as Json) : {};
  const fields = { minFreeGb: 'minFreeBytes', minFreePercent: 'minFreePercent', sizeFactor: 'sizeFactor', durationFactor: 'durationFactor', drillMaxAgeDays: 'drillMaxAgeDays' } as const;
  for (const [k, key] of Object.entries(fields) as [keyof AlertsForm, string][]) {
    if (!base || was[k] !== f[k]) setNumber(out, key, f[k], `alerts.${key}`, problems, k === 'minFreeGb' ? 1e9 : 1);
  }
  return base || Object.keys(out).length ? out : undefined;
}

/**
 * The environment as the engine reads it, and what the form found wrong on its own. It starts from
 * the loaded environment, so fields this form does not show are carried over unchanged.
 */
export function toEnvironmentInput(form: EnvironmentForm): { input: Json; problems: FormProblems } {
  const problems: FormProblems = {};
  const out: Json = form.origin ? clone(form.origin) : {};
  out.app = form.app;
  out.name = form.name;
  out.protection = form.protection;
  out.location = form.location;
  out.sources = form.sources.map((s, i) => sourceInput(s, i, form.kinds, problems));
  const sections = {
    schedule: scheduleInput(form.schedule, form.origin?.schedule, problems),
    retention: retentionInput(form.retention, form.origin?.retention, problems),
    alerts: alertsInput(form.alerts, form.origin?.alerts, problems),
  };
  for (const [k, v] of Object.entries(sections)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return { input: out, problems };
}
