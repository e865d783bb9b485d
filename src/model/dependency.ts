/**
 * Dependency maps: which input pixels and channels the prediction of x_ijc depends on.
 *   structural — from the architecture alone (its masks and wiring): what can influence it, for any weights;
 *   gradient   — |∂ log p(x_ijc | x_<ijc) / ∂x| for one image and the current weights: what does, and how much.
 * For random weights the gradient is non-zero exactly where the structural map says so.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withoutKernelGradients } from './layers';
import type { PixelModel } from './model';

export interface PixelChannel {
  readonly i: number;
  readonly j: number;
  readonly c: number;
}

/** Input elements, in raster order with channels innermost: index (i·W + j)·C + c. */
export function elementIndex(width: number, channels: number, p: PixelChannel): number {
  return (p.i * width + p.j) * channels + p.c;
}

/** The structural map of output (i, j, c): 1 for each input element it can depend on, H·W·C in element order. */
export function structuralMap(model: PixelModel, p: PixelChannel): Uint8Array {
  return model.field().dependencies(p.i, p.j, p.c);
}

/**
 * Gradient maps for several outputs of one image at once: the image is repeated once per output along the batch,
 * and one backward pass gives every row of the Jacobian. `image` holds pixel values, H·W·C in element order.
 *
 * Only what the outputs can depend on is computed. The models are causal, so an output in row i depends on rows
 * ≤ i alone (causality.test.ts proves it for every model): the image is cropped to rows 0 … max i, and the map is
 * zero below. The gradient is taken with respect to the input only — no weight gradient is formed, not even the
 * LSTM recurrences' kernel gradient that their hand-written backward pass would otherwise compute.
 * Equal to `gradientMapsFull` (gradient-maps.test.ts).
 *
 * A class-conditional model reads the image as of class `imageClass` (default 0): which pixels a prediction can
 * depend on is the same for every class, how much it does is not.
 */
export async function gradientMaps(model: PixelModel, image: ArrayLike<number>, outputs: readonly PixelChannel[], imageClass?: number): Promise<Float32Array[]> {
  const { height: H } = model.config.image;
  const rows = outputs.length ? Math.max(...outputs.map((p) => p.i)) + 1 : H;
  return jacobianRows(model, image, outputs, Math.min(rows, H), false, imageClass);
}

/** The same maps from the whole image, with the kernel gradients formed as in training: the reference. */
export async function gradientMapsFull(model: PixelModel, image: ArrayLike<number>, outputs: readonly PixelChannel[], imageClass?: number): Promise<Float32Array[]> {
  return jacobianRows(model, image, outputs, model.config.image.height, true, imageClass);
}

async function jacobianRows(model: PixelModel, image: ArrayLike<number>, outputs: readonly PixelChannel[], rows: number, full = false, imageClass?: number): Promise<Float32Array[]> {
  const { height: H, width: W, channels: C } = model.config.image;
  const D = H * W * C;
  if (image.length !== D) throw new Error(`image has ${image.length} values, the model needs ${H}×${W}×${C} = ${D}`);
  for (const p of outputs) {
    if (!(p.i >= 0 && p.i < H && p.j >= 0 && p.j < W && p.c >= 0 && p.c < C)) throw new Error(`output (${p.i}, ${p.j}, ${p.c}) is outside the ${H}×${W}×${C} image`);
  }
  const n = outputs.length;
  const classes = model.classes > 0 ? new Int32Array(n).fill(imageClass ?? 0) : imageClass === undefined ? undefined : [imageClass];
  const d = rows * W * C;
  const run = () =>
    tf.tidy(() => {
      const top = Float32Array.from({ length: d }, (_, e) => image[e]);
      const one = tf.tensor4d(top, [1, rows, W, C]);
      const inputs = n === 1 ? one : (tf.tile(one, [n, 1, 1, 1]) as tf.Tensor4D);
      // Labels are a separate tensor, so the gradient flows through the network only, not through the choice of
      // which value's probability is read.
      const labels = tf.tensor4d(top, [1, rows, W, C]);
      const tiledLabels = n === 1 ? labels : (tf.tile(labels, [n, 1, 1, 1]) as tf.Tensor4D);
      const select = new Float32Array(n * d);
      outputs.forEach((p, k) => (select[k * d + elementIndex(W, C, p)] = 1));
      const selector = tf.tensor4d(select, [n, rows, W, C]);
      const logProbOfSelected = (x: tf.Tensor) => tf.sum(tf.mul(model.head.logProbs(model.logits(x as tf.Tensor4D, classes), tiledLabels), selector));
      return tf.abs(tf.grad(logProbOfSelected)(inputs));
    });
  const grads = full ? run() : withoutKernelGradients(run);
  const values = (await grads.data()) as Float32Array;
  grads.dispose();
  return outputs.map((_, k) => {
    const map = new Float32Array(D);
    map.set(values.subarray(k * d, (k + 1) * d));
    return map;
  });
}

export async function gradientMap(model: PixelModel, image: ArrayLike<number>, p: PixelChannel, imageClass?: number): Promise<Float32Array> {
  return (await gradientMaps(model, image, [p], imageClass))[0];
}
