/**
 * The bookkeeping of the incremental samplers that compute in plain JavaScript (the recurrent models): pixels
 * are computed in raster order; asking for a pixel further on first computes every pixel in between (completion
 * starts below rows that were given, not drawn), and a row starts once every pixel above it is final.
 *
 * Nothing a model computes at a pixel depends on the pixel's own last channel (mask A), so a pixel's activations
 * are final once its last channel is asked for; its image values are read from the images whenever a later
 * pixel needs them.
 */
import type { Head } from '../heads';
import type { PixelStepper, SampleImages } from './stepper';

export abstract class CpuIncrementalStepper implements PixelStepper {
  /** Pixels (raster index) whose activations are final. */
  private final = 0;
  /** The row whose context the state holds. */
  private row = -1;

  constructor(protected readonly images: SampleImages) {}

  async logitsAt(i: number, j: number, c: number): Promise<Float32Array> {
    const { width, channels } = this.images;
    const p = i * width + j;
    while (this.final < p) {
      this.compute(Math.floor(this.final / width), this.final % width);
      this.final++;
    }
    const logits = this.compute(i, j);
    if (c === channels - 1) this.final = p + 1;
    return logits;
  }

  private compute(i: number, j: number): Float32Array {
    for (; this.row < i; this.row++) this.beginRow(this.row + 1);
    return this.pixel(i, j);
  }

  /** Prepare row i: every value of rows < i is final. */
  protected abstract beginRow(i: number): void;

  /** The logits of pixel (i, j), [N, C·L] (or [N, C] for Bernoulli), updating the state at (i, j). */
  protected abstract pixel(i: number, j: number): Float32Array;

  dispose(): void {}
}

/** The head's encoding of a pixel value as plain arithmetic, rounded as TF.js's float32 ops round it. */
export function encoder(head: Head): (v: number) => number {
  if (head.config.kind === 'bernoulli') return (v) => v;
  const scale = Math.fround(2 / (head.levels - 1));
  return (v) => Math.fround(Math.fround(v * scale) - 1);
}
