/**
 * The LSTM scan on WebGPU in a handful of dispatches: forward one a step (LstmStepProgram) plus one to gather
 * the states; backward one a step (LstmBackStepProgram) plus one to gather δgates and one for δK^ss — against
 * about thirty small TF.js ops a step unfused. The math is layers.ts's `lstmRecurrence`, which routes here when
 * the backend is webgpu and K^ss spans only the positions of one slice (Row LSTM's 1×k, the Diagonal BiLSTM's 2×1).
 *
 * Registered as two TF.js kernels for the webgpu backend and joined by `tf.customGrad`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { LstmBackStepProgram } from './lstm-back-step';
import { LstmGatherProgram } from './lstm-gather';
import { LstmKernelGradProgram } from './lstm-kernel-grad';
import { LstmStepProgram } from './lstm-step';
import { fusedEnabled, intUniforms } from './program';

export const LSTM_SCAN = 'PixelLabLstmScan';
export const LSTM_SCAN_GRAD = 'PixelLabLstmScanGrad';

/** The scan axis (1: rows, 2: columns) and where K^ss's first tap sits relative to the position it feeds. */
export interface ScanAttrs {
  readonly axis: 1 | 2;
  readonly pad: number;
}

interface Geometry {
  batch: number;
  steps: number;
  span: number;
  units: number;
  taps: number;
  mapHeight: number;
  mapWidth: number;
}

function geometry(mapShape: number[], kernelShape: number[], axis: 1 | 2): Geometry {
  const [batch, mapHeight, mapWidth] = mapShape;
  return {
    batch,
    steps: axis === 1 ? mapHeight : mapWidth,
    span: axis === 1 ? mapWidth : mapHeight,
    units: kernelShape[2],
    taps: kernelShape[0] * kernelShape[1],
    mapHeight,
    mapWidth,
  };
}

/** Values of SCAN_FIELDS for step t. */
function scanValues(g: Geometry, attrs: ScanAttrs, step: number): number[] {
  const [tStride, sStride] = attrs.axis === 1 ? [g.mapWidth, 1] : [1, g.mapWidth];
  return [g.batch, g.steps, g.span, g.units, g.taps, attrs.pad, tStride, sStride, g.mapHeight * g.mapWidth, step];
}

function gather(backend: WebGPUBackend, record: TensorInfo, g: Geometry, axis: 1 | 2, width: number, first: number, channels: number): TensorInfo {
  const shape = [g.batch, g.mapHeight, g.mapWidth, channels];
  const program = new LstmGatherProgram(shape);
  const values = [g.batch, g.span, channels, width, first, g.mapWidth, g.mapHeight * g.mapWidth, axis === 1 ? 1 : 0];
  return backend.runWebGPUProgram(program, [record], 'float32', intUniforms(shape.reduce((a, b) => a * b, 1), values));
}

function forward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const { gates, kernel } = inputs as { gates: TensorInfo; kernel: TensorInfo };
  const a = attrs as unknown as ScanAttrs;
  const g = geometry(gates.shape, kernel.shape, a.axis);
  const record = gpu.makeTensorInfo([g.steps, g.batch, g.span, 6 * g.units], 'float32');
  const count = g.batch * g.span * g.units;
  for (let t = 0; t < g.steps; t++) {
    gpu.runWebGPUProgram(new LstmStepProgram(record.shape, count), [gates, kernel], 'float32', intUniforms(count, scanValues(g, a, t)), record);
  }
  const states = gather(gpu, record, g, a.axis, 6 * g.units, 5 * g.units, g.units);
  return [states, record];
}

function backward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo[] {
  const gpu = backend as WebGPUBackend;
  const { dy, record, kernel } = inputs as { dy: TensorInfo; record: TensorInfo; kernel: TensorInfo };
  const a = attrs as unknown as ScanAttrs;
  const g = geometry(dy.shape, kernel.shape, a.axis);
  const grads = gpu.makeTensorInfo([g.steps, g.batch, g.span, 5 * g.units], 'float32');
  const count = g.batch * g.span * g.units;
  for (let t = g.steps - 1; t >= 0; t--) {
    gpu.runWebGPUProgram(new LstmBackStepProgram(grads.shape, count), [dy, record, kernel], 'float32', intUniforms(count, scanValues(g, a, t)), grads);
  }
  const dGates = gather(gpu, grads, g, a.axis, 5 * g.units, 0, 4 * g.units);
  const kernelCount = kernel.shape.reduce((x, y) => x * y, 1);
  const dKernel = gpu.runWebGPUProgram(new LstmKernelGradProgram(kernel.shape), [record, grads], 'float32', intUniforms(kernelCount, scanValues(g, a, 0)));
  gpu.disposeData(grads.dataId);
  return [dGates, dKernel];
}

/** Register the two kernels for the webgpu backend (once). */
export function registerLstmScanKernels(): void {
  if (!tf.getKernel(LSTM_SCAN, 'webgpu')) tf.registerKernel({ kernelName: LSTM_SCAN, backendName: 'webgpu', kernelFunc: forward as tf.KernelFunc });
  if (!tf.getKernel(LSTM_SCAN_GRAD, 'webgpu')) tf.registerKernel({ kernelName: LSTM_SCAN_GRAD, backendName: 'webgpu', kernelFunc: backward as tf.KernelFunc });
}

/**
 * The states h of every slice, [B, H, W, h], of an LSTM scanned along `axis` of `gatesIn` (K^is ⊛ x, [B, H, W, 4h])
 * with state-to-state kernel `kernel`, whose taps lie across the scan (shape [1, k, h, 4h] for rows, [k, 1, h, 4h]
 * for columns) starting `pad` positions before the one they feed. The current backend must be webgpu.
 */
export function webgpuLstmScan(gatesIn: tf.Tensor4D, kernel: tf.Tensor4D, attrs: ScanAttrs): tf.Tensor4D {
  registerLstmScanKernels();
  const scan = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [gates, k, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const [states, record] = tf.engine().runKernel(LSTM_SCAN, { gates, kernel: k }, attrs as never) as tf.Tensor[];
    save([record, k]);
    return {
      value: states,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [rec, savedKernel] = saved;
        return tf.engine().runKernel(LSTM_SCAN_GRAD, { dy, record: rec, kernel: savedKernel }, attrs as never) as tf.Tensor[];
      },
    };
  });
  return scan(gatesIn, kernel) as tf.Tensor4D;
}

/**
 * The attributes of the fused scan for a state-to-state kernel of this geometry along `axis`, or null when its
 * taps are not all within one slice (then the unfused path runs).
 */
export function fusedScanAttrs(geometry: { rows: number; cols: number; cy: number; cx: number }, axis: 1 | 2): ScanAttrs | null {
  if (!fusedEnabled()) return null;
  if (axis === 1 && geometry.rows === 1) return { axis, pad: geometry.cx };
  if (axis === 2 && geometry.cols === 1) return { axis, pad: geometry.cy };
  return null;
}
