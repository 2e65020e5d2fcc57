/** A word as a POSIX shell reads it back unchanged: bare when plain, else in single quotes (for the recovery card's commands). */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`;
}
