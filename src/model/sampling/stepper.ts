import * as tf from '@tensorflow/tfjs-core';
import type { ImageBatch } from '../../data/images';
import type { Head } from '../heads';
import { type ClassEmbedding, type Conv2D, oneHotClasses, type OutputStack } from '../layers';

/** The images being sampled, filled in raster order. */
export type SampleImages = ImageBatch;

/** Gives the logits of one pixel, [N, C, L] (or [N, C] for Bernoulli), given every value drawn before it. */
export interface PixelStepper {
  /** Logits of pixel (i, j), valid for channel c: every pixel before (i, j) and channels < c of (i, j) are in the
   *  images. Asked for in raster order, each pixel once per channel. */
  logitsAt(i: number, j: number, c: number): Promise<Float32Array>;
  dispose(): void;
}

/**
 * The bookkeeping of incremental (cached) sampling: activations are computed one pixel at a time in raster order,
 * and when a row ends the caches turn it into context for the rows below. Asking for a pixel further on first
 * computes every pixel in between (completion starts below rows that were given, not drawn).
 */
export abstract class IncrementalStepper implements PixelStepper {
  /** Pixels (raster index) whose activations are computed from their final values. */
  private final = 0;
  /** The row whose context the caches hold. */
  private row = -1;
  /** The last final pixel's own value has been drawn since it was computed, and is not yet stored. */
  private inputPending = false;

  constructor(
    protected readonly head: Head,
    protected readonly images: SampleImages,
  ) {}

  async logitsAt(i: number, j: number, c: number): Promise<Float32Array> {
    const { width, channels } = this.images;
    const p = i * width + j;
    if (this.inputPending) {
      tf.tidy(() => this.storeInput(Math.floor((this.final - 1) / width), (this.final - 1) % width));
      this.inputPending = false;
    }
    while (this.final < p) {
      tf.dispose(this.compute(Math.floor(this.final / width), this.final % width));
      this.final++;
    }
    const logits = this.compute(i, j);
    // Nothing computed at a pixel depends on its last channel (mask A), so once that channel is asked for, the
    // pixel's activations are final; only its own input value, drawn next, is stored before the next pixel.
    if (c === channels - 1) {
      this.final = p + 1;
      this.inputPending = true;
    }
    const values = (await logits.data()) as Float32Array;
    logits.dispose();
    return values;
  }

  private compute(i: number, j: number): tf.Tensor {
    return tf.tidy(() => {
      for (; this.row < i; this.row++) this.beginRow(this.row + 1);
      return this.pixel(i, j);
    });
  }

  /** Store the final input value of pixel (i, j) where the first layer reads it. */
  protected abstract storeInput(i: number, j: number): void;

  /** Prepare row i: every value of rows < i is final. */
  protected abstract beginRow(i: number): void;

  /** The logits of pixel (i, j), [N, F], writing the pixel's activations into the caches. */
  protected abstract pixel(i: number, j: number): tf.Tensor;

  /** The encoded network input at pixel (i, j): [N, C]. */
  protected inputAt(i: number, j: number): tf.Tensor2D {
    const { data, count: N, height: H, width: W, channels: C } = this.images;
    const values = new Float32Array(N * C);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) values[n * C + c] = data[((n * H + i) * W + j) * C + c];
    return tf.reshape(this.head.encode(tf.tensor4d(values, [N, 1, 1, C])), [N, C]);
  }

  /** The encoded network input of row i: [N, 1, W, C]. */
  protected rowInput(i: number): tf.Tensor4D {
    const { data, count: N, height: H, width: W, channels: C } = this.images;
    const values = new Float32Array(N * W * C);
    for (let n = 0; n < N; n++) values.set(data.subarray(((n * H + i) * W) * C, ((n * H + i + 1) * W) * C), n * W * C);
    return this.head.encode(tf.tensor4d(values, [N, 1, W, C]));
  }

  abstract dispose(): void;
}

/**
 * Conditional models: each layer's per-image class bias V·h, [N, features], computed once for the images' classes
 * and kept (null for an unconditional layer, or when there are no classes).
 */
export function classBias(embedding: ClassEmbedding | null, classes: Int32Array | null): tf.Tensor2D | null {
  if (!embedding || !classes) return null;
  return tf.keep(tf.tidy(() => embedding.at(oneHotClasses(classes, embedding.embedding.shape[0]))));
}

/** x + the class bias (x itself for an unconditional layer). */
export function plusClass<T extends tf.Tensor>(x: T, bias: tf.Tensor | null): T {
  return bias ? (tf.add(x, bias) as T) : x;
}

