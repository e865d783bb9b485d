/**
 * Cached sampling for Gated PixelCNN (Ramachandran et al. 2017). The vertical stack only ever feeds the rows
 * below, so it runs once per row, when the row is complete; the horizontal stack runs per pixel on the cached
 * row to its left.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GatedPixelCNN } from '../gated-pixelcnn';
import { gatedActivation } from '../layers';
import { CausalConvCache, classBias, IncrementalStepper, outputStackAt, plusClass, pointwise, type SampleImages } from './stepper';

export class CachedGatedPixelCNN extends IncrementalStepper {
  private readonly horizontal: CausalConvCache[];
  /** Per layer, the last rows of its vertical convolution's input. */
  private readonly verticalInputs: tf.Tensor4D[][];
  /** Per layer and column, W_{v→h} ∗ shift↓(v̂) for the current row. */
  private links: tf.Tensor[][] = [];
  /** Conditional models: per layer, the class bias V·h of each stack, per image. */
  private readonly verticalClass: (tf.Tensor2D | null)[];
  private readonly horizontalClass: (tf.Tensor2D | null)[];

  constructor(
    private readonly model: GatedPixelCNN,
    images: SampleImages,
    classes: Int32Array | null = null,
  ) {
    super(model.head, images);
    this.horizontal = model.layers.map((layer) => new CausalConvCache(layer.horizontal, images.count, images.width));
    this.verticalInputs = model.layers.map(() => []);
    this.verticalClass = model.layers.map((layer) => classBias(layer.verticalClass, classes));
    this.horizontalClass = model.layers.map((layer) => classBias(layer.horizontalClass, classes));
  }

  protected beginRow(i: number): void {
    const { count, width } = this.images;
    for (const cache of this.horizontal) cache.nextRow();
    tf.dispose(this.links.flat());
    // Row i's horizontal stack sees the vertical stack of row i − 1 (nothing, i.e. zeros, above the image).
    let vIn: tf.Tensor4D | null = i > 0 ? this.rowInput(i - 1) : null;
    this.links = this.model.layers.map((layer, l) => {
      const [, , , pre] = layer.vertical.kernel.shape;
      let vPre: tf.Tensor4D;
      if (vIn) {
        const { rows, cols, cx } = layer.vertical.geometry;
        const kept = this.verticalInputs[l];
        kept.push(tf.keep(vIn));
        while (kept.length > rows) kept.shift()!.dispose();
        const [, , , nIn] = vIn.shape;
        const missing = rows - kept.length;
        const window = tf.concat([...(missing > 0 ? [tf.zeros([count, missing, width, nIn])] : []), ...kept], 1) as tf.Tensor4D;
        vPre = tf.conv2d(window, layer.vertical.weights(), 1, [[0, 0], [0, 0], [cx, cols - 1 - cx], [0, 0]]);
        if (layer.vertical.bias) vPre = tf.add(vPre, layer.vertical.bias);
        const vClass = this.verticalClass[l];
        if (vClass) vPre = tf.add(vPre, tf.reshape(vClass, [count, 1, 1, pre]));
        vIn = gatedActivation(vPre);
      } else {
        vPre = tf.zeros([count, 1, width, pre]);
      }
      const link = layer.verticalToHorizontal.apply(vPre);
      return tf.unstack(tf.reshape(link, [count, width, pre]), 1).map((t) => tf.keep(t));
    });
  }

  protected storeInput(i: number, j: number): void {
    this.horizontal[0].put(j, this.inputAt(i, j));
  }

  protected pixel(i: number, j: number): tf.Tensor {
    let h: tf.Tensor = this.inputAt(i, j);
    this.model.layers.forEach((layer, l) => {
      const cache = this.horizontal[l];
      cache.put(j, h);
      const out = pointwise(layer.horizontalOut, gatedActivation(plusClass(tf.add(cache.at(j), this.links[l][j]), this.horizontalClass[l])));
      h = layer.addsInput ? tf.add(h, out) : out;
    });
    return outputStackAt(this.model.output, h);
  }

  dispose(): void {
    for (const cache of this.horizontal) cache.dispose();
    tf.dispose([...this.verticalInputs.flat(), ...this.links.flat()]);
    tf.dispose([...this.verticalClass, ...this.horizontalClass].filter((t) => t !== null) as tf.Tensor[]);
  }
}
