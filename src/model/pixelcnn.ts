/**
 * PixelCNN — van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks" (2016), §3.4, Figure 5.
 *
 *   h⁰   = Conv_A^{7×7}(x)                                                  2h features
 *   hˡ   = hˡ⁻¹ + Conv^{1×1}( ReLU(Conv_B^{3×3}( ReLU(Conv^{1×1}( ReLU(hˡ⁻¹) )) )) )   2h → h → h → 2h
 *   out  = Conv_B^{1×1}( ReLU(Conv_B^{1×1}( ReLU(hᴸ) )) )
 *
 * Without residual connections a layer is hˡ = ReLU(Conv_B^{3×3}(hˡ⁻¹)) on h features. Every 1×1 is mask B too,
 * so the R → G → B order within a pixel holds to the output.
 *
 * Every layer sees only the rows above and the pixels to its left, so the stack is causal — but a masked 3×3
 * reaches one pixel up-right per layer at most, so pixels above and to the right beyond that diagonal are never
 * seen however deep the stack: the blind spot, which Gated PixelCNN removes.
 *
 * Class-conditional (`classes` > 0): V·h, a learned bias per class (h the image's one-hot class), is added to
 * the pre-activations of the first convolution and of every layer's k×k convolution, as Conditional PixelCNN
 * (van den Oord et al. 2016, §2.3) adds it to every layer: `input-class`, `block{l}/conv-class`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layerFeatures, type ModelConfig } from './config';
import type { DepField } from './field';
import { addClass, type ClassEmbedding, classEmbedding, type Conv2D, maskedConv, OutputStack } from './layers';
import { PixelModelBase } from './model';
import type { ParamStore } from './params';

/** 2h → ReLU → 1×1 → h → ReLU → k×k (mask B) → h → ReLU → 1×1 → 2h, added to its input. */
export class ResidualBlock {
  readonly down: Conv2D;
  readonly conv: Conv2D;
  readonly up: Conv2D;
  /** V·h added to the k×k convolution (conditional models only). */
  readonly convClass: ClassEmbedding | null;

  constructor(params: ParamStore, name: string, h: number, k: number, colours: number, classes: number) {
    this.down = maskedConv(params, `${name}/down`, 1, 1, 'B', { in: 2 * h, out: h, colours });
    this.conv = maskedConv(params, `${name}/conv`, k, k, 'B', { in: h, out: h, colours });
    this.convClass = classEmbedding(params, `${name}/conv-class`, classes, h);
    this.up = maskedConv(params, `${name}/up`, 1, 1, 'B', { in: h, out: 2 * h, colours });
  }

  apply(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor4D {
    const a = this.down.apply(x, { reluIn: true, reluOut: true });
    // A conditional model adds its class bias before the ReLU (one op more); else the ReLU is in the convolution.
    const b = this.convClass ? tf.relu(addClass(this.conv.apply(a), this.convClass, classes)) : this.conv.apply(a, { reluOut: true });
    return this.up.apply(b, { add: x });
  }

  field(x: DepField): DepField {
    return x.union(this.up.field(this.conv.field(this.down.field(x))));
  }
}

/** h → k×k (mask B) → ReLU → h. */
export class PlainLayer {
  readonly conv: Conv2D;
  readonly convClass: ClassEmbedding | null;

  constructor(params: ParamStore, name: string, h: number, k: number, colours: number, classes: number) {
    this.conv = maskedConv(params, `${name}/conv`, k, k, 'B', { in: h, out: h, colours });
    this.convClass = classEmbedding(params, `${name}/conv-class`, classes, h);
  }

  apply(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor4D {
    return this.convClass ? tf.relu(addClass(this.conv.apply(x), this.convClass, classes)) : this.conv.apply(x, { reluOut: true });
  }

  field(x: DepField): DepField {
    return this.conv.field(x);
  }
}

export class PixelCNN extends PixelModelBase {
  readonly input: Conv2D;
  readonly inputClass: ClassEmbedding | null;
  readonly layers: (ResidualBlock | PlainLayer)[];
  readonly output: OutputStack;

  constructor(config: ModelConfig) {
    super(config);
    const { hidden: h, firstKernel, kernel: k, residual, outputHidden } = config;
    const features = layerFeatures(config);
    const colours = this.colours;
    this.input = maskedConv(this.params, 'input', firstKernel, firstKernel, 'A', { in: colours, out: features, colours });
    this.inputClass = classEmbedding(this.params, 'input-class', this.classes, features);
    this.layers = Array.from({ length: config.layers }, (_, l) =>
      residual
        ? new ResidualBlock(this.params, `block${l}`, h, k, colours, this.classes)
        : new PlainLayer(this.params, `layer${l}`, h, k, colours, this.classes),
    );
    this.output = new OutputStack(this.params, features, outputHidden, this.head.outputFeatures(colours), colours);
  }

  protected forward(x: tf.Tensor4D, classes: tf.Tensor2D | null): tf.Tensor {
    let h: tf.Tensor4D;
    if (this.inputClass) {
      h = addClass(this.input.apply(x), this.inputClass, classes);
      if (!this.config.residual) h = tf.relu(h);
    } else {
      h = this.input.apply(x, { reluOut: !this.config.residual });
    }
    for (const layer of this.layers) h = layer.apply(h, classes);
    return this.head.toLogits(this.output.apply(h), this.colours);
  }

  protected propagateField(image: DepField): DepField {
    let f = this.input.field(image);
    for (const layer of this.layers) f = layer.field(f);
    return this.output.field(f);
  }
}
