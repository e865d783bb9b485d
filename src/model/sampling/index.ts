/**
 * Sampling: pixels in raster order, and R → G → B within a pixel, each drawn from p(x_ijc | everything before).
 * Two ways to get those distributions, with the same random draws for the same seed:
 *   naive  — run the model on the image so far, cropped to rows 0 … i (row i depends on nothing below it);
 *   cached — PixelCNN and Gated PixelCNN only: keep each layer's activations and compute only what the new
 *            pixel changes (Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive Models");
 *   incremental — Row LSTM and Diagonal BiLSTM only: carry the recurrent states and compute only what the new
 *            pixel changes (in plain JavaScript: a pixel is far too little work for TF.js ops).
 * The default is the fast one the model has.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkClasses, type PixelModel } from '../model';
import { DiagonalBiLSTM } from '../diagonal-bilstm';
import { GatedPixelCNN } from '../gated-pixelcnn';
import { PixelCNN } from '../pixelcnn';
import { RowLSTM } from '../row-lstm';
import { Random } from '../random';
import { CachedGatedPixelCNN } from './cached-gated-pixelcnn';
import { CachedPixelCNN } from './cached-pixelcnn';
import { IncrementalDiagonalBiLSTM } from './incremental-diagonal-bilstm';
import { IncrementalRowLSTM } from './incremental-row-lstm';
import { sampleOnWebGPU, webgpuSamplingAvailable } from './webgpu-sampler';
import type { PixelStepper, SampleImages } from './stepper';

export { perClassClasses } from './classes';

export type SamplingMethod = 'naive' | 'cached' | 'incremental';

export interface SampleOptions {
  readonly count: number;
  readonly seed: number;
  /** Logits are divided by it: < 1 sharper, > 1 more varied. */
  readonly temperature?: number;
  /** Completion: keep the top `rows` rows of these images ([count, H, W, C] pixel values), sample the rest. */
  readonly prefix?: { readonly images: ArrayLike<number>; readonly rows: number };
  /** 'cached' (PixelCNN, Gated PixelCNN), 'incremental' (Row LSTM, Diagonal BiLSTM) or 'naive'; the default is
   *  the model's fast one (`fastMethod`). */
  readonly method?: SamplingMethod;
  /** Called after each completed row with the images so far; returning false stops sampling early. */
  readonly onRow?: (row: number, images: Uint8Array) => void | boolean | Promise<void | boolean>;
  /** Called after each pixel (all its channels) with the images so far: for drawing the samples as they come. */
  readonly onPixel?: (i: number, j: number, images: Uint8Array) => void | Promise<void>;
  /**
   * Class-conditional models: the class of each image (0 … K − 1), `count` of them. Default: image n gets class
   * n mod K, so a grid shows every class in turn. Refused for an unconditional model.
   */
  readonly classes?: ArrayLike<number>;
  /** Called with the logits channel c of pixel (i, j) is about to be drawn from ([N, C] or [N, C, L]; channel c's
   *  are final): what the sampler believes there (src/model/beliefs.ts samplingDistribution turns them into the
   *  probabilities, temperature included). Read them before returning: they are not kept. */
  readonly onLogits?: (i: number, j: number, c: number, logits: Float32Array) => void;
}

/** The class of each of `count` images to sample from a conditional model: `given`, else n mod K; null when unconditional. */
export function sampleClasses(model: PixelModel, count: number, given?: ArrayLike<number>): Int32Array | null {
  if (model.classes === 0 && given === undefined) return null;
  return checkClasses(model.classes, given ?? Int32Array.from({ length: count }, (_, n) => n % model.classes), count);
}

export function supportsCachedSampling(model: PixelModel): boolean {
  return model instanceof PixelCNN || model instanceof GatedPixelCNN;
}

/** Unconditional Row LSTM and Diagonal BiLSTM (the incremental samplers carry no class embedding yet). */
export function supportsIncrementalSampling(model: PixelModel): boolean {
  return (model instanceof RowLSTM || model instanceof DiagonalBiLSTM) && model.classes === 0;
}

/** The fast sampler of this model: cached for the convolutional models, incremental for the recurrent ones. */
export function fastMethod(model: PixelModel): SamplingMethod {
  return supportsCachedSampling(model) ? 'cached' : supportsIncrementalSampling(model) ? 'incremental' : 'naive';
}

