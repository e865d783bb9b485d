/**
 * Row LSTM — van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks" (2016), §3.1.
 *
 * The map is processed one row at a time from the top, a whole row at once:
 *
 *   [oᵢ, fᵢ, iᵢ, gᵢ] = σ( K^ss ⊛ hᵢ₋₁ + K^is ⊛ xᵢ )        (tanh for g)
 *   cᵢ = fᵢ ⊙ cᵢ₋₁ + iᵢ ⊙ gᵢ
 *   hᵢ = oᵢ ⊙ tanh(cᵢ)
 *
 * K^is is a 1×k convolution along the row, masked (mask B: it sees x_{i,j−k//2 … j} with the colour rule, never
 * j+1), computed for the whole map at once before the recurrence. K^ss is an unmasked 1×k convolution over the
 * previous row's state. Layers take 2h features, produce h, and a 1×1 brings them back to 2h for the residual add.
 *
 * Context: a triangle above the pixel, widening by k//2 on each side per row up; in its own row a pixel sees only
 * k//2 pixels to the left per layer (plus the input convolution's reach).
 *
 * Class-conditional (`classes` > 0): V·h, a learned bias per class (h the image's one-hot class), is added to
 * every layer's input-to-state gates, K^is ⊛ xᵢ + V·h (`lstm{l}/input-to-state-class`), as Conditional PixelCNN
 * (van den Oord et al. 2016, §2.3) conditions every layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layerFeatures, type ModelConfig } from './config';
import type { DepField } from './field';
import { addClass, type ClassEmbedding, classEmbedding, type Conv2D, lstmRecurrence, maskedConv, OutputStack, residualField, residualOutput } from './layers';
import { PixelModelBase } from './model';
import type { ParamStore } from './params';

/** Options of one LSTM layer of the stack. */
export interface LSTMLayerShape {
  readonly inFeatures: number;
  readonly hidden: number;
  readonly colours: number;
  /** The layer reads the image itself: mask A, and no residual add (it would hand x_ij to its own output). */
  readonly readsImage: boolean;
  readonly residual: boolean;
  /** Classes of a conditional model (0: unconditional). */
  readonly classes: number;
}

export class RowLSTMLayer {
  readonly inputToState: Conv2D;
  readonly stateToState: Conv2D;
  /** 1×1 from h back to the 2h features of the residual stream (absent without residuals). */
  readonly up: Conv2D | null;
  /** V·h added to the input-to-state gates (conditional models only). */
  readonly inputClass: ClassEmbedding | null;
  readonly addInput: boolean;

  constructor(params: ParamStore, name: string, k: number, s: LSTMLayerShape) {
    const { inFeatures, hidden: h, colours } = s;
    this.inputToState = maskedConv(params, `${name}/input-to-state`, 1, k, s.readsImage ? 'A' : 'B', {
      in: inFeatures,
      out: 4 * h,
      colours,
      outChunks: 4,
    });
    this.stateToState = maskedConv(params, `${name}/state-to-state`, 1, k, 'none', {
      in: h,
      out: 4 * h,
      colours,
      outChunks: 4,
      bias: false,
    });
    this.up = s.residual ? maskedConv(params, `${name}/up`, 1, 1, 'B', { in: h, out: 2 * h, colours }) : null;
    this.inputClass = classEmbedding(params, `${name}/input-to-state-class`, s.classes, 4 * h);
    this.addInput = s.residual && !s.readsImage;
  }

  apply(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor4D {
    // K^is ⊛ x (+ V·h) for every row at once, then the recurrence down the rows.
    const states = lstmRecurrence(addClass(this.inputToState.apply(x), this.inputClass, classes), this.stateToState, 1);
    return residualOutput(x, states, this.up, this.addInput);
  }

  field(x: DepField): DepField {
    const reach = (this.stateToState.geometry.cols - 1) / 2;
    const rowAbove = Array.from({ length: 2 * reach + 1 }, (_, d) => [-1, d - reach] as const);
    const states = this.inputToState.field(x).scan(rowAbove);
    return residualField(x, states, this.up, this.addInput);
  }
}

export class RowLSTM extends PixelModelBase {
  /** The first, mask-A convolution; absent when the first LSTM layer reads the image itself. */
  readonly input: Conv2D | null;
  readonly layers: RowLSTMLayer[];
  readonly output: OutputStack;

  constructor(config: ModelConfig) {
    super(config);
    const { hidden, firstKernel, kernel, residual, outputHidden } = config;
    const colours = this.colours;
    const features = layerFeatures(config);
    this.input =
      firstKernel > 0 ? maskedConv(this.params, 'input', firstKernel, firstKernel, 'A', { in: colours, out: features, colours }) : null;
    this.layers = Array.from({ length: config.layers }, (_, l) => {
      const readsImage = l === 0 && !this.input;
      const inFeatures = readsImage ? colours : features;
      return new RowLSTMLayer(this.params, `lstm${l}`, kernel, { inFeatures, hidden, colours, readsImage, residual, classes: this.classes });
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
