/** The first test images of a data set (the split training uses), for the panel's dataset card and completion. */
import type { Experiment } from '../experiment/types';
import { splitImages } from './batches';
import type { ImageBatch } from './images';

export function testImageSubset(images: ImageBatch, e: Experiment, count = 16): ImageBatch {
  const split = splitImages(images.count, e.data.testFraction, e.data.seed);
  const size = images.height * images.width * images.channels;
  const n = Math.min(count, split.test.length);
  const data = new Uint8Array(n * size);
  for (let k = 0; k < n; k++) data.set(images.data.subarray(split.test[k] * size, (split.test[k] + 1) * size), k * size);
  return { data, count: n, height: images.height, width: images.width, channels: images.channels };
}
