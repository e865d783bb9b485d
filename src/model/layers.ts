/** The pieces every model is built from: masked convolutions, the LSTM cell, the skew, the output stack. */
import * as tf from '@tensorflow/tfjs-core';
import { buildMask, causalGeometry, colourGroups, type KernelGeometry, type MaskType, samePadding } from './masks';
import { DepField } from './field';
import type { ParamStore } from './params';
import { webgpuConv } from '../backend/webgpu/conv';
import { webgpuGate } from '../backend/webgpu/gated';
import { fusedScanAttrs, webgpuLstmScan } from '../backend/webgpu/lstm-scan';
import { fusedEnabled } from '../backend/webgpu/program';

export interface ConvFeatures {
  readonly in: number;
  readonly out: number;
  /** Colour groups the features are split into (1 or 3). */
  readonly colours: number;
  /** Gate blocks stacked in the input / output features (e.g. 4 for an LSTM's o, f, i, g). */
  readonly inChunks?: number;
  readonly outChunks?: number;
  readonly bias?: boolean;
}

type Padding4 = [[number, number], [number, number], [number, number], [number, number]];

/** What a convolution layer does around its convolution, in this order. */
export interface ConvApply {
  /** Shift the input down one row first (zeros enter at the top): position (i, j) then reads row i − 1. */
  readonly shiftDown?: boolean;
  /** ReLU of the input. */
  readonly reluIn?: boolean;
  /** ReLU of the result (after the bias). */
  readonly reluOut?: boolean;
  /** Added to the result last: a residual connection (not after `reluOut`). */
  readonly add?: tf.Tensor4D;
}

/** A stride-1 convolution that keeps the map's size, its kernel multiplied by a causal mask unless unmasked. */
export class Conv2D {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly inGroups: Int32Array;
  readonly outGroups: Int32Array;
  private readonly mask: tf.Tensor | null;
  private readonly padding: Padding4;

  constructor(params: ParamStore, readonly name: string, readonly geometry: KernelGeometry, readonly features: ConvFeatures) {
    const { rows, cols } = geometry;
    const { in: nIn, out: nOut, colours } = features;
    this.inGroups = colourGroups(nIn, colours, features.inChunks);
    this.outGroups = colourGroups(nOut, colours, features.outChunks);
    this.kernel = params.glorot(`${name}/kernel`, [rows, cols, nIn, nOut], rows * cols * nIn, rows * cols * nOut);
    this.bias = features.bias === false ? null : params.constant(`${name}/bias`, [nOut], 0);
    this.mask =
      geometry.mask === 'none'
        ? null
        : params.own(tf.tensor4d(buildMask(geometry, this.inGroups, this.outGroups), [rows, cols, nIn, nOut]));
    const p = samePadding(geometry);
    this.padding = [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
    params.layers.push({ name, geometry, inGroups: this.inGroups, outGroups: this.outGroups });
  }

  /** The kernel as applied: zero wherever the mask forbids a connection. */
  weights(): tf.Tensor4D {
    return (this.mask ? tf.mul(this.kernel, this.mask) : this.kernel) as tf.Tensor4D;
  }

  /**
   * The convolution of x with its bias, and what `options` adds around it. On WebGPU all of it is one fused
   * kernel (src/backend/webgpu/conv.ts), the mask included.
   */
  apply(x: tf.Tensor4D, options: ConvApply = {}): tf.Tensor4D {
    const { shiftDown: shift = false, reluIn = false, reluOut = false, add } = options;
    if (add && reluOut) throw new Error(`${this.name}: a residual addend comes after the bias, not after a ReLU`);
    if (tf.getBackend() === 'webgpu' && fusedEnabled()) {
      const { rows, cols, cy, cx, mask } = this.geometry;
      const { in: nIn, out: nOut, colours, inChunks = 1, outChunks = 1 } = this.features;
      const attrs = { rows, cols, cy, cx, mask, colours, inPerChunk: nIn / inChunks, outPerChunk: nOut / outChunks, shiftDown: shift ? 1 : 0, reluIn, reluOut };
      return webgpuConv(x, this.kernel as tf.Tensor4D, this.bias, add ?? null, attrs);
    }
    let input = shift ? shiftDown(x) : x;
    if (reluIn) input = tf.relu(input);
    let y = tf.conv2d(input, this.weights(), 1, this.padding);
    if (this.bias) y = tf.add(y, this.bias);
    if (reluOut) y = tf.relu(y);
    return add ? tf.add(add, y) : y;
  }

  /** What each output of this convolution can depend on, given what its input can. */
  field(input: DepField): DepField {
    return input.conv(this.geometry);
  }
}

/**
 * Class conditioning (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders", §2.3):
 * V·h added to a layer's pre-activations, h the image's one-hot class — a learned bias per class and feature
 * (V: [classes, features], zero at first), the same at every position of the map. It depends on no pixel, so it
 * can carry none into a prediction: causality is untouched.
 */
export class ClassEmbedding {
  /** V, one row per class. */
  readonly embedding: tf.Variable;