/** A 1×1 convolution at one pixel: [N, in] → [N, out]. */
export function pointwise(conv: Conv2D, x: tf.Tensor): tf.Tensor2D {
  const [, , nIn, nOut] = conv.kernel.shape;
  const y = tf.matMul(x as tf.Tensor2D, tf.reshape(conv.weights(), [nIn, nOut]));
  return (conv.bias ? tf.add(y, conv.bias) : y) as tf.Tensor2D;
}

/** ReLU → 1×1 → ReLU → 1×1 at one pixel: the output stack of every model. */
export function outputStackAt(stack: OutputStack, x: tf.Tensor): tf.Tensor2D {
  let y = tf.relu(x);
  if (stack.hidden) y = tf.relu(pointwise(stack.hidden, y));
  return pointwise(stack.logits, y);
}

/**
 * One causal convolution evaluated a pixel at a time. Its taps on rows above the output come from rows that are
 * complete, so they are computed for a whole row at once when the row starts; only the taps on the output's own
 * row (left of it, and the centre under the mask) are computed per pixel.
 */
export class CausalConvCache {
  private readonly rowsAbove: tf.Tensor4D[] = [];
  private readonly current: (tf.Tensor | null)[];
  private fromAbove: tf.Tensor[] = [];
  private readonly zeros: tf.Tensor2D;

  constructor(
    private readonly conv: Conv2D,
    private readonly count: number,
    private readonly width: number,
  ) {
    this.current = new Array(width).fill(null);
    this.zeros = tf.keep(tf.zeros([count, conv.kernel.shape[2] as number]));
  }

  /** The input at column j of the current row (replacing any earlier value). */
  put(j: number, value: tf.Tensor): void {
    this.current[j]?.dispose();
    this.current[j] = tf.keep(value);
  }

  /** The convolution's output at column j of the current row: [N, out]. */
  at(j: number): tf.Tensor2D {
    const { cy, cx } = this.conv.geometry;
    const [, , nIn, nOut] = this.conv.kernel.shape;
    const taps = Array.from({ length: cx + 1 }, (_, x) => this.current[j - cx + x] ?? this.zeros);
    const centreRow = tf.reshape(tf.slice(this.conv.weights(), [cy, 0, 0, 0], [1, cx + 1, nIn, nOut]), [(cx + 1) * nIn, nOut]);
    return tf.add(tf.matMul(taps.length === 1 ? taps[0] : tf.concat(taps, 1), centreRow), this.fromAbove[j]) as tf.Tensor2D;
  }

  /** The current row is complete: keep it as context and compute the next row's taps above (plus the bias). */
  nextRow(): void {
    const { cy } = this.conv.geometry;
    if (this.current.some((t) => t !== null)) {
      const row = tf.keep(tf.reshape(tf.stack(this.current.map((t) => t ?? this.zeros), 1), [this.count, 1, this.width, -1]) as tf.Tensor4D);
      this.rowsAbove.push(row);
      while (this.rowsAbove.length > cy) this.rowsAbove.shift()!.dispose();
      tf.dispose(this.current.splice(0, this.width, ...new Array(this.width).fill(null)).filter((t) => t !== null) as tf.Tensor[]);
    }
    tf.dispose(this.fromAbove);
    this.fromAbove = tf.unstack(this.aboveContribution(), 1).map((t) => tf.keep(t));
  }

  /** [N, W, out]: the taps on the cy rows above, from the kept rows (zeros above the image), plus the bias. */
  private aboveContribution(): tf.Tensor3D {
    const { cy, cx, cols } = this.conv.geometry;
    const [, , nIn, nOut] = this.conv.kernel.shape;
    const bias = this.conv.bias ?? tf.zeros([nOut]);
    if (cy === 0 || this.rowsAbove.length === 0) return tf.add(tf.zeros([this.count, this.width, nOut]), bias) as tf.Tensor3D;
    const missing = cy - this.rowsAbove.length;
    const window = tf.concat([...(missing > 0 ? [tf.zeros([this.count, missing, this.width, nIn])] : []), ...this.rowsAbove], 1);
    const above = tf.slice(this.conv.weights(), [0, 0, 0, 0], [cy, cols, nIn, nOut]);
    const out = tf.conv2d(window as tf.Tensor4D, above as tf.Tensor4D, 1, [[0, 0], [0, 0], [cx, cols - 1 - cx], [0, 0]]);
    return tf.reshape(tf.add(out, bias), [this.count, this.width, nOut]);
  }

  dispose(): void {
    tf.dispose([...this.rowsAbove, ...(this.current.filter((t) => t !== null) as tf.Tensor[]), ...this.fromAbove, this.zeros]);
  }
}
