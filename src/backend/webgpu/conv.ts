/**
 * The masked convolution of every model as one TF.js kernel on WebGPU: forward in one dispatch (conv-forward.ts),
 * and backward one dispatch per gradient the tape asks for — δx (conv-input-grad.ts), δK (conv-filter-grad.ts),
 * δbias (conv-bias-grad.ts); a residual addend's gradient is δy itself. Unfused, TF.js spends 4–6 dispatches
 * forward and 5–7 backward on the same layer.
 *
 * Registered with `registerKernel` + `registerGradient` (not `tf.customGrad`) so that the tape computes only the
 * gradients it needs: no δx for a layer that reads the image.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ConvBiasGradProgram } from './conv-bias-grad';
import { ConvFilterGradProgram } from './conv-filter-grad';
import { ConvProgram } from './conv-forward';
import { type ConvGeometry, convValues } from './conv-geometry';
import { ConvInputGradProgram } from './conv-input-grad';
import { type FlatProgram, intUniforms } from './program';

export const FUSED_CONV = 'PixelLabConv2D';

export interface FusedConvAttrs extends ConvGeometry {
  /** ReLU of the input before the convolution. */
  readonly reluIn: boolean;
  /** ReLU of the result (after the bias, before the addend). */
  readonly reluOut: boolean;
}

/** Run a conv program over input map `mapShape` with `nOut` output features. */
function runConv(backend: WebGPUBackend, program: FlatProgram, inputs: TensorInfo[], attrs: FusedConvAttrs, mapShape: number[], nOut: number): TensorInfo {
  return backend.runWebGPUProgram(program, inputs, 'float32', intUniforms(program.count, convValues(attrs, mapShape, nOut)));
}

function forward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): TensorInfo {
  const { x, kernel, bias, add } = inputs as { x: TensorInfo; kernel: TensorInfo; bias?: TensorInfo; add?: TensorInfo };
  const a = attrs as unknown as FusedConvAttrs;
  const nOut = kernel.shape[3];
  const outShape = [...x.shape.slice(0, 3), nOut];
  const program = new ConvProgram(outShape, { reluIn: a.reluIn, reluOut: a.reluOut, bias: !!bias, add: !!add });
  const programInputs = [x, kernel, ...(bias ? [bias] : []), ...(add ? [add] : [])];
  return runConv(backend as WebGPUBackend, program, programInputs, a, x.shape, nOut);
}

function gradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): Record<string, () => tf.Tensor> {
  const [x, kernel, y] = saved;
  const a = attrs as unknown as FusedConvAttrs;
  const d = dy as tf.Tensor;
  const nOut = kernel.shape[3] as number;
  const withY = a.reluOut ? [y] : [];
  const run = (program: FlatProgram, inputs: tf.Tensor[]) =>
    tf.engine().makeTensorFromTensorInfo(runConv(tf.backend() as unknown as WebGPUBackend, program, inputs, a, x.shape, nOut));
  return {
    x: () => run(new ConvInputGradProgram(x.shape, a.reluIn, a.reluOut), [d, kernel, ...(a.reluIn ? [x] : []), ...withY]),
    kernel: () => run(new ConvFilterGradProgram(kernel.shape, a.reluIn, a.reluOut), [x, d, ...withY]),
    bias: () => run(new ConvBiasGradProgram(nOut, a.reluOut), [d, ...withY]),
    add: () => d.clone(),
  };
}

/** Register the kernel for the webgpu backend and its gradient (once). */
export function registerConvKernel(): void {
  if (!tf.getKernel(FUSED_CONV, 'webgpu')) tf.registerKernel({ kernelName: FUSED_CONV, backendName: 'webgpu', kernelFunc: forward as tf.KernelFunc });
  if (!tf.getGradient(FUSED_CONV)) tf.registerGradient({ kernelName: FUSED_CONV, inputsToSave: ['x', 'kernel'], outputsToSave: [true], gradFunc: gradient });
}

/**
 * act(conv(pre(x), K ⊙ M) + bias) + add on the webgpu backend, M the causal mask `attrs` describe; x [B, H, W, nIn],
 * kernel [rows, cols, nIn, nOut]. `add` (the same shape as the result) cannot follow a ReLU: its gradient
 * would need the value before it.
 */
export function webgpuConv(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor | null, add: tf.Tensor4D | null, attrs: FusedConvAttrs): tf.Tensor4D {
  if (add && attrs.reluOut) throw new Error('a fused convolution adds its addend after the bias, not after a ReLU');
  registerConvKernel();
  const inputs: tf.NamedTensorMap = { x, kernel };
  if (bias) inputs.bias = bias;
  if (add) inputs.add = add;
  return tf.engine().runKernel(FUSED_CONV, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