  constructor(params: ParamStore, readonly name: string, classes: number, readonly features: number) {
    this.embedding = params.constant(`${name}/embedding`, [classes, features], 0);
  }

  /** V·h for each image, h [B, classes] one-hot: [B, 1, 1, features], to add to a [B, H, W, features] map. */
  apply(h: tf.Tensor2D): tf.Tensor4D {
    return tf.reshape(this.at(h), [h.shape[0], 1, 1, this.features]);
  }

  /** V·h for each image: [B, features] (a pixel's worth, for cached sampling). */
  at(h: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(h, this.embedding as tf.Tensor2D);
  }
}

/** h: each image's class as a one-hot row, [B, classes] float32. (Made as int32 and cast: TF.js 4.22's wasm OneHot
 *  asked for float32 writes the integers' bits — 1 reads as 1.4e-45.) */
export function oneHotClasses(classes: Int32Array, count: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(classes, 'int32'), count), 'float32') as tf.Tensor2D);
}

/** A class embedding for a conditional model (`classes` > 0), none otherwise. */
export function classEmbedding(params: ParamStore, name: string, classes: number, features: number): ClassEmbedding | null {
  return classes > 0 ? new ClassEmbedding(params, name, classes, features) : null;
}

/** x + V·h, or x itself for an unconditional layer. */
export function addClass(x: tf.Tensor4D, embedding: ClassEmbedding | null, h: tf.Tensor2D | null): tf.Tensor4D {
  if (!embedding) return x;
  if (!h) throw new Error(`${embedding.name}: this model is class-conditional and needs a class for each image`);
  return tf.add(x, embedding.apply(h));
}

/** A k_h × k_w convolution under mask A or B (or none), stored without its always-zero taps. */
export function maskedConv(params: ParamStore, name: string, kh: number, kw: number, mask: MaskType, features: ConvFeatures): Conv2D {
  return new Conv2D(params, name, causalGeometry(kh, kw, mask), features);
}

/**
 * The LSTM cell of §3.1: [o, f, i, g] = [σ, σ, σ, tanh](gates), c = f ⊙ c_prev + i ⊙ g, h = o ⊙ tanh(c).
 * `gates` holds the four blocks stacked along the last axis; `cPrev` null means a zero initial state.
 */
export function lstmCell(gates: tf.Tensor, cPrev: tf.Tensor | null): LSTMStep {
  const h = gates.shape[gates.rank - 1] / 4;
  const [ofiPre, gPre] = tf.split(gates, [3 * h, h], -1);
  const sigmas = tf.sigmoid(ofiPre);
  const [o, f, i] = tf.split(sigmas, 3, -1);
  const g = tf.tanh(gPre);
  const c = cPrev ? tf.add(tf.mul(f, cPrev), tf.mul(i, g)) : tf.mul(i, g);
  const tanhC = tf.tanh(c);
  return { h: tf.mul(o, tanhC), c, sigmas, g, tanhC };
}

