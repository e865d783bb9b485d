/**
 * Diagonal BiLSTM — van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks" (2016), §3.2.
 *
 * Each direction scans the image along its diagonals. Skewing the map (row i shifted right by i, n × (2n − 1))
 * turns every diagonal into a column, and the recurrence runs column by column:
 *
 *   [oₖ, fₖ, iₖ, gₖ] = σ( K^ss ⊛ hₖ₋₁ + K^is ⊛ xₖ )        (tanh for g)
 *   cₖ = fₖ ⊙ cₖ₋₁ + iₖ ⊙ gₖ,    hₖ = oₖ ⊙ tanh(cₖ)
 *
 * K^is is 1×1 (mask B; mask A when it reads the image itself). K^ss is a 2×1 convolution over the previous
 * column, rows r − 1 and r: in the unskewed image those are the pixel above and the pixel to the left. The state
 * map is unskewed afterwards.
 *
 * The second direction runs on the width-mirrored map, so it sees the pixel above and the one to the right — the
 * right one is in the future. Its output is therefore shifted down one row before the two are added: position
 * (i, j) gets the right-to-left state of (i − 1, j), which has seen only rows < i. (A public implementation
 * shifted the wrong way and leaked future pixels.)
 *
 * Context: everything above the pixel and everything to its left — the whole causal past, but for one pixel. The
 * last pixel of the row above, (i − 1, W − 1), reaches (i, j) only through the input convolution (when
 * j ≥ W − 1 − k//2): the right-to-left state at (i − 1, j) sees row i − 1 only as far as the mask-A input
 * convolution lets (i − 1, W − 2) see, and no state sits right of the last column. The tests pin this down.
 *
 * Class-conditional (`classes` > 0): V·h, a learned bias per class (h the image's one-hot class), is added to
 * each direction's input-to-state gates before the skew (`bilstm{l}/left-to-right/input-to-state-class`, and
 * right-to-left), as Conditional PixelCNN (van den Oord et al. 2016, §2.3) conditions every layer; the skew's
 * padding stays zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layerFeatures, type ModelConfig } from './config';
import type { DepField } from './field';
import {
  addClass,
  type ClassEmbedding,
  classEmbedding,
  Conv2D,
  flipWidth,
  lstmRecurrence,
  maskedConv,
  OutputStack,
  residualField,
  residualOutput,
  shiftDown,
  skew,
  unskew,
} from './layers';
import type { KernelGeometry } from './masks';
import { PixelModelBase } from './model';
import type { ParamStore } from './params';
import type { LSTMLayerShape } from './row-lstm';

/** Rows r − 1 and r of the previous column of the skewed map: the pixel above and the pixel to the left. */
const PREVIOUS_COLUMN: KernelGeometry = { rows: 2, cols: 1, cy: 1, cx: 0, mask: 'none' };

/** One direction: a diagonal LSTM scanning left to right. */
export class DiagonalLSTM {
  readonly inputToState: Conv2D;
  readonly stateToState: Conv2D;
  /** V·h added to the input-to-state gates (conditional models only). */
  readonly inputClass: ClassEmbedding | null;

  constructor(params: ParamStore, name: string, s: LSTMLayerShape) {
    const { inFeatures, hidden: h, colours } = s;
    this.inputToState = maskedConv(params, `${name}/input-to-state`, 1, 1, s.readsImage ? 'A' : 'B', {
      in: inFeatures,
      out: 4 * h,
      colours,
      outChunks: 4,
    });
    this.stateToState = new Conv2D(params, `${name}/state-to-state`, PREVIOUS_COLUMN, {
      in: h,
      out: 4 * h,
      colours,
      outChunks: 4,
      bias: false,
    });
    this.inputClass = classEmbedding(params, `${name}/input-to-state-class`, s.classes, 4 * h);
  }

  apply(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor4D {
    // A 1×1 kernel commutes with the skew; applying it first costs half the positions.
    const states = lstmRecurrence(skew(addClass(this.inputToState.apply(x), this.inputClass, classes)), this.stateToState, 2);
    return unskew(states, x.shape[2]);
  }

  /** In image coordinates the state at (i, j) follows the states above and to the left. */
  field(x: DepField): DepField {
    return this.inputToState.field(x).scan([
      [-1, 0],
      [0, -1],
    ]);
  }
}

export class DiagonalBiLSTMLayer {
  readonly leftToRight: DiagonalLSTM;
  readonly rightToLeft: DiagonalLSTM;
  readonly up: Conv2D | null;
  readonly addInput: boolean;

  constructor(params: ParamStore, name: string, s: LSTMLayerShape) {
    this.leftToRight = new DiagonalLSTM(params, `${name}/left-to-right`, s);
    this.rightToLeft = new DiagonalLSTM(params, `${name}/right-to-left`, s);
    this.up = s.residual ? maskedConv(params, `${name}/up`, 1, 1, 'B', { in: s.hidden, out: 2 * s.hidden, colours: s.colours }) : null;
    this.addInput = s.residual && !s.readsImage;
  }

  apply(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor4D {
    const forward = this.leftToRight.apply(x, classes);
    const backward = flipWidth(this.rightToLeft.apply(flipWidth(x), classes));
    return residualOutput(x, tf.add(forward, shiftDown(backward)), this.up, this.addInput);
  }

  field(x: DepField): DepField {
    const forward = this.leftToRight.field(x);
    const backward = this.rightToLeft.field(x.mirrorWidth()).mirrorWidth();
    return residualField(x, forward.union(backward.shiftDown()), this.up, this.addInput);
  }
}

export class DiagonalBiLSTM extends PixelModelBase {
  /** The first, mask-A convolution; absent when the first LSTM layer reads the image itself. */
  readonly input: Conv2D | null;
  readonly layers: DiagonalBiLSTMLayer[];
  readonly output: OutputStack;

  constructor(config: ModelConfig) {
    super(config);
    const { hidden, firstKernel, residual, outputHidden } = config;
    const colours = this.colours;
    const features = layerFeatures(config);
    this.input =
      firstKernel > 0 ? maskedConv(this.params, 'input', firstKernel, firstKernel, 'A', { in: colours, out: features, colours }) : null;
    this.layers = Array.from({ length: config.layers }, (_, l) => {
      const readsImage = l === 0 && !this.input;
      const inFeatures = readsImage ? colours : features;
      return new DiagonalBiLSTMLayer(this.params, `bilstm${l}`, { inFeatures, hidden, colours, readsImage, residual, classes: this.classes });
    });
    this.output = new OutputStack(this.params, features, outputHidden, this.head.outputFeatures(colours), colours);
  }

  protected forward(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor {
    let h = x;
    if (this.input) {
      h = this.input.apply(x);
      if (!this.config.residual) h = tf.relu(h);
    }
    for (const layer of this.layers) h = layer.apply(h, classes);
    return this.head.toLogits(this.output.apply(h), this.colours);
  }

  protected propagateField(image: DepField): DepField {
    let f = this.input ? this.input.field(image) : image;
    for (const layer of this.layers) f = layer.field(f);
    return this.output.field(f);
  }
}
