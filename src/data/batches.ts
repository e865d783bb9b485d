/**
 * Train / test split and batches, all determined by the seed: the batch of step s is the same whether the run
 * went straight through or was stopped and resumed at s.
 */
import type { Experiment } from '../experiment/types';
import { Random } from '../model/random';
import { encodeImage, imageSeed, type PixelEncoding } from './encoding';
import type { ImageSet } from './images';

/** A seeded permutation of 0 … n − 1. */
export function permutation(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, k) => k);
  const random = new Random(seed);
  for (let k = n - 1; k > 0; k--) {
    const j = random.int(k + 1);
    [order[k], order[j]] = [order[j], order[k]];
  }
  return order;
}

export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/** A seeded split: `testFraction` of the images (at least one, and at least one left to train on) for testing. */
export function splitImages(count: number, testFraction: number, seed: number): Split {
  if (count < 2) throw new Error(`a dataset needs at least 2 images to split, it has ${count}`);
  const order = permutation(count, seed);
  const tests = Math.min(count - 1, Math.max(1, Math.round(count * testFraction)));
  return { test: order.slice(0, tests), train: order.slice(tests) };
}

export class Batches {
  private epoch = -1;
  private order: Int32Array = new Int32Array(0);
  private readonly imageSize: number;

  constructor(
    private readonly set: ImageSet,
    readonly split: Split,
    private readonly encoding: PixelEncoding,
    private readonly seed: number,
  ) {
    this.imageSize = set.height * set.width * set.channels;
  }

  /** The images' shape. */
  get shape(): { height: number; width: number; channels: 1 | 3 } {
    return { height: this.set.height, width: this.set.width, channels: this.set.channels === 3 ? 3 : 1 };
  }

  /** The batch of training step `step` (0-based): [size, H, W, C] encoded values. */
  train(step: number, size: number): Float32Array {
    const out = new Float32Array(size * this.imageSize);
    for (let k = 0; k < size; k++) {
      const { index, epoch } = this.trainImage(step * size + k);
      this.encode(index, epoch, out.subarray(k * this.imageSize, (k + 1) * this.imageSize));
    }
    return out;
  }

  /** Which image is at `position` of the training stream, and in which epoch. */
  private trainImage(position: number): { index: number; epoch: number } {
    const n = this.split.train.length;
    const epoch = Math.floor(position / n);
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.order = permutation(n, imageSeed(this.seed, epoch, -1));
    }
    return { index: this.split.train[this.order[position % n]], epoch };
  }

  /** Whether the images have class labels (what a conditional model needs). */
  get labelled(): boolean {
    return this.set.labels !== undefined;
  }

  /** The class label of each image of `train(step, size)`, in the same order. Throws when the images have no labels. */
  trainLabels(step: number, size: number): Int32Array {
    const labels = this.labels();
    return Int32Array.from({ length: size }, (_, k) => labels[this.trainImage(step * size + k).index]);
  }

  /** The class label of each image of `test(from, size)`, in the same order. Throws when the images have no labels. */
  testLabels(from: number, size: number): Int32Array {
    const labels = this.labels();
    const count = Math.max(0, Math.min(size, this.split.test.length - from));
    return Int32Array.from({ length: count }, (_, k) => labels[this.split.test[from + k]]);
  }

  private labels(): Uint8Array {
    if (!this.set.labels) throw new Error('these images have no class labels (a class-conditional model needs one per image)');
    return this.set.labels;
  }

  /** Test images `from` … `from + size − 1` (fewer at the end), encoded the same way every time. */
  test(from: number, size: number): Float32Array {
    const count = Math.max(0, Math.min(size, this.split.test.length - from));
    const out = new Float32Array(count * this.imageSize);
    for (let k = 0; k < count; k++) this.encode(this.split.test[from + k], -1, out.subarray(k * this.imageSize, (k + 1) * this.imageSize));
    return out;
  }

  private encode(index: number, epoch: number, out: Float32Array): void {
    const bytes = this.set.images.subarray(index * this.imageSize, (index + 1) * this.imageSize);
    const random = this.encoding.binarize === 'stochastic' && this.encoding.levels === 2 ? new Random(imageSeed(this.seed, epoch, index)) : null;
    encodeImage(bytes, this.encoding, random, out);
  }
}

/** An experiment's seeded split of an image set and its batches: the same in the CLI and in the panel's worker. */
export function experimentBatches(e: Experiment, set: ImageSet): Batches {
  const split = splitImages(set.count, e.data.testFraction, e.data.seed);
  return new Batches(set, split, { levels: e.data.levels, binarize: e.data.binarize, threshold: e.data.threshold }, e.training.seed);
}