/** Draw `count` images: [count, H, W, C] pixel values, row-major. */
export async function sample(model: PixelModel, options: SampleOptions): Promise<Uint8Array> {
  const { height: H, width: W, channels: C } = model.config.image;
  const { count: N, seed, temperature = 1, prefix } = options;
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  if (!Number.isInteger(N) || N < 1) throw new Error(`count must be a positive integer, got ${N}`);
  const method = options.method ?? fastMethod(model);
  if (method === 'cached' && !supportsCachedSampling(model)) {
    throw new Error(`cached sampling is available for PixelCNN and Gated PixelCNN, not ${model.config.type}`);
  }
  if (method === 'incremental' && !supportsIncrementalSampling(model)) {
    throw new Error(`incremental sampling is available for unconditional Row LSTM and Diagonal BiLSTM, not ${model.classes ? 'a class-conditional ' : ''}${model.config.type}`);
  }
  const images = new Uint8Array(N * H * W * C);
  const firstRow = prefix ? prefix.rows : 0;
  if (prefix) {
    if (prefix.images.length !== images.length) throw new Error(`prefix images must hold ${N}×${H}×${W}×${C} values`);
    if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow > H) throw new Error(`prefix rows must be in 0 … ${H}`);
    const rowSize = W * C;
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < firstRow * rowSize; k++) images[n * H * rowSize + k] = prefix.images[n * H * rowSize + k];
    }
  }
  const classes = sampleClasses(model, N, options.classes);
  const view: SampleImages = { data: images, count: N, height: H, width: W, channels: C };
  const rng = new Random(seed);
  if (method === 'cached' && webgpuSamplingAvailable(model)) {
    // On WebGPU the whole step, draw included, stays on the GPU (./webgpu-sampler.ts).
    const { onRow, onPixel } = options;
    await sampleOnWebGPU(model as PixelCNN | GatedPixelCNN, view, { firstRow, temperature, rng, onRow, onPixel });
    return images;
  }
  const stepper = await createStepper(model, method, view, classes);
  const levels = model.head.levels;
  const perChannel = model.head.config.kind === 'bernoulli' ? 1 : levels;
  try {
    for (let i = firstRow; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let c = 0; c < C; c++) {
          const logits = await stepper.logitsAt(i, j, c);
          options.onLogits?.(i, j, c, logits);
          for (let n = 0; n < N; n++) {
            const at = (n * C + c) * perChannel;
            const value =
              perChannel === 1 ? drawBernoulli(logits[at], temperature, rng.next()) : drawCategorical(logits, at, levels, temperature, rng.next());
            images[((n * H + i) * W + j) * C + c] = value;
          }
        }
        await options.onPixel?.(i, j, images);
      }
      if ((await options.onRow?.(i, images)) === false) break;
    }
  } finally {
    stepper.dispose();
  }
  return images;
}

async function createStepper(model: PixelModel, method: SamplingMethod, view: SampleImages, classes: Int32Array | null): Promise<PixelStepper> {
  if (method === 'naive') return new NaiveStepper(model, view, classes);
  if (model instanceof PixelCNN) return new CachedPixelCNN(model, view, classes);
  if (model instanceof GatedPixelCNN) return new CachedGatedPixelCNN(model, view, classes);
  if (model instanceof RowLSTM) return IncrementalRowLSTM.create(model, view);
  return IncrementalDiagonalBiLSTM.create(model as DiagonalBiLSTM, view);
}

/** x = 1 with probability σ(logit / T). */
export function drawBernoulli(logit: number, temperature: number, u: number): number {
  return u < 1 / (1 + Math.exp(-logit / temperature)) ? 1 : 0;
}

/** Inverse-CDF draw from softmax(logits / T) over `levels` values starting at `offset`. */
export function drawCategorical(logits: ArrayLike<number>, offset: number, levels: number, temperature: number, u: number): number {
  let max = -Infinity;
  for (let l = 0; l < levels; l++) max = Math.max(max, logits[offset + l]);
  let total = 0;
  for (let l = 0; l < levels; l++) total += Math.exp((logits[offset + l] - max) / temperature);
  let cumulative = 0;
  const target = u * total;
  for (let l = 0; l < levels - 1; l++) {
    cumulative += Math.exp((logits[offset + l] - max) / temperature);
    if (target < cumulative) return l;
  }
  return levels - 1;
}

/** Runs the whole model on the image cropped to rows 0 … i, once per pixel and channel. */
class NaiveStepper implements PixelStepper {
  constructor(
    private readonly model: PixelModel,
    private readonly images: SampleImages,
    private readonly classes: Int32Array | null = null,
  ) {}

  async logitsAt(i: number, j: number): Promise<Float32Array> {
    const { data, count: N, height: H, width: W, channels: C } = this.images;
    const pixel = tf.tidy(() => {
      const rows = new Float32Array(N * (i + 1) * W * C);
      const rowsSize = (i + 1) * W * C;
      for (let n = 0; n < N; n++) rows.set(data.subarray(n * H * W * C, n * H * W * C + rowsSize), n * rowsSize);
      const logits = this.model.logits(tf.tensor4d(rows, [N, i + 1, W, C]), this.classes ?? undefined);
      const begin = [0, i, j, ...new Array(logits.rank - 3).fill(0)];
      const size = [N, 1, 1, ...logits.shape.slice(3)];
      return tf.slice(logits, begin, size);
    });
    const values = (await pixel.data()) as Float32Array;
    pixel.dispose();
    return values;
  }

  dispose(): void {}
}