export interface LSTMStep {
  h: tf.Tensor;
  c: tf.Tensor;
  /** σ of the o, f, i blocks, tanh of the g block and of c: what the backward pass needs. */
  sigmas: tf.Tensor;
  g: tf.Tensor;
  tanhC: tf.Tensor;
}

/**
 * An LSTM scanned along one axis of a map (rows for the Row LSTM, skewed columns for the Diagonal LSTM): slice t
 * of `fromInput` (K^is ⊛ x, [B, H, W, 4h], computed for the whole map at once) plus K^ss applied to the states of
 * slice t − 1 gives the gates of slice t. Returns the states h of every slice, [B, H, W, h].
 *
 * Backpropagation through time is written out rather than left to the tape: per step it needs only a handful
 * of elementwise ops and one convolution, and the gradient of K^ss — a sum over all steps — is taken in one
 * convolution over every step at once instead of one per step.
 */
export function lstmRecurrence(fromInput: tf.Tensor4D, stateToState: Conv2D, axis: 1 | 2): tf.Tensor4D {
  const { geometry } = stateToState;
  // On WebGPU the same math runs as one dispatch a step, forward and backward (src/backend/webgpu/lstm-scan.ts).
  const fused = tf.getBackend() === 'webgpu' ? fusedScanAttrs(geometry, axis) : null;
  if (fused) return webgpuLstmScan(fromInput, stateToState.weights(), fused);
  const p = samePadding(geometry);
  const padding: Padding4 = [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
  // The transposed convolution of dgates, which carries the gradient back to the previous slice's states.
  const backPadding: Padding4 = [
    [0, 0],
    [geometry.rows - 1 - p.top, geometry.rows - 1 - p.bottom],
    [geometry.cols - 1 - p.left, geometry.cols - 1 - p.right],
    [0, 0],
  ];
  const scan = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [gatesIn, kernel, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const steps = gatesIn.shape[axis] as number;
    const inputs = tf.split(gatesIn, steps, axis);
    const hs: tf.Tensor[] = [];
    const cs: tf.Tensor[] = [];
    const sigmas: tf.Tensor[] = [];
    const gs: tf.Tensor[] = [];
    const tanhCs: tf.Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const gates = t === 0 ? inputs[0] : tf.add(tf.conv2d(hs[t - 1] as tf.Tensor4D, kernel as tf.Tensor4D, 1, padding), inputs[t]);
      const step = lstmCell(gates, t === 0 ? null : cs[t - 1]);
      hs.push(step.h);
      cs.push(step.c);
      sigmas.push(step.sigmas);
      gs.push(step.g);
      tanhCs.push(step.tanhC);
    }
    const states = tf.concat(hs, axis);
    save([states, tf.concat(cs, axis), tf.concat(sigmas, axis), tf.concat(gs, axis), tf.concat(tanhCs, axis), kernel]);
    return { value: states, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => lstmBackward(dy, saved, axis, padding, backPadding) };
  });
  return scan(fromInput, stateToState.weights()) as tf.Tensor4D;
}

/** Shift a map one slice along `axis` (zeros enter first): slice t then holds slice t − 1. */
function previousSlice(x: tf.Tensor, axis: 1 | 2): tf.Tensor {
  const pad: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
  pad[axis] = [1, 0];
  return tf.slice(tf.pad(x, pad), [0, 0, 0, 0], x.shape);
}

/** Whether the recurrences' backward pass forms the gradient of K^ss (training) or not (input gradients only). */
let kernelGradients = true;

/**
 * Run `f` with the LSTM recurrences' backward pass skipping the gradient of K^ss (it is returned as zeros): for
 * gradients with respect to the input alone, such as dependency maps. The tape already skips every other weight
 * gradient nothing asks for; this one is formed inside a custom gradient, which cannot tell.
 */
