/**
 * The run folder on disk — everything a run leaves behind, written so that a crash never leaves a torn file:
 *
 *   experiment.pixel.json   the experiment as it was when the run started
 *   run.json                status (running / finished / stopped / failed), error, backend, times, step, and the
 *                           owner (pid, host, heartbeat) of a running run: one whose owner is gone reads as
 *                           "interrupted" (effectiveStatus)
 *   metrics.jsonl           one JSON object a line: step, split (train | validation | test), nats, bits/dim,
 *                           images/s, seconds
 *   checkpoints/latest.ckpt, checkpoints/best.ckpt
 *   samples/step-000500.png sample grids
 *
 * Whole files are written to a temporary name and renamed into place; metrics are appended line by line (a line
 * cut short by a crash is skipped when read). A failed write removes what it started and throws a WriteError.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Metric, RunStatus } from '../protocol';
import { appendWhole, mkdirExclusive, WriteError, writeFileAtomic } from './files';

export { WriteError, writeFileAtomic };

/** The process that trains a run: where it runs, and when it last said it was alive. */
export interface RunOwner {
  readonly pid: number;
  readonly host: string;
  /** ISO time of the owner's last sign of life. */
  readonly heartbeat: string;
}

/** How often a live trainer refreshes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this means the trainer is gone (on another host; on this one, its pid is asked). */
export const STALE_MS = 30_000;
/** On this host, a live pid whose heartbeat is older than this is taken for a reused pid. */
export const SAME_HOST_STALE_MS = 600_000;

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
  /** The best checkpoint (checkpoints/best.ckpt): its step, its test NLL, and the validation NLL that chose it
   *  (null without a validation set, when the test NLL chose; absent in runs from before validation sets). */
  readonly bestTestNats?: number | null;
  readonly bestValidationNats?: number | null;
  readonly bestStep?: number | null;
  /** Steps at which the run was resumed. */
  readonly resumedAt?: number[];
  /** The process training it (the last one, once the run has ended). */
  readonly owner?: RunOwner;
  /** A class-conditional model: its NLL is the conditional NLL, −log p(x | class); `classes` K, and the class
   *  names of its data when it has them (`pixel-lab sample --class NAME` resolves them). */
  readonly conditional?: true;
  readonly classes?: number;
  readonly classNames?: readonly string[];
}

/** The run.json fields of a conditional model with `classes` classes (none for an unconditional one). */
export function conditionalInfo(classes: number | undefined, classNames?: readonly string[]): Pick<RunInfo, 'conditional' | 'classes' | 'classNames'> {
  return classes ? { conditional: true, classes, ...(classNames ? { classNames: [...classNames] } : {}) } : {};
}

/** A line of metrics.jsonl: a point of the curves, and how fast and when it came. */
export interface MetricRecord extends Metric {
  /** The conditional NLL of a class-conditional model, −log p(x | class). */
  readonly conditional?: true;
  readonly imagesPerSecond?: number;
  /** Seconds of training since the run (or its last resume) started. */
  readonly seconds: number;
  readonly time: string;
}

export type CheckpointKind = 'latest' | 'best';

/** Is process `pid` alive on this machine? (EPERM: it exists but belongs to someone else.) */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * 'interrupted' when status is 'running' but its owner is gone: on this host its pid is not alive (process.kill(pid, 0)
 * fails with ESRCH), or its heartbeat is older than STALE_MS; otherwise info.status. A running run with no owner
 * record (written before owners existed) has no trainer to vouch for it: interrupted.
 */
export function effectiveStatus(info: RunInfo, now: number = Date.now()): RunStatus {
  if (info.status !== 'running') return info.status;
  const owner = info.owner;
  if (!owner) return 'interrupted';
  const beat = Date.parse(owner.heartbeat);
  const age = Number.isFinite(beat) ? now - beat : Infinity;
  if (owner.host === hostname()) {
    // Here the process itself answers: dead is interrupted; alive is running even through a long synchronous step
    // (a heartbeat can wait for one), unless silent so long that the pid was surely reused.
    return processAlive(owner.pid) && age <= SAME_HOST_STALE_MS ? 'running' : 'interrupted';
  }
  return age <= STALE_MS ? 'running' : 'interrupted';
}

/** The time (UTC) as 20261129-113029: run folders and extra sample grids are named by it. */
export function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** What an experiment's name may be: a plain folder name. */
export const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Where the runs of an experiment file are created: runs/<experiment name>/ beside it (CLI and extension alike).
 * The name must be a plain folder name, so that an experiment file can never place runs outside its own runs/.
 */
export function runsFolderOf(experimentFile: string, experimentName: string): string {
  if (!EXPERIMENT_NAME.test(experimentName) || experimentName === '.' || experimentName === '..') {
    throw new Error(`the experiment name ${JSON.stringify(experimentName)} is not a plain folder name: use letters, digits, ".", "_" and "-" (starting with a letter or digit, at most 100 characters)`);
  }
  const runs = path.join(path.dirname(path.resolve(experimentFile)), 'runs');
  const folder = path.resolve(runs, experimentName);
  const inside = path.relative(runs, folder);
  if (!inside || inside.startsWith('..') || path.isAbsolute(inside)) throw new Error(`the experiment name ${JSON.stringify(experimentName)} would place runs outside ${runs}`);
  return folder;
}

export class RunFolder {
  private constructor(readonly dir: string) {}

  /**
   * A new run folder under `parent`, named by the start time (with -2, -3… when that name is taken: the folder is
   * created exclusively, so runs started at once, in one process or many, never share one), claimed by this process.
   */
  static create(parent: string, experimentText: string, info: Omit<RunInfo, 'id' | 'status' | 'startedAt' | 'step' | 'owner'>): RunFolder {
    try {
      mkdirSync(parent, { recursive: true });
    } catch (error) {
      throw new WriteError(parent, (error as NodeJS.ErrnoException).code, error);
    }
    const stamp = timestamp();
    let id = stamp;
    for (let k = 2; !mkdirExclusive(path.join(parent, id)); k++) id = `${stamp}-${k}`;
    const run = new RunFolder(path.join(parent, id));
    for (const sub of ['checkpoints', 'samples']) mkdirExclusive(path.join(run.dir, sub));
    writeFileAtomic(path.join(run.dir, 'experiment.pixel.json'), experimentText);
    run.write({ ...info, id, status: 'running', startedAt: new Date().toISOString(), step: 0, owner: ownerRecord(process.pid) });
    return run;
  }

  static open(dir: string): RunFolder {
    if (!existsSync(path.join(dir, 'run.json'))) throw new Error(`${dir} is not a run folder (it has no run.json)`);
    return new RunFolder(path.resolve(dir));
  }

  get info(): RunInfo {
    const file = path.join(this.dir, 'run.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it no longer exists (was the run folder moved or deleted?)' : (error as Error).message}`);
    }
  }

  /** Mark the run as running, owned by this process (or `pid`), with a fresh heartbeat. */
  claim(pid: number = process.pid): void {
    this.update({ status: 'running', owner: ownerRecord(pid) });
  }

  /** Refresh the owner's heartbeat (an atomic write of run.json; throws a WriteError when that fails). */
  heartbeat(): void {
    const info = this.info;
    this.write({ ...info, owner: ownerRecord(info.owner?.pid ?? process.pid) });
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
    appendWhole(path.join(this.dir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
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

  /** The checkpoint to look at the run with: its best (by validation NLL), else its latest; null before the first. */
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

function ownerRecord(pid: number): RunOwner {
  return { pid, host: hostname(), heartbeat: new Date().toISOString() };
}
