/**
 * What the cached-sampling programs share (sample-*.ts). Sampling keeps every activation of the network in one
 * float32 **workspace** on the GPU, which each program updates in place (it is the program's read-write output
 * binding), and every weight in one packed **weights** tensor (W), so that a program binds two buffers whatever
 * the layer. Maps are stored [H][W][N][F]: a row of every image together.
 *
 * One workgroup computes one position (i, j) of one image n: its threads share the position's features
 * (`var<workgroup>` arrays) and move from stage to stage at a barrier — e.g. a residual block's 3×3 convolution,
 * then its 1×1 up and the next block's 1×1 down, in one dispatch. Workgroups p = 0 … positions − 1 take columns
 * j0 + p / N, images p % N: one pixel (positions = N) while sampling, a whole row (positions = W·N) for rows that
 * are given or for the Gated PixelCNN's vertical stack.
 *
 * Sizes and offsets are written into the WGSL as constants, and the shader key carries them all, so TF.js's
 * pipeline cache (keyed by shader key and ranks) never mixes two configurations; per call only the row, first
 * column and the like travel as uniforms.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu/dist/webgpu_program';
import { ACTIVATIONS } from './program';

export const THREADS = 64;

/** Where a map lives in the workspace and its size. */
export interface MapRef {
  readonly at: number;
  readonly features: number;
}

/** The image shape and image count every program of one sampler shares. */
export interface Grid {
  readonly count: number;
  readonly height: number;
  readonly width: number;
}

/** A convolution as the programs see it: geometry, feature counts, and where its kernel and bias are in W. */
export interface PackedConv {
  readonly rows: number;
  readonly cols: number;
  readonly cy: number;
  readonly cx: number;
  /** Taps right of the centre on the centre row are skipped (masked convolutions). */
  readonly masked: boolean;
  readonly nIn: number;
  readonly nOut: number;
  readonly kernelAt: number;
  readonly biasAt: number;
}

export abstract class SampleProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[] = ['W'];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms: string;

  /** `key`: everything the WGSL text depends on; `uniforms`: per-call i32 fields. */
  constructor(workspaceSize: number, positions: number, key: string, uniforms: string[]) {
    this.outputShape = [workspaceSize];
    this.shaderKey = `pixelLabSample_${key}`;
    this.dispatch = [positions, 1, 1];
    this.uniforms = uniforms.map((u) => (u.includes(':') ? `${u},` : `${u} : i32,`)).join(' ');
  }

  abstract getUserCode(): string;
}

export type Uniform = { type: 'int32' | 'float32'; data: number[] };

/** The values of i32 uniform fields, in their declared order. */
export function ints(...values: number[]): Uniform[] {
  return values.map((v) => ({ type: 'int32', data: [v] }));
}

/** Run a sampling program on the workspace, in place. */
export function runInPlace(program: SampleProgram, workspace: tf.Tensor, inputs: tf.Tensor[], uniforms: Uniform[]): void {
  const backend = tf.backend() as unknown as WebGPUBackend;
  backend.runWebGPUProgram(program, inputs, 'float32', uniforms, workspace);
}

/** WGSL shared by every sampling program: which position a workgroup has, σ and tanh, the gate. */
export function preamble(grid: Grid): string {
  return `
    ${ACTIVATIONS}
    const COUNT = ${grid.count};
    const WIDTH = ${grid.width};
    const HEIGHT = ${grid.height};
    const THREADS = ${THREADS};
    fn workgroupIndex() -> i32 {
      return i32(workgroupId.x + workgroupId.y * numWorkgroups.x + workgroupId.z * numWorkgroups.x * numWorkgroups.y);
    }
    fn lane() -> i32 { return i32(localId.x); }
    /** Index of feature f at (i, j) of image n in a map of \`features\` features at \`at\`. */
    fn mapIndex(at : i32, features : i32, i : i32, j : i32, n : i32, f : i32) -> i32 {
      return at + ((i * WIDTH + j) * COUNT + n) * features + f;
    }
  `;
}

/**
 * WGSL `fn name(i, j, n, o) -> f32`: output feature o of a stride-1 convolution at (i, j) of image n, reading
 * the map `input` (zero outside the image), bias included.
 */
export function convFunction(name: string, conv: PackedConv, input: MapRef): string {
  const lastOnCentre = conv.masked ? conv.cx : conv.cols - 1;
  return `
    fn ${name}(i : i32, j : i32, n : i32, o : i32) -> f32 {
      var acc = W[${conv.biasAt} + o];
      for (var y = 0; y < ${conv.rows}; y++) {
        let r = i - ${conv.cy} + y;
        if (r < 0 || r >= HEIGHT) { continue; }
        var last = ${conv.cols - 1};
        if (y == ${conv.cy}) { last = ${lastOnCentre}; }
        for (var x = 0; x <= last; x++) {
          let col = j - ${conv.cx} + x;
          if (col < 0 || col >= WIDTH) { continue; }
          let inAt = mapIndex(${input.at}, ${input.features}, r, col, n, 0);
          let wAt = ${conv.kernelAt} + (y * ${conv.cols} + x) * ${conv.nIn * conv.nOut} + o;
          for (var k = 0; k < ${conv.nIn}; k++) {
            acc += result[inAt + k] * W[wAt + k * ${conv.nOut}];
          }
        }
      }
      return acc;
    }
  `;
}

/** WGSL `fn name(o) -> f32`: output o of a 1×1 convolution of the workgroup array `source`, bias included. */
export function pointwiseFunction(name: string, conv: PackedConv, source: string, reluInput = false): string {
  const x = reluInput ? `max(${source}[k], 0.0)` : `${source}[k]`;
  return `
    fn ${name}(o : i32) -> f32 {
      var acc = W[${conv.biasAt} + o];
      for (var k = 0; k < ${conv.nIn}; k++) {
        acc += ${x} * W[${conv.kernelAt} + k * ${conv.nOut} + o];
      }
      return acc;
    }
  `;
}

/** The constant text of a convolution, for shader keys. */
export function convKey(conv: PackedConv): string {
  return [conv.rows, conv.cols, conv.cy, conv.cx, conv.masked ? 1 : 0, conv.nIn, conv.nOut, conv.kernelAt, conv.biasAt].join('.');
}
