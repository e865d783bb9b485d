/**
 * Train / test split and batches, all determined by the seed: the batch of step s is the same whether the run
 * went straight through or was stopped and resumed at s.
 */
import { type Experiment, splitOf } from '../experiment/types';
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

/** Which images train, choose the best checkpoint (validation) and are tested on: indices into the image set. */
export interface Split {
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
}

/** The splits a metric can be of. */
export type SplitName = 'train' | 'validation' | 'test';

/** A seeded split: `testFraction` of the images (at least one, and at least one left to train on) for testing. */
export function splitImages(count: number, testFraction: number, seed: number): Split {
  if (count < 2) throw new Error(`a dataset needs at least 2 images to split, it has ${count}`);
  const order = permutation(count, seed);
  const tests = Math.min(count - 1, Math.max(1, Math.round(count * testFraction)));
  return { test: order.slice(0, tests), validation: new Int32Array(0), train: order.slice(tests) };
}

/** The seed of the validation choice, from the data's seed. */
const VALIDATION_SALT = 0x2545f491;

/**
 * `fraction` of the training images (at least one, and at least one left to train on; none when 0), a seeded choice,
 * held out as the validation set. The training images keep their order.
 */
export function holdOutValidation(split: Split, fraction: number, seed: number): Split {
  const pool = split.train;
  if (fraction <= 0) return split;
  if (pool.length < 2) throw new Error(`a validation set needs at least 2 training images to split, there are ${pool.length} (set data.validationFraction to 0, or use more images)`);
  const size = Math.min(pool.length - 1, Math.max(1, Math.round(pool.length * fraction)));
  const chosen = permutation(pool.length, (seed ^ VALIDATION_SALT) >>> 0).slice(0, size);
  const held = new Uint8Array(pool.length);
  chosen.forEach((k) => (held[k] = 1));
  return { test: split.test, validation: Int32Array.from(chosen, (k) => pool[k]), train: pool.filter((_, k) => !held[k]) };
}

/**
 * An experiment's split of its images. Official (`data.test`): the set's last `testCount` images are the test set
 * (loadImages appends them), the rest trains. Random: a seeded `testFraction` of the images tests. Either way a
 * seeded `validationFraction` of the training images is held out for validation.
 */
export function experimentSplit(e: Experiment, set: { readonly count: number; readonly testCount?: number }): Split {
  let split: Split;
  if (splitOf(e) === 'official') {
    const tests = set.testCount ?? 0;
    if (tests < 1) throw new Error('the experiment uses the official test set (data.test) but its images came without it: load them with loadImages');
    if (set.count - tests < 1) throw new Error(`the official split leaves no training images (${set.count - tests})`);
    const first = set.count - tests;
    split = { train: Int32Array.from({ length: first }, (_, k) => k), validation: new Int32Array(0), test: Int32Array.from({ length: tests }, (_, k) => first + k) };
  } else {
    if (set.testCount) throw new Error(`the images hold an official test set (${set.testCount} images) but the experiment's split is random`);
    split = splitImages(set.count, e.data.testFraction, e.data.seed);
  }
  return holdOutValidation(split, e.data.validationFraction ?? 0, e.data.seed);
}

export class Batches {
  private epoch = -1;
  private order: Int32Array = new Int32Array(0);
  private readonly imageSize: number;

  /**
   * `seed` seeds the training images' batch order and stochastic binarisation (training.seed); `heldOutSeed` the
   * validation and test images' binarisation (data.seed), so that runs differing only in training.seed are scored on
   * identical images.
   */
  constructor(
    private readonly set: ImageSet,
    readonly split: Split,
    private readonly encoding: PixelEncoding,
    private readonly seed: number,
    private readonly heldOutSeed: number = seed,
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
      this.encode(index, epoch, this.seed, out.subarray(k * this.imageSize, (k + 1) * this.imageSize));
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
    return this.heldOutLabels('test', from, size);
  }

  /** The class label of each image of `heldOut(split, from, size)`, in the same order. Throws when the images have no
   *  labels. */
  heldOutLabels(split: 'validation' | 'test', from: number, size: number): Int32Array {
    const labels = this.labels();
    const indices = this.split[split];
    const count = Math.max(0, Math.min(size, indices.length - from));
    return Int32Array.from({ length: count }, (_, k) => labels[indices[from + k]]);
  }

  private labels(): Uint8Array {
    if (!this.set.labels) throw new Error('these images have no class labels (a class-conditional model needs one per image)');
    return this.set.labels;
  }

  /** Test images `from` … `from + size − 1` (fewer at the end), encoded the same way every time. */
  test(from: number, size: number): Float32Array {
    return this.heldOut('test', from, size);
  }

  /** Validation or test images `from` … `from + size − 1` (fewer at the end), encoded the same way every time (the
   *  stochastic binarisation of image n seeded by data.seed and n alone). */
  heldOut(split: 'validation' | 'test', from: number, size: number): Float32Array {
    const indices = this.split[split];
    const count = Math.max(0, Math.min(size, indices.length - from));
    const out = new Float32Array(count * this.imageSize);
    for (let k = 0; k < count; k++) this.encode(indices[from + k], -1, this.heldOutSeed, out.subarray(k * this.imageSize, (k + 1) * this.imageSize));
    return out;
  }

  private encode(index: number, epoch: number, seed: number, out: Float32Array): void {
    const bytes = this.set.images.subarray(index * this.imageSize, (index + 1) * this.imageSize);
    const random = this.encoding.binarize === 'stochastic' && this.encoding.levels === 2 ? new Random(imageSeed(seed, epoch, index)) : null;
    encodeImage(bytes, this.encoding, random, out);
  }
}

/** An experiment's pixel encoding. */
export function experimentEncoding(e: Experiment): PixelEncoding {
  return { levels: e.data.levels, binarize: e.data.binarize, threshold: e.data.threshold };
}

/** An experiment's seeded split of an image set and its batches: the same in the CLI and in the panel's worker. */
export function experimentBatches(e: Experiment, set: ImageSet): Batches {
  return new Batches(set, experimentSplit(e, set), experimentEncoding(e), e.training.seed, e.data.seed);
}
