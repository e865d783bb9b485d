/**
 * Cached sampling of PixelCNN and Gated PixelCNN on WebGPU, with the draws made on the GPU: per pixel and
 * channel a handful of dispatches (one per layer, one for the output stack and the draw) and no readback; once a
 * row is done it is read back for the caller's progress and live view. The uniform numbers are drawn from the
 * same seeded generator, in the same order, as the CPU sampler's, and uploaded once, so the images are the
 * naive sampler's (up to float32 rounding of the logits, which decides a draw only when u falls within it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedEnabled } from '../../backend/webgpu/program';
import { SampleHeadProgram } from '../../backend/webgpu/sample-head';
import { ints, type MapRef, runInPlace, type SampleProgram, type Uniform } from '../../backend/webgpu/sample-program';
import { GatedPixelCNN } from '../gated-pixelcnn';
import type { PixelModel } from '../model';
import { PixelCNN } from '../pixelcnn';
import type { Random } from '../random';
import type { SampleImages } from './stepper';
import { gatedNetwork } from './webgpu-gated';
import { type WebGPUNetwork, WeightPack } from './webgpu-layout';
import { pixelCNNNetwork } from './webgpu-pixelcnn';

/** A program holds at most three feature vectors in workgroup memory (16 KiB): each at most 1,024 floats. */
const MAX_FEATURES = 1024;

/** Whether `sample` runs this model's cached sampler on the GPU here. */
export function webgpuSamplingAvailable(model: PixelModel): boolean {
  if (tf.getBackend() !== 'webgpu' || !fusedEnabled()) return false;
  if (!(model instanceof PixelCNN || model instanceof GatedPixelCNN)) return false;
  // The GPU steps carry no class embedding yet: class-conditional models take the cached path through TF.js.
  if (model.classes > 0) return false;
  const { hidden, outputHidden, head } = model.config;
  return Math.max(2 * hidden, outputHidden, head.kind === 'categorical' ? head.levels : 1) <= MAX_FEATURES;
}

export class WebGPUCachedSampler {
  private constructor(
    readonly network: WebGPUNetwork & { maps: MapRef[] },
    private readonly workspace: tf.Tensor,
    private readonly weights: tf.Tensor,
    private readonly randoms: tf.Tensor,
  ) {}

  /**
   * A sampler whose image map starts as `images` on rows < firstRow (zeros below); `randoms` are the uniform
   * numbers of the draws, in the CPU sampler's order from row firstRow on.
   */
  static create(model: PixelCNN | GatedPixelCNN, images: SampleImages, firstRow: number, randoms: Float32Array): WebGPUCachedSampler {
    const { count, height, width, channels } = images;
    const grid = { count, height, width };
    const pack = new WeightPack();
    const network = model instanceof PixelCNN ? pixelCNNNetwork(model, grid, pack) : gatedNetwork(model, grid, pack);
    const init = new Float32Array(network.layout.size);
    const { bernoulli, scale } = network.head;
    for (let i = 0; i < firstRow; i++) {
      for (let j = 0; j < width; j++) {
        for (let n = 0; n < count; n++) {
          for (let c = 0; c < channels; c++) {
            const v = images.data[((n * height + i) * width + j) * channels + c];
            init[network.image.at + ((i * width + j) * count + n) * channels + c] = bernoulli ? v : Math.fround(Math.fround(v * scale) - 1);
          }
        }
      }
    }
    const workspace = tf.tensor1d(init);
    const random = tf.tensor1d(randoms.length > 0 ? randoms : new Float32Array(1));
    return new WebGPUCachedSampler(network, workspace, pack.build(), random);
  }

  /** Prepare row i (every row above is final). */
  beginRow(i: number): void {
    this.network.beginRow(i, this.run);
  }

  /** Row i is given: what the rows below need of it. */
  givenRow(i: number): void {
    this.network.givenRow(i, this.run);
  }

