/**
 * Following a run that trains elsewhere — `pixel-lab train` in a terminal, the PyTorch twin under torchrun, another
 * window — from its files: new lines of metrics.jsonl, new sample grids, and run.json's status, as they are
 * written. Event-driven (fs.watch on the run folder and its samples folder, inotify on Linux), reading only what was
 * appended; no polling. No `vscode` here, so it is tested directly.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Metric, RunStatus } from '../protocol';
import { effectiveStatus, RunFolder } from '../runs/run-folder';

export interface RunNews {
  /** Curve points written since the last news. */
  readonly metrics: Metric[];
  /** Sample grids written since (step and PNG bytes). */
  readonly grids: { step: number; png: Uint8Array }[];
  readonly status: RunStatus;
  readonly step: number;
}

export class RunFollower {
  private offset: number;
  private readonly seenGrids: Set<string>;
  private readonly watchers: FSWatcher[] = [];
  private pending: NodeJS.Timeout | null = null;
  private readonly alive: NodeJS.Timeout;
  private lastStatus: RunStatus | null = null;
  private closed = false;

  /** Follow `run` from what is on disk now; `onNews` gets what is written after (batched, at most ~10 a second). */
  constructor(
    readonly run: RunFolder,
    private readonly onNews: (news: RunNews) => void,
  ) {
    const metrics = path.join(run.dir, 'metrics.jsonl');
    this.offset = existsSync(metrics) ? statSync(metrics).size : 0;
    this.seenGrids = new Set(run.sampleFiles());
    const soon = () => this.soon();
    this.watchers.push(watch(run.dir, soon));
    const samples = path.join(run.dir, 'samples');
    if (existsSync(samples)) this.watchers.push(watch(samples, soon));
    for (const w of this.watchers) w.on('error', () => this.close());
    // A trainer that dies writes nothing: its end is noticed by looking now and then (run.json only).
    this.alive = setInterval(() => this.read(), 10_000);
    this.alive.unref();
  }

  /** Changes come in bursts (a step writes metrics, then run.json): read once they settle. */
  private soon(): void {
    if (this.closed || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.read();
    }, 100);
  }

  /** Read what is new and report it; stops following once the run has ended. */
  read(): void {
    if (this.closed) return;
    let news: RunNews;
    try {
      const info = this.run.info;
      const status = effectiveStatus(info);
      news = { metrics: this.newMetrics(), grids: this.newGrids(), status, step: info.step };
    } catch {
      return; // run.json mid-write or the folder gone: the next change tells
    }
    const changed = news.metrics.length > 0 || news.grids.length > 0 || news.status !== this.lastStatus;
    this.lastStatus = news.status;
    if (changed) this.onNews(news);
    if (news.status !== 'running') this.close();
  }

  private newMetrics(): Metric[] {
    const file = path.join(this.run.dir, 'metrics.jsonl');
    if (!existsSync(file)) return [];
    const size = statSync(file).size;
    if (size < this.offset) this.offset = 0; // cut back (a resume): read it again from the start
    if (size === this.offset) return [];
    const fd = openSync(file, 'r');
    const buffer = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    // Only whole lines: a line being written is read with the next change.
    const text = buffer.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    this.offset += Buffer.byteLength(text.slice(0, end));
    return text
      .slice(0, end)
      .split('\n')
      .flatMap((line) => {
        try {
          const m = line.trim() ? (JSON.parse(line) as Metric) : null;
          return m ? [{ step: m.step, split: m.split, nats: m.nats, bitsPerDim: m.bitsPerDim }] : [];
        } catch {
          return [];
        }
      });
  }

  private newGrids(): { step: number; png: Uint8Array }[] {
    const fresh = this.run.sampleFiles().filter((f) => !this.seenGrids.has(f));
    for (const f of fresh) this.seenGrids.add(f);
    return fresh.map((f) => ({ step: Number(/step-(\d+)\.png$/.exec(f)![1]), png: new Uint8Array(readFileSync(f)) }));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.alive);
    if (this.pending) clearTimeout(this.pending);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }
}
