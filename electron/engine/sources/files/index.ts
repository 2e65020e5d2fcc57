import type { FilesSource } from '../../../../shared/environment.js';
import { count, formatBytes } from '../../../../shared/format.js';
import type { KindDescriptor } from '../common/kind.js';
import { filesCard } from './card.js';
import { filesPlugin } from './files.js';
import { filesRestore } from './files-restore.js';

/** A folder of files chosen by globs: archived with its index, restored by a swap. */
export const filesKind: KindDescriptor<FilesSource> = {
  kind: 'files',
  plugin: filesPlugin,
  restorer: filesRestore,
  description: {
    kind: 'files',
    choice: 'Folder of files',
    label: 'Folder',
    addButton: '+ Folder',
    defaultName: 'files',
    restoresInto: 'folder',
    fields: [
      { key: 'path', label: 'Folder', placeholder: '/srv/shop/media', input: 'text', required: true, problemAt: 'path', initial: '', mono: false, wide: true },
      { key: 'include', label: 'Include', note: '(one glob per line)', input: 'lines', required: false, problemAt: 'include', initial: '**/*', rows: 3, mono: false, wide: false },
      { key: 'exclude', label: 'Exclude', note: '(one glob per line)', input: 'lines', required: false, problemAt: null, initial: '', rows: 3, mono: false, wide: false },
    ],
  },
  pathsOf: (s) => [['path', s.path]],
  resolvePaths: (s, base, resolve) => {
    s.path = resolve(s.path, base);
  },
  livePath: (s) => ({ path: s.path, folder: true }),
  restoreTarget: (s) => `files ${s.path}`,
  placeOf: (s) => s.path,
  shownPlace: (s) => s.path,
  checkAnswer: (_s, estimate) =>
    estimate.files === 0
      ? { problem: { field: 'include', message: 'no file in the folder matches these globs; check the include and exclude globs', summary: 'The globs take no file.' } }
      : { summary: `${count(estimate.files, 'file')} match, ${formatBytes(estimate.bytes)}` },
  cardSection: filesCard,
};
