import type { CommandSource, CommandStep, Source } from '../../../../shared/environment.js';
import type { Artifact, CommandOutputDetails } from '../../../../shared/manifest.js';
import type { CardSection } from '../common/kind.js';
import { shellWord } from '../common/shell-word.js';

/** The recovery card's steps for a dump command's output: check it, then feed it to the restore command. */
export function commandCard(a: Artifact, src: Source | undefined): CardSection | null {
  if (a.details.type !== 'command-output') return null;
  return { heading: 'the output of a dump command', lines: outputCard(a.source, a.file, a.details, src?.kind === 'command' ? src : undefined), movesAside: false };
}

/**
 * A step as a shell line, `(cd DIR && NAME=value program args…)`: in a subshell, so the input
 * file is opened in this folder and the reader's shell stays here.
 */
function stepLine(step: CommandStep, first = ''): string {
  const env = Object.entries(step.env)
    .map(([k, v]) => `${k}=${shellWord(v)} `)
    .join('');
  return `(${first}${step.cwd ? `cd ${shellWord(step.cwd)} && ` : ''}${env}${step.argv.map(shellWord).join(' ')})`;
}

function outputCard(source: string, file: string, d: CommandOutputDetails, src: CommandSource | undefined): string[] {
  const out = `${source}.${d.format === 'django-fixture' ? 'json' : 'out'}`;
  const lines = [`     gunzip -c ${file} > ${out}`, `     sha256sum ${out}     # must be ${d.rawSha256}`, '', `   The output is ${d.rawSize} bytes, as the dump command printed it.`];
  if (src) lines.push(`   It was made by running, in ${src.dump.cwd ?? 'the folder Lifeboat ran in'}: ${src.dump.argv.map(shellWord).join(' ')}`);
  if (d.format === 'django-fixture') lines.push(`   It is a Django JSON fixture of ${d.models?.reduce((n, m) => n + m.rows, 0) ?? 0} objects; manifest.json lists them per model.`);
  if (src?.drill) {
    lines.push('', '   To check that it loads, into a throw-away target (the live data is not touched):', '');
    lines.push(`     mkdir ${source}-drill && ${stepLine(src.drill, `export LIFEBOAT_DRILL_DIR="$PWD/${source}-drill" && `)} < ${out}`);
  }
  if (src?.reset) {
    lines.push('', '   To restore, first empty what the dump covers, then run the restore command with the', '   output on its standard input:', '');
    lines.push(`     ${stepLine(src.reset)} < /dev/null`);
  } else {
    lines.push('', '   To restore, run the restore command with the output on its standard input:', '');
    if (d.format === 'django-fixture') lines.splice(-1, 0, '   (loaddata adds and updates objects, it never deletes: objects not in this set are kept)', '');
  }
  if (src) lines.push(`     ${stepLine(src.restore)} < ${out}`);
  else lines.push(`     RESTORE-COMMAND < ${out}`);
  lines.push('');
  return lines;
}
