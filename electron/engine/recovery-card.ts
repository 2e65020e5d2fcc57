import type { Manifest } from '../../shared/manifest.js';
import { cardSectionOf } from './sources/index.js';

/**
 * The text of `RESTORE.txt`: for this one set, the plain commands that check and restore it
 * when Lifeboat is gone. Backups outlive the program that made them.
 */
export function recoveryCard(m: Omit<Manifest, 'integrity'>): string {
  const lines: string[] = [
    `Lifeboat backup set ${m.id}`,
    `Environment ${m.app}/${m.env}, made ${m.finishedAt} on ${m.host} by Lifeboat ${m.tool.version}.`,
    '',
    'This file says how to check and restore this set with standard tools if Lifeboat is not',
    "available. The format is described in full in Lifeboat's docs/FORMAT.md.",
    '',
    '1. Check that no file is damaged (run in this folder; every line must say OK):',
    '',
    '     sha256sum -c SHA256SUMS',
    '',
  ];
  let step = 2;
  let movedAside = false;
  for (const a of m.artifacts) {
    const src = m.environment.sources.find((s) => s.name === a.source);
    const section = cardSectionOf(a, src);
    if (!section) continue;
    lines.push(`${step++}. Source "${a.source}": ${section.heading}`, '', ...section.lines);
    movedAside ||= section.movesAside;
  }
  if (movedAside) lines.push('Keep the folder you moved aside until the application runs well on the restored data.', '');
  return lines.join('\n');
}
