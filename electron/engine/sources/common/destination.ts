import path from 'node:path';
import type { Source } from '../../../../shared/environment.js';
import { LifeboatError } from '../../errors.js';
import type { RestoreDestination } from './types.js';

/**
 * The folder a restore test gives this source: `<folder>/<source name>`. A restore test that
 * names only a database cannot place a source whose data is files, and says so.
 */
export function destinationFolder(source: Source, destination: RestoreDestination): string {
  if (!destination.folder) {
    throw new LifeboatError(
      'BAD_ARGUMENT',
      `Source "${source.name}" (${source.kind}) is restored into a folder, and this restore test names only a database.`,
      'Give a folder too (on the command line: --to DIR); its data will go into DIR/' + source.name + '.',
    );
  }
  return path.join(path.resolve(destination.folder), source.name);
}
