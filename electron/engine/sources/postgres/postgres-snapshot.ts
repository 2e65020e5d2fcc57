import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { LifeboatError } from '../../errors.js';
import { clientError, COUNT_TABLES_SQL, describeConnection, finishClient, startClient, type PgConnection } from './postgres-client.js';
import type { RunningProgram } from '../../run-program.js';

/**
 * A psql session holding one repeatable-read, read-only transaction open. It exports the
 * transaction's snapshot so that `pg_dump --snapshot` sees exactly the data the row counts were
 * taken from: the manifest's counts and the dump describe one point in time.
 */
export class SnapshotSession {
  private output = '';
  private waiting: { marker: string; resolve: (text: string) => void; reject: (err: unknown) => void } | undefined;
  private ended: Error | undefined;

  private constructor(
    private readonly c: PgConnection,
    private readonly running: RunningProgram,
    private readonly input: PassThrough,
  ) {
    running.stdout.setEncoding('utf8');
    running.stdout.on('data', (d: string) => {
      this.output += d;
      this.deliver();
    });
    running.exit.then(
      (exit) => {
        this.ended = clientError(c, `Reading ${describeConnection(c)} in one snapshot`, exit, 'psql');
        this.waiting?.reject(this.ended);
      },
      (err: unknown) => {
        this.ended = err as Error;
        this.waiting?.reject(err);
      },
    );
  }

  static async open(c: PgConnection, signal: AbortSignal): Promise<SnapshotSession> {
    const input = new PassThrough();
    const running = await startClient(c, 'psql', { args: ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', c.database, '-f', '-'], signal, stdin: input });
    return new SnapshotSession(c, running, input);
  }

  private deliver(): void {
    const w = this.waiting;
    if (!w) return;
    const at = this.output.indexOf(`${w.marker}\n`);
    if (at < 0) return;
    const text = this.output.slice(0, at);
    this.output = this.output.slice(at + w.marker.length + 1);
    this.waiting = undefined;
    w.resolve(text.trim());
  }

  /** Sends SQL and returns what it printed; one request at a time. */
  private query(sql: string): Promise<string> {
    if (this.ended) return Promise.reject(this.ended);
    const marker = `__lifeboat_${randomBytes(8).toString('hex')}__`;
    return new Promise((resolve, reject) => {
      this.waiting = { marker, resolve, reject };
      this.input.write(`${sql}\n\\echo ${marker}\n`);
    });
  }

  /** Starts the transaction and returns its exported snapshot's id. */
  async begin(): Promise<string> {
    const id = await this.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT pg_export_snapshot();');
    if (!/^[0-9A-F-]+$/i.test(id))
      throw new LifeboatError(
        'SOURCE_READ_FAILED',
        `${describeConnection(this.c)} did not export a snapshot (it answered "${id.slice(0, 100)}").`,
        'Check that the server is PostgreSQL 9.2 or newer and not a hot standby in recovery.',
      );
    return id;
  }

  /** Every table's exact row count in the snapshot. */
  async countTables(): Promise<{ name: string; rows: number }[]> {
    return JSON.parse(await this.query(`${COUNT_TABLES_SQL};`)) as { name: string; rows: number }[];
  }

  /** Ends the transaction and psql; the snapshot stays importable until here. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.input.end('COMMIT;\n');
    await finishClient(this.c, 'psql', this.running, `Reading ${describeConnection(this.c)} in one snapshot`);
  }

  /** Stops psql when the backup failed; its transaction ends with it. */
  abandon(): void {
    this.input.destroy();
    this.running.child.kill('SIGTERM');
  }
}
