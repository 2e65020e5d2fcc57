import { z } from 'zod';

/**
 * How one field of a source is edited: where its value sits in the source (`key`, dotted for a
 * nested one such as `dump.argv`), what the editor shows, and how the typed text becomes the value.
 * The editor builds every kind's fields from these, so it never tests a kind's name.
 */
export const KindField = z.object({
  /** The value's place in the source: `path`, `connectTimeoutSeconds`, `dump.cwd`. */
  key: z.string().min(1),
  label: z.string().min(1),
  /** Shown small after the label, e.g. `(one glob per line)`; a part in backticks is shown as code. */
  note: z.string().optional(),
  placeholder: z.string().optional(),
  /**
   * text: one line, removed when empty unless `required`; number: digits, removed when empty;
   * lines: one value a line (an array); variables: `NAME=value` a line; choice: one of `choices`,
   * removed when empty; presence: a tick box for an object that is there or not.
   */
  input: z.enum(['text', 'number', 'lines', 'variables', 'choice', 'presence']),
  /** Kept even when empty, so that the engine's check names it. */
  required: z.boolean().default(false),
  /** The problem path under the source whose messages show under this field (`dump` for the dump's argv); null: none shown. */
  problemAt: z.string().nullable(),
  /** The value of a new source, as typed. */
  initial: z.string().default(''),
  /** Rows of a many-line box; `mono` shows it in a fixed-width font. */
  rows: z.number().int().positive().optional(),
  mono: z.boolean().default(false),
  /** Takes the full width of the form. */
  wide: z.boolean().default(false),
  choices: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
});
export type KindField = z.infer<typeof KindField>;

/** One source kind as a screen shows it: how it is chosen, added, edited and restored elsewhere. */
export const KindDescription = z.object({
  kind: z.string().min(1),
  /** In the editor's Kind list: `SQLite database (a file)`. */
  choice: z.string(),
  /** On the Overview's list of sources: `SQLite database`. */
  label: z.string(),
  /** The editor's button that adds one: `+ SQLite database`. */
  addButton: z.string(),
  /** A new source's name before its number: `db` gives `db2`. */
  defaultName: z.string(),
  /** What a restore that leaves the live data alone needs of this kind: a folder, or a new database. */
  restoresInto: z.enum(['folder', 'database']),
  fields: z.array(KindField),
});
export type KindDescription = z.infer<typeof KindDescription>;

/** How one configured source is shown: its kind's label and where its data is. */
export const SourceShown = z.object({
  name: z.string(),
  kind: z.string(),
  label: z.string(),
  place: z.string(),
});
export type SourceShown = z.infer<typeof SourceShown>;
