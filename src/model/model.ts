/** What every model offers: logits for every pixel and channel, its dependency field, its parameters. */
import * as tf from '@tensorflow/tfjs-core';
// The modular TF.js core registers no gradients by itself; training and gradient maps need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { assertValidConfig, classCount, type ModelConfig } from './config';
import { DepField } from './field';
import { createHead, type Head } from './heads';
import { oneHotClasses } from './layers';
import { ParamStore } from './params';

export interface PixelModel {
  readonly config: ModelConfig;
  readonly head: Head;
  readonly params: ParamStore;
  /**
   * Logits of p(x_ijc | x_<ijc) for every pixel and channel of images x [B, H, W, C] holding pixel values
   * 0 … levels − 1: [B, H, W, C] (Bernoulli) or [B, H, W, C, L]. H may be less than the configured height: row i
   * of the output depends on rows ≤ i only, which is what row-cropped sampling relies on.
   * `classes`: the class (0 … K − 1) of each image, required by a class-conditional model and refused by others.
   */
  logits(x: tf.Tensor4D, classes?: ArrayLike<number>): tf.Tensor;
  /** The number of classes it is conditioned on: 0 for an unconditional model. */
  readonly classes: number;
  /** Which input elements each output can depend on, from the architecture alone (exact, weight-independent). */
  field(): DepField;
  dispose(): void;
}

export abstract class PixelModelBase implements PixelModel {
  readonly params: ParamStore;
  readonly head: Head;
  protected readonly colours: number;
  readonly classes: number;
  private fieldCache: DepField | null = null;

  constructor(readonly config: ModelConfig) {
    assertValidConfig(config);
    this.params = new ParamStore(config.seed);
    this.head = createHead(config.head);
    this.colours = config.image.channels;
    this.classes = classCount(config);
  }

  logits(x: tf.Tensor4D, classes?: ArrayLike<number>): tf.Tensor {
    const { height, width, channels } = this.config.image;
    const [b, h, w, c] = x.shape;
    if (w !== width || c !== channels || h < 1 || h > height) {
      throw new Error(`model expects images [B, ≤${height}, ${width}, ${channels}], got [${x.shape}]`);
    }
    const labels = checkClasses(this.classes, classes, b);
    return tf.tidy(() => this.forward(this.head.encode(x), labels && oneHotClasses(labels, this.classes)));
  }

  /** The network from encoded input to logits; `h` the images' one-hot classes [B, K] (null: unconditional). */
  protected abstract forward(input: tf.Tensor4D, h: tf.Tensor2D | null): tf.Tensor;

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

/** The classes of a batch of `count` images, checked against a model with `classes` classes (0: unconditional). */
export function checkClasses(classes: number, given: ArrayLike<number> | undefined, count: number): Int32Array | null {
  if (classes === 0) {
    if (given !== undefined) throw new Error('this model is not class-conditional: it takes no classes');
    return null;
  }
  if (given === undefined) throw new Error(`this model is class-conditional (${classes} classes): it needs the class of each image`);
  if (given.length !== count) throw new Error(`${given.length} classes for ${count} images: give one class per image`);
  const labels = Int32Array.from(given);
  labels.forEach((k, n) => {
    if (!Number.isInteger(given[n]) || k < 0 || k >= classes) throw new Error(`class ${given[n]} (image ${n}) is not one of the model's classes 0 … ${classes - 1}`);
  });
  return labels;
}
