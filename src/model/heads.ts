/**
 * Output distributions (§3.5 of the paper) and the negative log-likelihood in the units the paper reports:
 * nats per image for binarised MNIST, bits per dimension otherwise (bits/dim = nats / (D · ln 2), D = H·W·C).
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpuBernoulliLoss } from '../backend/webgpu/bernoulli-loss';
import { fusedEnabled } from '../backend/webgpu/program';
import type { HeadConfig } from './config';

export interface Head {
  readonly config: HeadConfig;
  /** Values a channel can take: 2 for Bernoulli. */
  readonly levels: number;
  /** Features of the last 1×1 convolution, colour-major so that channel c's logits form colour group c. */
  outputFeatures(colours: number): number;
  /** Pixel values (0 … levels − 1) → network input. */
  encode(x: tf.Tensor4D): tf.Tensor4D;
  /** Last layer [B, H, W, F] → logits: [B, H, W, C] (Bernoulli) or [B, H, W, C, L] (categorical). */
  toLogits(y: tf.Tensor4D, colours: number): tf.Tensor;
  /** log p(x_ijc | everything before it), for every pixel and channel: [B, H, W, C]. */
  logProbs(logits: tf.Tensor, x: tf.Tensor4D): tf.Tensor4D;
}

/** One logit per pixel and channel: p(x = 1) = σ(logit). */
export class BernoulliHead implements Head {
  readonly config = { kind: 'bernoulli' } as const;
  readonly levels = 2;

  outputFeatures(colours: number): number {
    return colours;
  }

  encode(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }

  toLogits(y: tf.Tensor4D): tf.Tensor {
    return y;
  }

  logProbs(logits: tf.Tensor, x: tf.Tensor4D): tf.Tensor4D {
    // log σ(l) if x = 1, log(1 − σ(l)) if x = 0, written without overflow: −(max(l, 0) − l·x + log(1 + e^−|l|)).
    const softplusTerm = tf.add(tf.relu(logits), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.sub(tf.mul(logits, x), softplusTerm) as tf.Tensor4D;
  }
}

/** A softmax over `levels` values per channel; channel c is predicted after channels < c of the same pixel. */
export class CategoricalHead implements Head {
  readonly config: HeadConfig;

  constructor(readonly levels: number) {
    this.config = { kind: 'categorical', levels };
  }

  outputFeatures(colours: number): number {
    return colours * this.levels;
  }

  encode(x: tf.Tensor4D): tf.Tensor4D {
    return tf.sub(tf.mul(x, 2 / (this.levels - 1)), 1) as tf.Tensor4D;
  }

  toLogits(y: tf.Tensor4D, colours: number): tf.Tensor {
    const [b, h, w] = y.shape;
    return tf.reshape(y, [b, h, w, colours, this.levels]);
  }

  logProbs(logits: tf.Tensor, x: tf.Tensor4D): tf.Tensor4D {
    const chosen = tf.oneHot(tf.cast(x, 'int32'), this.levels);
    return tf.sum(tf.mul(tf.logSoftmax(logits), chosen), -1) as tf.Tensor4D;
  }
}

export function createHead(config: HeadConfig): Head {
  return config.kind === 'bernoulli' ? new BernoulliHead() : new CategoricalHead(config.levels);
}

/** −log p(x) of each image in nats: [B]. */
export function nllNats(head: Head, logits: tf.Tensor, x: tf.Tensor4D): tf.Tensor1D {
  return tf.neg(tf.sum(head.logProbs(logits, x), [1, 2, 3])) as tf.Tensor1D;
}

/**
 * The training loss: the batch's mean −log p(x) in nats per dimension (D = H·W·C). On WebGPU a Bernoulli head's
 * loss is one fused kernel each way (src/backend/webgpu/bernoulli-loss.ts).
 */
export function meanNllPerDim(head: Head, logits: tf.Tensor, x: tf.Tensor4D): tf.Scalar {
  if (head instanceof BernoulliHead && tf.getBackend() === 'webgpu' && fusedEnabled()) return webgpuBernoulliLoss(logits, x);
  const [, height, width, channels] = x.shape;
  return tf.div(tf.mean(nllNats(head, logits, x)), height * width * channels) as tf.Scalar;
}

export function natsToBitsPerDim(nats: number, dims: number): number {
  return nats / (dims * Math.LN2);
}