  /** Pixel (i, j), channel c: the layers, the output stack and (with `draw`) the draw from randoms[randomAt …]. */
  pixel(i: number, j: number, c: number, draw: { randomAt: number; temperature: number } | null): void {
    this.network.columns(i, j, 1, this.run);
    const { layout, head } = this.network;
    const program = new SampleHeadProgram(layout.size, layout.grid, head);
    const uniforms: Uniform[] = [...ints(i, j, c, draw ? 1 : 0, draw?.randomAt ?? 0), { type: 'float32', data: [draw?.temperature ?? 1] }];
    runInPlace(program, this.workspace, [this.weights, this.randoms], uniforms);
  }

  /** Row i of the image as pixel values, [W][N][C]. */
  async imageRow(i: number): Promise<Float32Array> {
    const { image, head, layout } = this.network;
    const size = layout.grid.width * layout.grid.count * image.features;
    const encoded = await this.read(image.at + i * size, size);
    return head.bernoulli ? encoded : encoded.map((e) => Math.round((e + 1) / head.scale));
  }

  /** The logits the last pixel() computed, [N][C·L] (each channel's as of its own step). */
  logits(): Promise<Float32Array> {
    const { head, layout } = this.network;
    return this.read(head.logitsAt, layout.grid.count * head.image.features * (head.bernoulli ? 1 : head.levels));
  }

  /** A whole map, [H][W][N][F]. */
  map(ref: MapRef): Promise<Float32Array> {
    const { count, height, width } = this.network.layout.grid;
    return this.read(ref.at, height * width * count * ref.features);
  }

  dispose(): void {
    tf.dispose([this.workspace, this.weights, this.randoms]);
  }

  private readonly run = (program: SampleProgram, uniforms: Uniform[]): void => runInPlace(program, this.workspace, [this.weights], uniforms);

  /** Read a range of the workspace through a slice: reading the workspace itself would cache it on the CPU. */
  private async read(at: number, size: number): Promise<Float32Array> {
    const part = tf.slice(this.workspace, [at], [size]);
    const values = (await part.data()) as Float32Array;
    part.dispose();
    return values;
  }
}

export interface WebGPUSampleRun {
  readonly firstRow: number;
  readonly temperature: number;
  readonly rng: Random;
  readonly onRow?: (row: number, images: Uint8Array) => void | boolean | Promise<void | boolean>;
  readonly onPixel?: (i: number, j: number, images: Uint8Array) => void | Promise<void>;
}

/** Fill `view` from row firstRow on, drawing on the GPU; each finished row is read back and reported. */
export async function sampleOnWebGPU(model: PixelCNN | GatedPixelCNN, view: SampleImages, run: WebGPUSampleRun): Promise<void> {
  const { count: N, height: H, width: W, channels: C } = view;
  const { firstRow, temperature, rng } = run;
  const randoms = new Float32Array((H - firstRow) * W * C * N);
  for (let k = 0; k < randoms.length; k++) randoms[k] = rng.next();
  const sampler = WebGPUCachedSampler.create(model, view, firstRow, randoms);
  try {
    for (let i = 0; i < H; i++) {
      sampler.beginRow(i);
      if (i < firstRow) {
        sampler.givenRow(i);
        continue;
      }
      for (let j = 0; j < W; j++) {
        for (let c = 0; c < C; c++) sampler.pixel(i, j, c, { randomAt: (((i - firstRow) * W + j) * C + c) * N, temperature });
      }
      const row = await sampler.imageRow(i);
      for (let j = 0; j < W; j++) {
        for (let n = 0; n < N; n++) {
          for (let c = 0; c < C; c++) view.data[((n * H + i) * W + j) * C + c] = row[(j * N + n) * C + c];
        }
      }
      for (let j = 0; j < W; j++) await run.onPixel?.(i, j, view.data);
      if ((await run.onRow?.(i, view.data)) === false) break;
    }
  } finally {
    sampler.dispose();
  }
}
