/**
 * What the model believes at each pixel of one image, from ONE forward pass:
 *   NLL map      −log p(x_ijc | x_<ijc) in nats for every pixel and channel; its sum is the image's NLL exactly as
 *                evaluation computes it (nllNats);
 *   predictive   the distribution each pixel and channel is predicted from, given everything before it in the
 *                image itself: p(x = 1) for a Bernoulli head, the L-level histogram per channel for a categorical
 *                one (channel c conditioned on the image's own channels < c of that pixel: R → G → B).
 * Hovering is then a lookup (`distributionAt`). During sampling, `samplingDistribution` turns the logits a pixel is
 * drawn from (the sampler's onLogits hook) into the probabilities it was drawn with, temperature included.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Head } from './heads';
import type { PixelModel } from './model';

export interface PixelBeliefs {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Values a channel takes (2 for a Bernoulli head). */
  readonly levels: number;
  /** True for a Bernoulli head: `probabilities` then holds p(x = 1) alone, one value per pixel and channel. */
  readonly binary: boolean;
  /** −log p(x_ijc | x_<ijc) in nats, [H, W, C] in element order. */
  readonly nll: Float32Array;
  /** The image's NLL in nats: the sum of `nll`, summed by the engine as evaluation sums it. */
  readonly nats: number;
  /** [H, W, C] of p(x = 1) (binary), or [H, W, C, L] of p(x = l) (categorical). */
  readonly probabilities: Float32Array;
}

/**
 * NLL map and predictive distributions of images [n, H, W, C] (pixel values 0 … levels − 1, element order), one
 * forward pass for all of them. A class-conditional model reads image k as of class `classes[k]` (default: all of
 * class 0, as gradient maps do); its NLL is then the conditional NLL, −log p(x | class).
 */
export async function pixelBeliefsOf(model: PixelModel, images: ArrayLike<number>, n = 1, classes?: ArrayLike<number>): Promise<PixelBeliefs[]> {
  const { height: H, width: W, channels: C } = model.config.image;
  const D = H * W * C;
  if (!Number.isInteger(n) || n < 1 || images.length !== n * D) throw new Error(`expected ${n} image(s) of ${H}×${W}×${C} values, got ${images.length} values`);
  const binary = model.head.config.kind === 'bernoulli';
  const levels = model.head.levels;
  const [nll, nats, probabilities] = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(images), [n, H, W, C]);
    const logits = model.logits(x, model.classes > 0 ? (classes ?? new Int32Array(n)) : classes);
    const logProbs = model.head.logProbs(logits, x);
    return [tf.neg(logProbs), tf.neg(tf.sum(logProbs, [1, 2, 3])), binary ? tf.sigmoid(logits) : tf.softmax(logits, -1)];
  });
  const [nllValues, natsValues, probValues] = (await Promise.all([nll.data(), nats.data(), probabilities.data()])) as Float32Array[];
  tf.dispose([nll, nats, probabilities]);
  const P = binary ? D : D * levels;
  return Array.from({ length: n }, (_, k) => ({
    height: H,
    width: W,
    channels: C,
    levels,
    binary,
    nll: nllValues.slice(k * D, (k + 1) * D),
    nats: natsValues[k],
    probabilities: probValues.slice(k * P, (k + 1) * P),
  }));
}

export async function pixelBeliefs(model: PixelModel, image: ArrayLike<number>, imageClass?: number): Promise<PixelBeliefs> {
  return (await pixelBeliefsOf(model, image, 1, imageClass === undefined ? undefined : [imageClass]))[0];
}

/**
 * The distribution of pixel (i, j), channel c, as a view into `b.probabilities` (no copy: a hover's lookup):
 * [p(0), …, p(L − 1)] for a categorical head; [1 − p, p] computed for a binary one.
 */
export function distributionAt(b: PixelBeliefs, i: number, j: number, c: number): Float32Array {
  const e = (i * b.width + j) * b.channels + c;
  if (b.binary) {
    const p = b.probabilities[e];
    return Float32Array.of(1 - p, p);
  }
  return b.probabilities.subarray(e * b.levels, (e + 1) * b.levels);
}

/**
 * The probabilities a sampled pixel's channel c was drawn from, for each of the N images, from the logits the sampler
 * drew it with ([N, C] for Bernoulli, [N, C, L] categorical; see SampleOptions.onLogits) and the temperature:
 * [N] of p(x = 1) (binary) or [N, L].
 */
export function samplingDistribution(head: Head, logits: Float32Array, channels: number, c: number, temperature = 1): Float32Array {
  if (head.config.kind === 'bernoulli') {
    const N = logits.length / channels;
    return Float32Array.from({ length: N }, (_, n) => 1 / (1 + Math.exp(-logits[n * channels + c] / temperature)));
  }
  const L = head.levels;
  const N = logits.length / (channels * L);
  const out = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    const at = (n * channels + c) * L;
    let max = -Infinity;
    for (let l = 0; l < L; l++) max = Math.max(max, logits[at + l]);
    let total = 0;
    for (let l = 0; l < L; l++) total += out[n * L + l] = Math.exp((logits[at + l] - max) / temperature);
    for (let l = 0; l < L; l++) out[n * L + l] /= total;
  }
  return out;
}
