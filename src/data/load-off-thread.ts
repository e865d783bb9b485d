/**
 * Loading an experiment's images on a worker thread, for the extension host: decoding a folder of photos takes
 * minutes, and on the host's own thread it would freeze every extension. Progress is reported per file (folder
 * datasets; once for the others), and the signal cancels: the worker is terminated at once and the promise
 * rejects with an AbortError, "loading cancelled". The result equals `loadImages`'s; its images are a plain
 * Uint8Array (their memory moved from the worker, not copied).
 *
 * The worker runs dist/load-worker.js (built by `npm run build` from ./load-worker.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ExperimentError, type ExperimentProblem } from '../experiment/problems';
import type { Experiment } from '../experiment/types';
import { packageRoot } from '../runs/package-root';
import type { LoadReply, LoadRequest } from './load-worker';
import type { LoadedImages } from './node-load';

export interface OffThreadOptions {
  /** Files done of all (folder datasets: after each file; other datasets: once, 1 of 1). */
  onProgress?(done: number, total: number): void;
  /** Cancels the loading: the worker stops at once. */
  signal?: AbortSignal;
}

/** The worker's script: dist/load-worker.js beside the extension's bundle. */
export function loadWorkerFile(): string {
  return path.join(packageRoot(), 'dist', 'load-worker.js');
}

function cancelled(): Error {
  const error = new Error('loading cancelled');
  error.name = 'AbortError';
  return error;
}

export function loadImagesOffThread(experiment: Experiment, file: string, text: string, options: OffThreadOptions = {}): Promise<LoadedImages> {
  const { onProgress, signal } = options;
  if (signal?.aborted) return Promise.reject(cancelled());
  const script = loadWorkerFile();
  if (!existsSync(script)) return Promise.reject(new Error(`the image loader is not built (${script} is missing): run npm run build`));
  return new Promise<LoadedImages>((resolve, reject) => {
    const request: LoadRequest = { experiment, file, text };
    const worker = new Worker(script, { workerData: request });
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      void worker.terminate();
      outcome();
    };
    const abort = () => finish(() => reject(cancelled()));
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (reply: LoadReply) => {
      if (settled) return;
      if (reply.type === 'progress') onProgress?.(reply.done, reply.total);
      else if (reply.type === 'done') finish(() => resolve(reply.loaded));
      else finish(() => reject(rebuild(reply)));
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the image loader stopped before it finished (exit code ${code})`))));
  });
}

/** The worker's error as the same kind of error `loadImages` throws (an ExperimentError keeps its positions). */
function rebuild(reply: Extract<LoadReply, { type: 'error' }>): Error {
  if (reply.problems && reply.file !== undefined) return new ExperimentError(reply.file, reply.problems as ExperimentProblem[]);
  const error = new Error(reply.message);
  error.name = reply.name;
  return error;
}
