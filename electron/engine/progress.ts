import type { Progress } from '../../shared/progress.js';
import { currentJob } from './watchdog.js';

/**
 * Counts work done on the stream and reports it at most every `intervalMs`, with a rate and the
 * time left at that rate. Sources add bytes and files; the run sets the phase. All of it is
 * progress for the job's watchdog, which fails a job that makes none for too long.
 */
export class ProgressMeter {
  private readonly started = Date.now();
  private lastEmit = 0;
  private phase = 'starting';
  private source: string | null = null;
  private readonly job = currentJob();
  bytesDone = 0;
  filesDone = 0;

  constructor(
    private readonly base: Pick<Progress, 'operation' | 'env'>,
    private readonly totals: { bytes: number; files: number },
    private readonly emit: ((p: Progress) => void) | undefined,
    private readonly intervalMs = 250,
  ) {}

  setPhase(phase: string, source: string | null = null): void {
    this.phase = phase;
    this.source = source;
    this.job?.at({ phase, source });
    this.report(true);
  }

  addBytes(n: number): void {
    this.bytesDone += n;
    this.job?.touch();
    this.tick();
  }

  addFiles(n: number): void {
    this.filesDone += n;
    this.job?.touch();
    this.tick();
  }

  /** Called per chunk: builds and emits figures only once the interval has passed. */
  private tick(): void {
    if (this.emit && Date.now() - this.lastEmit >= this.intervalMs) this.report(true);
  }

  /** The current figures; `force` emits even inside the interval. */
  report(force: boolean): Progress {
    const now = Date.now();
    const elapsedMs = now - this.started;
    const bytesPerSecond = elapsedMs > 0 ? (this.bytesDone * 1000) / elapsedMs : 0;
    const left = Math.max(0, this.totals.bytes - this.bytesDone);
    const p: Progress = {
      ...this.base,
      phase: this.phase,
      source: this.source,
      bytesDone: this.bytesDone,
      bytesTotal: Math.max(this.totals.bytes, this.bytesDone),
      filesDone: this.filesDone,
      filesTotal: Math.max(this.totals.files, this.filesDone),
      bytesPerSecond,
      secondsLeft: bytesPerSecond > 0 && elapsedMs > 500 ? left / bytesPerSecond : null,
      elapsedMs,
    };
    if (this.emit && (force || now - this.lastEmit >= this.intervalMs)) {
      this.lastEmit = now;
      this.emit(p);
    }
    return p;
  }
}