export function withoutKernelGradients<T>(f: () => T): T {
  const before = kernelGradients;
  kernelGradients = false;
  try {
    return f();
  } finally {
    kernelGradients = before;
  }
}

function lstmBackward(dStates: tf.Tensor, saved: tf.Tensor[], axis: 1 | 2, padding: Padding4, backPadding: Padding4): tf.Tensor[] {
  const [states, c, sigmas, g, tanhC, kernel] = saved;
  const steps = states.shape[axis] as number;
  const [o, f, i] = tf.split(sigmas, 3, -1);
  const one = tf.scalar(1);
  const sigmaSlope = tf.mul(sigmas, tf.sub(one, sigmas)); // σ'
  const [oSlope, fSlope, iSlope] = tf.split(sigmaSlope, 3, -1);
  // With δh and δc the gradients reaching a step's h and c:
  //   δgates = [δh ⊙ tanh(c) ⊙ σ'_o,  δc ⊙ c_prev ⊙ σ'_f,  δc ⊙ g ⊙ σ'_i,  δc ⊙ i ⊙ (1 − g²)]
  //          = [δh, δc, δc, δc] ⊙ P,   and δc itself = δc_next ⊙ f_next + δh ⊙ o ⊙ (1 − tanh²(c)).
  const P = tf.concat(
    [tf.mul(tanhC, oSlope), tf.mul(previousSlice(c, axis), fSlope), tf.mul(g, iSlope), tf.mul(i, tf.sub(one, tf.square(g)))],
    -1,
  );
  const hToC = tf.mul(o, tf.sub(one, tf.square(tanhC)));
  const [Ps, hToCs, fs, dys] = [P, hToC, f, dStates].map((t) => tf.split(t, steps, axis));
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
  const dGates: tf.Tensor[] = new Array(steps);
  let dhFromNext: tf.Tensor | null = null;
  let dcFromNext: tf.Tensor | null = null;
  for (let t = steps - 1; t >= 0; t--) {
    const dh: tf.Tensor = dhFromNext ? tf.add(dys[t], dhFromNext) : dys[t];
    const dcHere = tf.mul(dh, hToCs[t]);
    const dc: tf.Tensor = dcFromNext ? tf.add(dcFromNext, dcHere) : dcHere;
    dGates[t] = tf.mul(tf.concat([dh, dc, dc, dc], -1), Ps[t]);
    if (t > 0) {
      dhFromNext = tf.conv2d(dGates[t] as tf.Tensor4D, flipped as tf.Tensor4D, 1, backPadding);
      dcFromNext = tf.mul(dc, fs[t]);
    }
  }
  const dGatesAll = tf.concat(dGates, axis);
  if (!kernelGradients) return [dGatesAll, tf.zerosLike(kernel)];
  // dK^ss = Σ_t corr(h_{t−1}, δgates_t): the steps become the batch of one filter-gradient convolution.
  const asBatch = (x: tf.Tensor) => {
    const moved = axis === 1 ? x : tf.transpose(x, [0, 2, 1, 3]);
    const [b, t, s, ch] = moved.shape;
    return tf.reshape(moved, axis === 1 ? [b * t, 1, s, ch] : [b * t, s, 1, ch]);
  };
  const dKernel = tf.engine().runKernel('Conv2DBackpropFilter', { x: asBatch(previousSlice(states, axis)), dy: asBatch(dGatesAll) }, {
    strides: 1,
    pad: padding,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    filterShape: kernel.shape,
  } as never) as tf.Tensor;
  return [dGatesAll, dKernel];
}

