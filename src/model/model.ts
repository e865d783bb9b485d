/** What every model offers: logits for every pixel and channel, its dependency field, its parameters. */
import * as tf from '@tensorflow/tfjs-core';
// The modular TF.js core registers no gradients by itself; training and gradient maps need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { assertValidConfig, type ModelConfig } from './config';
import { DepField } from './field';
import { createHead, type Head } from './heads';
import { ParamStore } from './params';

export interface PixelModel {
  readonly config: ModelConfig;
  readonly head: Head;
  readonly params: ParamStore;
  /**
   * Logits of p(x_ijc | x_<ijc) for every pixel and channel of images x [B, H, W, C] holding pixel values
   * 0 … levels − 1: [B, H, W, C] (Bernoulli) or [B, H, W, C, L]. H may be less than the configured height: row i
   * of the output depends on rows ≤ i only, which is what row-cropped sampling relies on.
   */
  logits(x: tf.Tensor4D): tf.Tensor;
  /** Which input elements each output can depend on, from the architecture alone (exact, weight-independent). */
  field(): DepField;
  dispose(): void;
}

export abstract class PixelModelBase implements PixelModel {
  readonly params: ParamStore;
  readonly head: Head;
  protected readonly colours: number;
  private fieldCache: DepField | null = null;

  constructor(readonly config: ModelConfig) {
    assertValidConfig(config);
    this.params = new ParamStore(config.seed);
    this.head = createHead(config.head);
    this.colours = config.image.channels;
  }

  logits(x: tf.Tensor4D): tf.Tensor {
    const { height, width, channels } = this.config.image;
    const [, h, w, c] = x.shape;
    if (w !== width || c !== channels || h < 1 || h > height) {
      throw new Error(`model expects images [B, ≤${height}, ${width}, ${channels}], got [${x.shape}]`);
    }
    return tf.tidy(() => this.forward(this.head.encode(x)));
  }

  /** The network from encoded input to logits. */
  protected abstract forward(input: tf.Tensor4D): tf.Tensor;

  /** The network's dependency field, from the image's own field. */
  protected abstract propagateField(image: DepField): DepField;

  field(): DepField {
    const { height, width, channels } = this.config.image;
    this.fieldCache ??= this.propagateField(DepField.ofImage(height, width, channels));
    return this.fieldCache;
  }

  dispose(): void {
    this.params.dispose();
  }
}
