import type { CommandSource } from '../../../../shared/environment.js';
import type { KindField } from '../../../../shared/kinds.js';
import type { KindDescriptor } from '../common/kind.js';
import { commandCard } from './card.js';
import { commandPlugin } from './command.js';
import { commandRestore } from './command-restore.js';

const field = (f: Pick<KindField, 'key' | 'label' | 'input'> & Partial<KindField>): KindField => ({ required: false, problemAt: f.key, initial: '', mono: false, wide: false, ...f });

/** The output of an operator's dump command (e.g. Django's dumpdata), fed back to their restore command. */
export const commandKind: KindDescriptor<CommandSource> = {
  kind: 'command',
  plugin: commandPlugin,
  restorer: commandRestore,
  description: {
    kind: 'command',
    choice: 'Dump command (e.g. Django dumpdata)',
    label: 'Dump command',
    addButton: '+ Dump command',
    defaultName: 'dump',
    restoresInto: 'folder',
    fields: [
      field({
        key: 'dump.argv',
        label: 'Dump command',
        note: '(one argument per line; its output is the backup)',
        input: 'lines',
        problemAt: 'dump',
        rows: 4,
        mono: true,
        placeholder: 'python3\nmanage.py\ndumpdata\n--natural-foreign',
      }),
      field({
        key: 'restore.argv',
        label: 'Restore command',
        note: '(one argument per line; reads the backup on its input)',
        input: 'lines',
        problemAt: 'restore',
        rows: 4,
        mono: true,
        placeholder: 'python3\nmanage.py\nloaddata\n--format=json\n-',
      }),
      field({ key: 'dump.cwd', label: 'Dump runs in folder', input: 'text', placeholder: '/srv/shop' }),
      field({ key: 'restore.cwd', label: 'Restore runs in folder', input: 'text', placeholder: '/srv/shop' }),
      field({
        key: 'dump.env',
        label: 'Extra variables for the dump',
        note: '(one `NAME=value` per line)',
        input: 'variables',
        rows: 2,
        mono: true,
        placeholder: 'DJANGO_SETTINGS_MODULE=shop.settings',
      }),
      field({
        key: 'restore.env',
        label: 'Extra variables for the restore',
        note: '(one `NAME=value` per line)',
        input: 'variables',
        rows: 2,
        mono: true,
        placeholder: 'DJANGO_SETTINGS_MODULE=shop.settings',
      }),
      field({ key: 'timeoutSeconds', label: 'Stop a dump or restore that runs longer than', note: '(seconds)', input: 'number', placeholder: '3600' }),
      field({
        key: 'format',
        label: 'Output format',
        input: 'choice',
        problemAt: null,
        choices: [
          { value: '', label: 'Any (checked by its bytes)' },
          { value: 'django-fixture', label: 'Django fixture (checked object by object)' },
        ],
      }),
    ],
  },
  pathsOf: (s) =>
    [
      ['dump.cwd', s.dump.cwd],
      ['restore.cwd', s.restore.cwd],
      ['drill.cwd', s.drill?.cwd],
      ['reset.cwd', s.reset?.cwd],
    ].filter((e): e is [string, string] => typeof e[1] === 'string'),
  resolvePaths: (s, base, resolve) => {
    for (const step of [s.dump, s.restore, s.drill, s.reset]) if (step?.cwd) step.cwd = resolve(step.cwd, base);
  },
  livePath: () => null,
  restoreTarget: (s) => `command ${JSON.stringify(s.restore.argv)}${s.restore.cwd ? ` in ${s.restore.cwd}` : ''}`,
  placeOf: (s) => `the dump command of source "${s.name}"`,
  shownPlace: (s) => `${s.dump.argv.join(' ')}${s.format ? ` (${s.format})` : ''}`,
  checkAnswer: () => ({ summary: 'The dump program is installed (it runs only when backing up)' }),
  cardSection: commandCard,
};
