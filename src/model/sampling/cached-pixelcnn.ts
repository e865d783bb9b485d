/**
 * Cached sampling for PixelCNN (Ramachandran et al. 2017): each layer's activations are kept, and a new pixel
 * costs one pixel's worth of every layer — its k×k taps on the rows above were computed once for the whole row.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PixelCNN, ResidualBlock } from '../pixelcnn';
import { CausalConvCache, classBias, IncrementalStepper, outputStackAt, plusClass, pointwise, type SampleImages } from './stepper';

export class CachedPixelCNN extends IncrementalStepper {
  private readonly input: CausalConvCache;
  private readonly layers: CausalConvCache[];
  /** Conditional models: the class bias V·h of the input convolution and of each layer's, per image. */
  private readonly inputClass: tf.Tensor2D | null;
  private readonly layerClass: (tf.Tensor2D | null)[];

  constructor(
    private readonly model: PixelCNN,
    images: SampleImages,
    classes: Int32Array | null = null,
  ) {
    super(model.head, images);
    const { count, width } = images;
    this.input = new CausalConvCache(model.input, count, width);
    this.layers = model.layers.map((layer) => new CausalConvCache(layer.conv, count, width));
    this.inputClass = classBias(model.inputClass, classes);
    this.layerClass = model.layers.map((layer) => classBias(layer.convClass, classes));
  }

  protected beginRow(): void {
    for (const cache of [this.input, ...this.layers]) cache.nextRow();
  }

  protected storeInput(i: number, j: number): void {
    this.input.put(j, this.inputAt(i, j));
  }

  protected pixel(i: number, j: number): tf.Tensor {
    this.storeInput(i, j);
    let h: tf.Tensor = plusClass(this.input.at(j), this.inputClass);
    if (!this.model.config.residual) h = tf.relu(h);
    this.model.layers.forEach((layer, l) => {
      const cache = this.layers[l];
      if (layer instanceof ResidualBlock) {
        cache.put(j, tf.relu(pointwise(layer.down, tf.relu(h))));
        h = tf.add(h, pointwise(layer.up, tf.relu(plusClass(cache.at(j), this.layerClass[l]))));
      } else {
        cache.put(j, h);
        h = tf.relu(plusClass(cache.at(j), this.layerClass[l]));
      }
    });
    return outputStackAt(this.model.output, h);
  }

  dispose(): void {
    for (const cache of [this.input, ...this.layers]) cache.dispose();
    tf.dispose([this.inputClass, ...this.layerClass].filter((t) => t !== null) as tf.Tensor[]);
  }
}
