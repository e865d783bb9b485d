/**
 * The first test images of a data set (the split training uses) for the panel's dataset card, completion and the
 * inspector: their bytes, and their values exactly as evaluation encodes them (the same seeded stochastic
 * binarisation, the same threshold or quantisation) — what the model is scored on, so what it should be shown.
 * With `labels` (the whole set's, a class-conditional experiment's), each test image's label comes too.
 */
import type { Experiment } from '../experiment/types';
import { experimentBatches } from './batches';
import type { ImageBatch } from './images';

export function testImageSubset(images: ImageBatch, e: Experiment, count = 16, labels?: Uint8Array): ImageBatch & { readonly values: Uint8Array } {
  const set = { images: images.data, count: images.count, height: images.height, width: images.width, channels: images.channels, ...(images.testCount ? { testCount: images.testCount } : {}), ...(labels ? { labels } : {}) };
  const batches = experimentBatches(e, set);
  const test = batches.split.test;
  const size = images.height * images.width * images.channels;
  const n = Math.min(count, test.length);
  const data = new Uint8Array(n * size);
  for (let k = 0; k < n; k++) data.set(images.data.subarray(test[k] * size, (test[k] + 1) * size), k * size);
  const values = Uint8Array.from(batches.heldOut('test', 0, n));
  const shownLabels = labels ? { labels: Uint8Array.from(batches.heldOutLabels('test', 0, n)) } : {};
  return { data, count: n, height: images.height, width: images.width, channels: images.channels, values, ...shownLabels };
}
