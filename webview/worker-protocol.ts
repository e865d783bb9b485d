/**
 * Messages between the panel's page and its worker (which owns TF.js). Internal to the webview: the contract with
 * the extension host is src/protocol.ts.
 *
 * Every request carries what it needs: `load` and `sample` name the run's experiment and checkpoint, so a sample
 * request never depends on an earlier `load` having arrived first. A failed request fails only itself: the worker
 * answers it with an `error` naming the task, and takes the next one.
 */
import type { WasmPaths } from '../src/backend/select';
import type { Experiment } from '../src/experiment/types';
import type { KernelGeometry } from '../src/model/masks';
import type { BackendInfo, BackendPreference, ImageBatch } from '../src/protocol';

export interface ModelSummary {
  readonly type: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly levels: number;
  /** A class-conditional model's number of classes (0: unconditional): the sample request's `classes` are 0 … K − 1. */
  readonly classes: number;
  readonly parameters: number;
  /** Every convolution, for the kernel-mask view. */
  readonly layers: readonly { readonly name: string; readonly geometry: KernelGeometry; readonly inGroups: Int32Array; readonly outGroups: Int32Array }[];
}

/** A run's model as the worker loads it: its experiment and its checkpoint (null: fresh weights). */
export interface ModelSource {
  readonly runId: string;
  readonly experiment: Experiment;
  readonly checkpoint: Uint8Array | null;
  readonly backend: BackendPreference;
  readonly wasmPaths: WasmPaths;
}

export type ToWorker =
  /** `labels`: a class-conditional experiment's class per image. */
  | ({ readonly type: 'train'; readonly images: ImageBatch; readonly labels?: Uint8Array } & ModelSource)
  | ({ readonly type: 'load' } & ModelSource)
  | { readonly type: 'stop'; readonly runId: string }
  /** `classes`: a class-conditional model's class for each of the `count` images (default: image n of class n mod
   *  K; one row per class: perClassClasses in src/model/sampling). Refused for an unconditional model. */
  | ({ readonly type: 'sample'; readonly count: number; readonly temperature: number; readonly seed: number; readonly keepRows: number; readonly prefix: Uint8Array | null; readonly classes?: readonly number[] } & ModelSource)
  /** The structural dependency field of the loaded model, computed when first asked (it grows as (H·W·C)²). */
  | { readonly type: 'field'; readonly runId: string }
  /** `label`: a class-conditional model reads the image as of this class (a test image's label, the class a sample was
   *  drawn for; default 0). */
  | { readonly type: 'gradient'; readonly request: number; readonly image: Uint8Array; readonly i: number; readonly j: number; readonly c: number; readonly label?: number }
  /** What the loaded model believes at every pixel of one image (pixel values, [H, W, C]): its NLL map and predictive
   *  distributions, from one forward pass. Answered between training steps; the page keeps the answer per image, so a
   *  hover is a lookup. `label`: a class-conditional model reads the image as of this class (its NLL is then the
   *  conditional NLL, −log p(x | label); default 0). */
  | { readonly type: 'beliefs'; readonly request: number; readonly runId: string; readonly image: Uint8Array; readonly label?: number };

export type WorkerTask = 'train' | 'load' | 'sample' | 'field' | 'gradient';

export type FromWorker =
  | { readonly type: 'backend'; readonly runId: string; readonly info: BackendInfo }
  | { readonly type: 'model'; readonly runId: string; readonly summary: ModelSummary }
  /** The field, or null with why it is not computed (too large, or not while training). */
  | { readonly type: 'field'; readonly runId: string; readonly bits: Uint32Array | null; readonly why: string }
  | { readonly type: 'step'; readonly runId: string; readonly step: number; readonly nats: number; readonly bitsPerDim: number; readonly imagesPerSecond: number; readonly seconds: number; readonly conditional?: true }
  /** An evaluation of the validation set (it chooses the best checkpoint) or the test set. */
  | { readonly type: 'eval'; readonly runId: string; readonly step: number; readonly split: 'validation' | 'test'; readonly nats: number; readonly bitsPerDim: number; readonly images: number; readonly best: boolean; readonly conditional?: true }
  | { readonly type: 'samples'; readonly runId: string; readonly step: number; readonly images: ImageBatch; readonly png: Uint8Array }
  | { readonly type: 'checkpoint'; readonly runId: string; readonly step: number; readonly kinds: ('latest' | 'best')[]; readonly bytes: Uint8Array }
  | { readonly type: 'ended'; readonly runId: string; readonly status: 'finished' | 'stopped' | 'failed'; readonly step: number; readonly error?: string }
  /** Samples being drawn: the images so far (pixels after `upTo` not drawn yet). */
  | { readonly type: 'sampling'; readonly runId: string; readonly images: ImageBatch; readonly upTo: number; readonly done: boolean }
  | { readonly type: 'gradient'; readonly request: number; readonly values: Float32Array }
  /**
   * The answer to `beliefs` (src/model/beliefs.ts PixelBeliefs). `nll`: −log p(x_ijc | x_<ijc) in nats, [H, W, C];
   * `nats`: its sum, the image's NLL as evaluation computes it. `probabilities`: p(x = 1) [H, W, C] when `binary`,
   * else [H, W, C, L] — value l of pixel (i, j) channel c at ((i·W + j)·C + c)·L + l; channel c conditioned on the
   * image's own channels < c (R → G → B).
   */
  /** A `beliefs` request failed (no model loaded for that run, or the engine failed); it alone. */
  | { readonly type: 'beliefsFailed'; readonly request: number; readonly runId: string; readonly message: string }
  | { readonly type: 'beliefs'; readonly request: number; readonly runId: string; readonly height: number; readonly width: number; readonly channels: number; readonly levels: number; readonly binary: boolean; readonly nll: Float32Array; readonly nats: number; readonly probabilities: Float32Array }
  /**
   * While sampling, beside each `sampling` message: the distributions pixel (i, j) — the last one drawn, `upTo` —
   * was drawn from in each of the `count` images, temperature included: p(x = 1) [count, C] when `binary`, else
   * [count, C, L].
   */
  | { readonly type: 'samplingBeliefs'; readonly runId: string; readonly i: number; readonly j: number; readonly levels: number; readonly binary: boolean; readonly probabilities: Float32Array }
  /** A request failed; it alone: the worker goes on with the next. */
  | { readonly type: 'error'; readonly task: WorkerTask; readonly message: string; readonly runId?: string; readonly request?: number }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  /** The worker cannot go on (its GPU device was lost): the page fails the run and starts a fresh worker. */
  | { readonly type: 'fatal'; readonly message: string };
