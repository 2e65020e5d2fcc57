import type { Source } from '../../../../shared/environment.js';
import type { Artifact } from '../../../../shared/manifest.js';
import type { CardSection } from '../common/kind.js';

/** The recovery card's steps for a folder's archive: extract it, count the files, move it into place. */
export function filesCard(a: Artifact, src: Source | undefined): CardSection | null {
  if (a.details.type !== 'archive') return null;
  const d = a.details;
  const livePath = src && 'path' in src ? src.path : undefined;
  const lines = [
    `     mkdir ${a.source}-restored && tar -xzf ${a.file} -C ${a.source}-restored`,
    `     find ${a.source}-restored -type f | wc -l        # recorded: ${d.fileCount} files`,
    '',
    `   The files hold ${d.totalBytes} bytes in all. ${d.indexFile} lists every entry, one JSON`,
    `   object a line, with its size, mode, owner, time and SHA-256; run tar as root to keep owners.`,
    `   To restore: stop the application, move the live folder aside, then move`,
    `   ${a.source}-restored to ${livePath ?? 'its place'}.`,
    '',
  ];
  return { heading: `folder${livePath ? ` (was ${livePath})` : ''}`, lines, movesAside: true };
}
