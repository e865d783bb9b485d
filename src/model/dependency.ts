/**
 * Dependency maps: which input pixels and channels the prediction of x_ijc depends on.
 *   structural — from the architecture alone (its masks and wiring): what can influence it, for any weights;
 *   gradient   — |∂ log p(x_ijc | x_<ijc) / ∂x| for one image and the current weights: what does, and how much.
 * For random weights the gradient is non-zero exactly where the structural map says so.
 */
import * as tf from '@tensorflow/tfjs-core';
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
 * A class-conditional model reads the image as of class `imageClass` (default 0): which pixels a prediction can
 * depend on is the same for every class, how much it does is not.
 */
export async function gradientMaps(model: PixelModel, image: ArrayLike<number>, outputs: readonly PixelChannel[], imageClass?: number): Promise<Float32Array[]> {
  const { height: H, width: W, channels: C } = model.config.image;
  const D = H * W * C;
  if (image.length !== D) throw new Error(`image has ${image.length} values, the model needs ${H}×${W}×${C} = ${D}`);
  const n = outputs.length;
  const classes = model.classes > 0 ? new Int32Array(n).fill(imageClass ?? 0) : imageClass === undefined ? undefined : [imageClass];
  const grads = tf.tidy(() => {
    const one = tf.tensor4d(Float32Array.from(image), [1, H, W, C]);
    const inputs = tf.tile(one, [n, 1, 1, 1]) as tf.Tensor4D;
    // Labels are a separate tensor, so the gradient flows through the network only, not through the choice of
    // which value's probability is read.
    const labels = tf.tile(one, [n, 1, 1, 1]) as tf.Tensor4D;
    const select = new Float32Array(n * D);
    outputs.forEach((p, k) => (select[k * D + elementIndex(W, C, p)] = 1));
    const selector = tf.tensor4d(select, [n, H, W, C]);
    const logProbOfSelected = (x: tf.Tensor) => tf.sum(tf.mul(model.head.logProbs(model.logits(x as tf.Tensor4D, classes), labels), selector));
    return tf.abs(tf.grad(logProbOfSelected)(inputs));
  });
  const values = (await grads.data()) as Float32Array;
  grads.dispose();
  return outputs.map((_, k) => values.slice(k * D, (k + 1) * D));
}

export async function gradientMap(model: PixelModel, image: ArrayLike<number>, p: PixelChannel, imageClass?: number): Promise<Float32Array> {
  return (await gradientMaps(model, image, [p], imageClass))[0];
}
