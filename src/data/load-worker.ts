/**
 * The entry of the image loader's worker thread (bundled to dist/load-worker.js): runs `loadImages` off the
 * extension host's thread and posts progress, then the images (their memory transferred, not copied) or the error.
 * See ./load-off-thread.ts for the other side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Experiment } from '../experiment/types';
import { loadImages } from './node-load';

export interface LoadRequest {
  readonly experiment: Experiment;
  readonly file: string;
  readonly text: string;
}

export type LoadReply =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | { readonly type: 'done'; readonly loaded: import('./node-load').LoadedImages }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly file?: string; readonly problems?: unknown[] };

const port = parentPort;
if (!port) throw new Error('load-worker.js runs as a worker thread (see loadImagesOffThread)');
const { experiment, file, text } = workerData as LoadRequest;
const post = (reply: LoadReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
try {
  const loaded = loadImages(experiment, file, text, { onProgress: (done, total) => post({ type: 'progress', done, total }) });
  const { images } = loaded.set;
  // Transfer the images' memory; when they are a view into a larger buffer, copy them out first.
  const own = images.byteOffset === 0 && images.byteLength === images.buffer.byteLength ? images : images.slice();
  post({ type: 'done', loaded: { ...loaded, set: { ...loaded.set, images: own } } }, [own.buffer as ArrayBuffer]);
} catch (error) {
  const e = error as Error & { file?: string; problems?: unknown[] };
  post({ type: 'error', name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(e?.problems ? { file: e.file, problems: [...e.problems] } : {}) });
}
