import path from 'node:path';
import { Environment, Source, environmentKey } from '../../shared/environment.js';
import type { EnvironmentCheck } from '../../shared/api.js';
import { formatBytes } from '../../shared/format.js';
import { FULL_PATH, overlapProblems, parseEnvironment, pathsOf, resolvePath, resolveSourcePaths } from './environment-file.js';
import { toErrorShape } from './errors.js';
import { probeLocation } from './store/location-probe.js';
import { kindOf } from './sources/index.js';

/** How long the editor waits for one source to be measured before it says "still counting". */
const MEASURE_MS = 4000;

type Problem = EnvironmentCheck['problems'][number];

function fieldPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
}

/**
 * Everything wrong with an environment as typed into the editor, all at once: the schema's
 * problems, then for every source that parses, what its plug-in finds on disk (exists, readable,
 * how many files the globs take), and whether the location can hold backups (a test file is
 * written there and removed). Nothing is left behind.
 */
export async function checkEnvironment(input: unknown, opts: { baseDir?: string; known: (key: string) => boolean }): Promise<Omit<EnvironmentCheck, 'confirmation'>> {
  const problems: Problem[] = [];
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const parsed = Environment.safeParse(input);
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push({ path: fieldPath(issue.path), message: issue.message });

  const relative = (p: string) => !opts.baseDir && !path.isAbsolute(p) && !p.startsWith('~');

  // Cross-field rules (duplicate names, location inside a source) come from the same parser env.save uses.
  // Then the same paths compared by real path, links resolved, as env.save and every backup compare them.
  if (parsed.success) {
    try {
      problems.push(...(await overlapProblems(parseEnvironment(input, opts.baseDir ?? null))).map(({ path, message }) => ({ path, message })));
    } catch (err) {
      for (const p of toErrorShape(err).problems ?? []) problems.push(p);
    }
  }
  // A location inside a source is not probed: the test file would be written into the live data.
  const overlapping = problems.find((p) => p.path === 'location');

  const rawSources = Array.isArray(raw.sources) ? raw.sources : [];
  const sources = await Promise.all(
    rawSources.map(async (rawSource, index): Promise<EnvironmentCheck['sources'][number]> => {
      const one = Source.safeParse(rawSource);
      const name = typeof (rawSource as { name?: unknown })?.name === 'string' ? String((rawSource as { name: string }).name) : `source ${index + 1}`;
      const kind = typeof (rawSource as { kind?: unknown })?.kind === 'string' ? String((rawSource as { kind: string }).kind) : '?';
      if (!one.success) return { index, name, kind, status: 'unchecked', summary: 'Not checked until its fields are valid.', bytes: null, files: null };
      const source = one.data;
      const relativeFields = pathsOf(source).filter(([, value]) => relative(value));
      if (relativeFields.length) {
        for (const [field] of relativeFields) problems.push({ path: `sources[${index}].${field}`, message: FULL_PATH });
        return { index, name, kind, status: 'problem', summary: 'Not a full path.', bytes: null, files: null };
      }
      resolveSourcePaths(source, opts.baseDir ?? '/');
      const signal = AbortSignal.timeout(MEASURE_MS);
      try {
        const estimate = await kindOf(source).plugin.inspect(source, signal);
        const answer = kindOf(source).checkAnswer(source, estimate);
        if ('problem' in answer) {
          problems.push({ path: `sources[${index}].${answer.problem.field}`, message: answer.problem.message });
          return { index, name, kind, status: 'problem', summary: answer.problem.summary, bytes: estimate.bytes, files: estimate.files };
        }
        const { summary } = answer;
        return { index, name, kind, status: 'ok', summary, bytes: estimate.bytes, files: estimate.files };
      } catch (err) {
        const shape = toErrorShape(err);
        if (shape.code === 'CANCELLED' && signal.aborted) return { index, name, kind, status: 'ok', summary: 'Readable; still counting files after 4 s (a large folder).', bytes: null, files: null };
        problems.push({ path: `sources[${index}].path`, message: shape.message, hint: shape.hint });
        return { index, name, kind, status: 'problem', summary: shape.message, bytes: null, files: null };
      }
    }),
  );

  let location: EnvironmentCheck['location'] = { status: 'unchecked', summary: 'Not checked until a location is given.' };
  if (typeof raw.location === 'string' && raw.location) {
    if (relative(raw.location)) {
      problems.push({ path: 'location', message: FULL_PATH });
      location = { status: 'problem', summary: 'Not a full path.' };
    } else if (overlapping) {
      location = { status: 'problem', summary: overlapping.message };
    } else {
      const checked = await checkLocation(resolvePath(raw.location, opts.baseDir ?? '/'));
      location = checked.location;
      if (location.status === 'problem') problems.push({ path: 'location', message: location.summary, hint: checked.hint });
    }
  }

  const key = typeof raw.app === 'string' && typeof raw.name === 'string' ? environmentKey({ app: raw.app, name: raw.name }) : null;
  const unique = [...new Map(problems.map((p) => [`${p.path}\n${p.message}`, p])).values()];
  return { ok: unique.length === 0, key, exists: key ? opts.known(key) : false, problems: unique, sources, location };
}

/** Whether backups can be written at `dir` (see probeLocation), as the editor shows it. */
async function checkLocation(dir: string): Promise<{ location: EnvironmentCheck['location']; hint?: string }> {
  const verdict = await probeLocation(dir);
  if (!verdict.ok) return { location: { status: 'problem', summary: verdict.problem.message }, hint: verdict.problem.hint };
  const room = verdict.freeBytes === null ? '' : `; ${formatBytes(verdict.freeBytes)} free on that disk`;
  return { location: { status: 'ok', summary: verdict.exists ? `Writable${room}.` : `Will be created inside ${verdict.at}${room}.` } };
}
