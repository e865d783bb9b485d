/**
 * What every Pixel Lab WebGPU program shares: TF.js's `WebGPUProgram` shape (see tfjs-backend-webgpu's
 * `webgpu_program.ts`), a flat dispatch of one thread per work item (`uniforms.count` of them, which may be fewer
 * than the output's elements: a recurrence step writes one slice of its output), and the activations written
 * as TF.js's own kernels write them, so results match its unfused ops.
 *
 * Sizes travel as uniforms, never in the WGSL text: TF.js caches pipelines by shader key and input ranks, not
 * by shape values.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu/dist/webgpu_program';

export const WORKGROUP = 64;

export abstract class FlatProgram implements WebGPUProgram {
  outputShape: number[];
  abstract shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  abstract variableNames: string[];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  /** Declared in every program: count (threads with work), then the program's own fields (i32 unless typed, 'x : f32'). */
  uniforms: string;
  /** Threads with work: the value `uniforms.count` must be given. */
  readonly count: number;

  constructor(outputShape: number[], count: number, uniforms: string[]) {
    this.outputShape = outputShape;
    this.count = count;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.max(1, Math.ceil(count / WORKGROUP)), 1, 1];
    this.uniforms = ['count : i32,', ...uniforms.map((u) => (u.includes(':') ? `${u},` : `${u} : i32,`))].join(' ');
  }

  abstract getUserCode(): string;
}

/** σ and tanh as TF.js's webgpu kernels compute them (tanh without the overflow of the textbook formula). */
export const ACTIVATIONS = `
  fn pxSigmoid(a : f32) -> f32 { return 1.0 / (1.0 + exp(-1.0 * a)); }
  fn pxTanh(a : f32) -> f32 {
    let e2x = exp(-2.0 * abs(a));
    return sign(a) * (1.0 - e2x) / (1.0 + e2x);
  }
`;

/** The uniforms of one program call: `count` first, then the values of the declared fields in order. */
export function intUniforms(count: number, values: number[]): { type: 'int32'; data: number[] }[] {
  return [count, ...values].map((v) => ({ type: 'int32' as const, data: [v] }));
}

/** Uniforms of an elementwise program: `count`, then float values. */
export function floatUniforms(count: number, values: number[]): { type: 'int32' | 'float32'; data: number[] }[] {
  return [{ type: 'int32', data: [count] }, ...values.map((v) => ({ type: 'float32' as const, data: [v] }))];
}

/** PIXEL_LAB_WEBGPU_FUSED=0 turns the fused programs off (TF.js's own ops run): for before/after counts. */
export function fusedEnabled(): boolean {
  return typeof process === 'undefined' || process.env?.PIXEL_LAB_WEBGPU_FUSED !== '0';
}
