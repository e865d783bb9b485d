/**
 * The panel's worker, which owns TF.js. It is created from a blob: VS Code webviews cannot start workers from their
 * resource URLs, and such a worker cannot fetch the webview's resources either, so the page fetches the wasm
 * binaries and hands it blob: URLs. A worker that cannot go on is replaced by a fresh one (`restart`).
 */
import type { WasmPaths } from '../src/backend/select';
import { toHost } from './host-bridge';
import type { FromWorker, ToWorker } from './worker-protocol';

const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

export interface WorkerEvents {
  /** Every message the worker posts. */
  message(m: FromWorker): void;
  /** The worker failed (an uncaught error, or a message that could not be read): the panel restarts it. */
  died(reason: string): void;
}

class PanelWorker {
  private readonly config = document.body.dataset as { workerSrc: string; wasmPaths: string };
  private worker: Worker | null = null;
  private source = '';
  private wasmBlobs: Record<string, string> | null = null;
  private events: WorkerEvents | null = null;

  /** Fetch the worker's script and the wasm binaries, and start it. */
  async start(events: WorkerEvents): Promise<void> {
    this.events = events;
    this.source = await Promise.all([fetch(this.config.workerSrc).then((r) => r.text()), this.fetchWasm()]).then(([source]) => URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    this.worker = this.spawn();
  }

  post(message: ToWorker): void {
    this.worker!.postMessage(message);
  }

  /** A fresh worker in place of this one (whatever it held, its models, is gone). */
  restart(): void {
    this.worker?.terminate();
    this.worker = this.spawn();
  }

  /** Where the worker finds the wasm binaries: the page's blob: copies, or (if fetching them failed) their URLs. */
  wasmPaths(): WasmPaths {
    if (!this.wasmBlobs) return this.config.wasmPaths;
    const simd = this.wasmBlobs['tfjs-backend-wasm-simd.wasm'];
    return { 'tfjs-backend-wasm.wasm': this.wasmBlobs['tfjs-backend-wasm.wasm'], 'tfjs-backend-wasm-simd.wasm': simd, 'tfjs-backend-wasm-threaded-simd.wasm': simd };
  }

  private spawn(): Worker {
    const w = new Worker(this.source);
    w.onmessage = (event: MessageEvent<FromWorker>) => this.events!.message(event.data);
    w.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.events!.died(`the panel's worker failed: ${event.message || 'an uncaught error'}`);
    };
    w.onmessageerror = () => this.events!.died("a message from the panel's worker could not be read");
    return w;
  }

  private async fetchWasm(): Promise<void> {
    try {
      const entries = await Promise.all(
        WASM_BINARIES.map(async (name) => {
          const response = await fetch(`${this.config.wasmPaths}${name}`);
          if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
          return [name, URL.createObjectURL(new Blob([await response.arrayBuffer()], { type: 'application/wasm' }))] as const;
        }),
      );
      this.wasmBlobs = Object.fromEntries(entries);
    } catch (error) {
      toHost({ type: 'log', level: 'warn', message: `the panel could not fetch the wasm binaries (${(error as Error).message}); the worker will try their URLs itself` });
    }
  }
}

/** The panel's one worker. */
export const worker = new PanelWorker();
