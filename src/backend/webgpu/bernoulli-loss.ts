/**
 * The training loss of a Bernoulli head — the mean over the batch of −log p(x) in nats per dimension,
 *
 *   L = −(1/N) Σ [l·x − softplus(l)],   softplus(l) = max(l, 0) + log(1 + e^−|l|),   N = B·H·W·C
 *
 * — in one dispatch (TF.js: about twelve ops), and its gradient δl = δL · (σ(l) − x) / N in one (about fifteen).
 * The forward pass is one workgroup whose threads each sum every 64th value, then add up in workgroup memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ACTIVATIONS, FlatProgram, intUniforms, WORKGROUP } from './program';

export const BERNOULLI_LOSS = 'PixelLabBernoulliLoss';

export class BernoulliLossProgram extends FlatProgram {
  shaderKey = 'pixelLabBernoulliLoss';
  variableNames = ['L', 'X'];

  constructor() {
    super([], WORKGROUP, ['values']);
  }

  getUserCode(): string {
    return `
      var<workgroup> pxPartial : array<f32, ${WORKGROUP}>;
      fn main(index : i32) {
        let lane = i32(localIndex);
        var sum = 0.0;
        for (var k = lane; k < uniforms.values; k += ${WORKGROUP}) {
          let l = L[k];
          sum += l * f32(X[k]) - (max(l, 0.0) + log(1.0 + exp(-abs(l))));
        }
        pxPartial[lane] = sum;
        workgroupBarrier();
        for (var s = ${WORKGROUP / 2}; s > 0; s = s / 2) {
          if (lane < s) { pxPartial[lane] += pxPartial[lane + s]; }
          workgroupBarrier();
        }
        if (lane == 0) { result[0] = -pxPartial[0] / f32(uniforms.values); }
      }
    `;
  }
}

export class BernoulliLossGradProgram extends FlatProgram {
  shaderKey = 'pixelLabBernoulliLossGrad';
  variableNames = ['DY', 'L', 'X'];

  constructor(shape: number[]) {
    super(shape, shape.reduce((a, b) => a * b, 1), []);
  }

  getUserCode(): string {
    return `
      ${ACTIVATIONS}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        result[index] = DY[0] * (pxSigmoid(L[index]) - f32(X[index])) / f32(uniforms.count);
      }
    `;
  }
}

function forward({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const { logits, x } = inputs as { logits: TensorInfo; x: TensorInfo };
  const values = logits.shape.reduce((a, b) => a * b, 1);
  return (backend as WebGPUBackend).runWebGPUProgram(new BernoulliLossProgram(), [logits, x], 'float32', intUniforms(WORKGROUP, [values]));
}

function gradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Record<string, () => tf.Tensor> {
  const [logits, x] = saved;
  return {
    logits: () => {
      const backend = tf.backend() as unknown as WebGPUBackend;
      const info = backend.runWebGPUProgram(new BernoulliLossGradProgram(logits.shape), [dy as tf.Tensor, logits, x], 'float32', intUniforms(logits.size, []));
      return tf.engine().makeTensorFromTensorInfo(info);
    },
    // Not needed to train (x is data); given for completeness: ∂L/∂x = −l / N.
    x: () => tf.mul(logits, tf.div(tf.neg(dy as tf.Tensor), logits.size)),
  };
}

export function registerBernoulliLossKernel(): void {
  if (!tf.getKernel(BERNOULLI_LOSS, 'webgpu')) tf.registerKernel({ kernelName: BERNOULLI_LOSS, backendName: 'webgpu', kernelFunc: forward as tf.KernelFunc });
  if (!tf.getGradient(BERNOULLI_LOSS)) tf.registerGradient({ kernelName: BERNOULLI_LOSS, inputsToSave: ['logits', 'x'], gradFunc: gradient });
}

/** The mean Bernoulli NLL per dimension of logits against binary images x (same shape), on the webgpu backend. */
export function webgpuBernoulliLoss(logits: tf.Tensor, x: tf.Tensor): tf.Scalar {
  registerBernoulliLossKernel();
  return tf.engine().runKernel(BERNOULLI_LOSS, { logits, x }) as tf.Scalar;
}
