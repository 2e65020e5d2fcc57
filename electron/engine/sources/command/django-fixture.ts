import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import streamArray from 'stream-json/streamers/stream-array.js';
import { canonicalJson } from '../../manifest.js';

/** One object of a Django JSON fixture, as `dumpdata` writes it (`pk` is absent with natural primary keys). */
export interface FixtureObject {
  model: string;
  pk?: unknown;
  fields: Record<string, unknown>;
}

export interface FixtureSummary {
  objects: number;
  /** Objects per model, sorted by model. */
  models: { name: string; rows: number }[];
}

/**
 * Reads a Django JSON fixture object by object with bounded memory: a top-level array whose every
 * element has a string `model` (`app_label.model`) and an object `fields`. Throws an Error naming
 * the first element that is not so; `onObject` sees each object in order.
 */
export async function readFixture(input: Readable, onObject?: (obj: FixtureObject, index: number) => void): Promise<FixtureSummary> {
  const counts = new Map<string, number>();
  let objects = 0;
  const items = streamArray.withParserAsStream();
  await pipeline(input, items, async (source: AsyncIterable<{ key: number; value: unknown }>) => {
    for await (const { key, value } of source) {
      const obj = value as Partial<FixtureObject> | null;
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`element ${key} is not an object`);
      if (typeof obj.model !== 'string' || !/^\w+\.\w+$/.test(obj.model)) throw new Error(`element ${key} has no "model" of the form app_label.model`);
      if (!obj.fields || typeof obj.fields !== 'object' || Array.isArray(obj.fields)) throw new Error(`element ${key} (${obj.model}) has no "fields" object`);
      counts.set(obj.model, (counts.get(obj.model) ?? 0) + 1);
      objects++;
      onObject?.(obj as FixtureObject, key);
    }
  });
  return { objects, models: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, rows]) => ({ name, rows })) };
}

/** The identity of an object's whole content, whatever the fixture's indentation or key order. */
export function objectDigest(obj: FixtureObject): string {
  return createHash('sha256').update(canonicalJson(obj)).digest('hex');
}

/** `dictionary.word 12`, or the first fields of an object without a `pk`, for a message. */
export function objectLabel(obj: FixtureObject): string {
  return obj.pk !== undefined ? `${obj.model} ${JSON.stringify(obj.pk)}` : `${obj.model} ${JSON.stringify(obj.fields).slice(0, 60)}`;
}