/** The gated activation of Gated PixelCNN: tanh(a) ⊙ σ(b) of the two halves of the features. */
export function gatedActivation(x: tf.Tensor): tf.Tensor4D {
  // On WebGPU the same math runs as one dispatch forward and one backward (src/backend/webgpu/gated.ts).
  if (tf.getBackend() === 'webgpu' && fusedEnabled()) return webgpuGate(x) as tf.Tensor4D;
  const [a, b] = tf.split(x, 2, -1);
  return tf.mul(tf.tanh(a), tf.sigmoid(b)) as tf.Tensor4D;
}

/**
 * The skew of the Diagonal BiLSTM (§3.2): row i shifted right by i, [B, H, W, C] → [B, H, W + H − 1, C], so that
 * each diagonal of the image becomes a column. Done without a per-row loop: rows padded to width W + H and read
 * back with a stride of W + H − 1 start one place further right each.
 */
export function skew(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const padded = tf.pad(x, [[0, 0], [0, 0], [0, h], [0, 0]]);
  const flat = tf.reshape(padded, [b, h * (w + h), c]);
  return tf.reshape(tf.slice(flat, [0, 0, 0], [b, h * (w + h - 1), c]), [b, h, w + h - 1, c]);
}

/** The inverse of `skew`: row i read from column i on, [B, H, W + H − 1, C] → [B, H, W, C]. */
export function unskew(s: tf.Tensor4D, width: number): tf.Tensor4D {
  const [b, h, sw, c] = s.shape;
  // Row i of the padded map, read with a stride of sw + 2, starts at column i.
  const padded = tf.pad(s, [[0, 0], [0, 0], [0, 1], [0, 0]]);
  const flat = tf.pad(tf.reshape(padded, [b, h * (sw + 1), c]), [[0, 0], [0, h], [0, 0]]);
  return tf.slice(tf.reshape(flat, [b, h, sw + 2, c]), [0, 0, 0, 0], [b, h, width, c]) as tf.Tensor4D;
}

/** Shift a map down one row (zeros enter at the top): position (i, j) then holds what was at (i − 1, j). */
export function shiftDown(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return tf.slice(tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]]), [0, 0, 0, 0], [b, h, w, c]);
}

/** Mirror a map left–right. */
export function flipWidth(x: tf.Tensor4D): tf.Tensor4D {
  return tf.reverse(x, 2) as tf.Tensor4D;
}

/** ReLU → 1×1 → ReLU → 1×1, both 1×1s under mask B: the output layers of every model in the paper. */
export class OutputStack {
  readonly hidden: Conv2D | null;
  readonly logits: Conv2D;

  constructor(params: ParamStore, inFeatures: number, hiddenFeatures: number, outFeatures: number, colours: number) {
    this.hidden =
      hiddenFeatures > 0 ? maskedConv(params, 'output/hidden', 1, 1, 'B', { in: inFeatures, out: hiddenFeatures, colours }) : null;
    this.logits = maskedConv(params, 'output/logits', 1, 1, 'B', {
      in: hiddenFeatures > 0 ? hiddenFeatures : inFeatures,
      out: outFeatures,
      colours,
    });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.hidden) return this.logits.apply(x, { reluIn: true });
    return this.logits.apply(this.hidden.apply(x, { reluIn: true, reluOut: true }));
  }

  field(input: DepField): DepField {
    return this.logits.field(this.hidden ? this.hidden.field(input) : input);
  }
}

/**
 * The end of a recurrent layer (§3.3): a 1×1 (mask B) brings the h state features back to the 2h of the
 * residual stream and adds the layer's input. A layer that reads the image itself has no add.
 */
export function residualOutput(input: tf.Tensor4D, states: tf.Tensor4D, up: Conv2D | null, addInput: boolean): tf.Tensor4D {
  if (!up) return states;
  return up.apply(states, addInput ? { add: input } : {});
}

export function residualField(input: DepField, states: DepField, up: Conv2D | null, addInput: boolean): DepField {
  if (!up) return states;
  const out = up.field(states);
  return addInput ? input.union(out) : out;
}
