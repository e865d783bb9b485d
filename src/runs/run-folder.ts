/**
 * The run folder on disk — everything a run leaves behind, written so that a crash never leaves a torn file:
 *
 *   experiment.pixel.json   the experiment as it was when the run started
 *   run.json                status (running / finished / stopped / failed), error, backend, times, step
 *   metrics.jsonl           one JSON object a line: step, split (train | test), nats, bits/dim, images/s, seconds
 *   checkpoints/latest.ckpt, checkpoints/best.ckpt
 *   samples/step-000500.png sample grids
 *
 * Whole files are written to a temporary name and renamed into place; metrics are appended line by line (a line
 * cut short by a crash is skipped when read).
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Metric, RunStatus } from '../protocol';

export interface RunInfo {
  readonly id: string;
  readonly experiment: string;
  /** The experiment file the run was started from. */
  readonly experimentFile: string;
  readonly status: RunStatus;
  readonly error?: string;
  readonly backend?: string;
  readonly adapter?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly step: number;
  readonly steps: number;
  readonly bestTestNats?: number | null;
  readonly bestStep?: number | null;
  /** Steps at which the run was resumed. */
  readonly resumedAt?: number[];
  /** Who is training it while it runs: a run whose owner is gone reads as interrupted. */
  readonly owner?: RunOwner;
}

export interface RunOwner {
  readonly pid: number;
  readonly host: string;
  readonly heartbeat: string;
}

/** How often a live trainer refreshes its heartbeat, and how old a heartbeat means the trainer is gone. */
export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 30_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The status as it really is: 'interrupted' when run.json says running but its trainer is gone (on this host its
 * process is dead, or its heartbeat is older than STALE_MS).
 */
export function effectiveStatus(info: RunInfo, now = Date.now()): RunStatus {
  if (info.status !== 'running') return info.status;
  const owner = info.owner;
  if (!owner) return 'interrupted';
  if (owner.host === hostname() && !alive(owner.pid)) return 'interrupted';
  return now - Date.parse(owner.heartbeat) > STALE_MS ? 'interrupted' : 'running';
}

/** A line of metrics.jsonl: a point of the curves, and how fast and when it came. */
export interface MetricRecord extends Metric {
  readonly imagesPerSecond?: number;
  /** Seconds of training since the run (or its last resume) started. */
  readonly seconds: number;
  readonly time: string;
}

export type CheckpointKind = 'latest' | 'best';

let tmpCounter = 0;

/** Write a whole file so that readers see the old or the new content, never a part. */
/** The time (UTC) as 20261129-113029: run folders and extra sample grids are named by it. */
export function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Where the runs of an experiment file are created: runs/<experiment name>/ beside it (CLI and extension alike). */
export function runsFolderOf(experimentFile: string, experimentName: string): string {
  return path.join(path.dirname(path.resolve(experimentFile)), 'runs', experimentName);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export class RunFolder {
  private constructor(readonly dir: string) {}

  /** A new run folder under `parent`, named by the start time. */
  static create(parent: string, experimentText: string, info: Omit<RunInfo, 'id' | 'status' | 'startedAt' | 'step'>): RunFolder {
    mkdirSync(parent, { recursive: true });
    const stamp = timestamp();
    let id = stamp;
    for (let k = 2; existsSync(path.join(parent, id)); k++) id = `${stamp}-${k}`;
    const run = new RunFolder(path.join(parent, id));
    mkdirSync(path.join(run.dir, 'checkpoints'), { recursive: true });
    mkdirSync(path.join(run.dir, 'samples'), { recursive: true });
    writeFileAtomic(path.join(run.dir, 'experiment.pixel.json'), experimentText);
    run.write({ ...info, id, status: 'running', startedAt: new Date().toISOString(), step: 0, owner: { pid: process.pid, host: hostname(), heartbeat: new Date().toISOString() } });
    return run;
  }

  /** This process (or `pid`) trains the run from now on. */
  claim(pid = process.pid): void {
    this.update({ status: 'running', owner: { pid, host: hostname(), heartbeat: new Date().toISOString() } });
  }

  /** The trainer is alive: refresh its heartbeat. */
  heartbeat(): void {
    const info = this.info;
    if (info.owner) this.write({ ...info, owner: { ...info.owner, heartbeat: new Date().toISOString() } });
  }

  static open(dir: string): RunFolder {
    if (!existsSync(path.join(dir, 'run.json'))) throw new Error(`${dir} is not a run folder (it has no run.json)`);
    return new RunFolder(path.resolve(dir));
  }

  get info(): RunInfo {
    return JSON.parse(readFileSync(path.join(this.dir, 'run.json'), 'utf8')) as RunInfo;
  }

  update(patch: Partial<RunInfo>): RunInfo {
    const next = { ...this.info, ...patch };
    this.write(next);
    return next;
  }

  private write(info: RunInfo): void {
    writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
  }

  get experimentFile(): string {
    return path.join(this.dir, 'experiment.pixel.json');
  }

  appendMetrics(record: MetricRecord): void {
    appendFileSync(path.join(this.dir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  metrics(): MetricRecord[] {
    const file = path.join(this.dir, 'metrics.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          return line.trim() ? [JSON.parse(line) as MetricRecord] : [];
        } catch {
          return []; // a line cut short by a crash
        }
      });
  }

  /** Keep only the metrics up to `step` (after resuming from a checkpoint older than the last lines). */
  truncateMetrics(step: number): void {
    const kept = this.metrics().filter((m) => m.step <= step);
    writeFileAtomic(path.join(this.dir, 'metrics.jsonl'), kept.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }

  checkpointPath(kind: CheckpointKind): string {
    return path.join(this.dir, 'checkpoints', `${kind}.ckpt`);
  }

  writeCheckpoint(kind: CheckpointKind, bytes: Uint8Array): string {
    const file = this.checkpointPath(kind);
    writeFileAtomic(file, bytes);
    return file;
  }

  readCheckpoint(kind: CheckpointKind): Uint8Array | null {
    const file = this.checkpointPath(kind);
    return existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
  }

  /** The checkpoint to look at the run with: its best by test NLL, else its latest; null before the first. */
  readBestCheckpoint(): { kind: CheckpointKind; bytes: Uint8Array } | null {
    for (const kind of ['best', 'latest'] as const) {
      const bytes = this.readCheckpoint(kind);
      if (bytes) return { kind, bytes };
    }
    return null;
  }

  writeSamples(step: number, png: Uint8Array): string {
    const file = path.join(this.dir, 'samples', `step-${String(step).padStart(6, '0')}.png`);
    writeFileAtomic(file, png);
    return file;
  }

  sampleFiles(): string[] {
    const dir = path.join(this.dir, 'samples');
    return existsSync(dir) ? readdirSync(dir).filter((f) => /^step-\d+\.png$/.test(f)).sort().map((f) => path.join(dir, f)) : [];
  }
}
