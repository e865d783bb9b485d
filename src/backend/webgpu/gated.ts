/**
 * Gated PixelCNN's gate, tanh(a) ⊙ σ(b) of the two halves of the features, in one dispatch (TF.js: two slices,
 * tanh, σ, a product), and its gradient in one (TF.js: about nine ops):
 *   δa = δy ⊙ σ(b) ⊙ (1 − tanh²a),   δb = δy ⊙ tanh(a) ⊙ σ(b) ⊙ (1 − σ(b))
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ACTIVATIONS, FlatProgram, intUniforms } from './program';

/** y = tanh(a) ⊙ σ(b), X = [a | b] along the last axis ([…, 2C] → […, C]). */
export class GateProgram extends FlatProgram {
  shaderKey = 'pixelLabGate';
  variableNames = ['X'];

  constructor(outShape: number[]) {
    super(outShape, outShape.reduce((a, b) => a * b, 1), ['half']);
  }

  getUserCode(): string {
    return `
      ${ACTIVATIONS}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let c = uniforms.half;
        let at = (index / c) * 2 * c + index % c;
        result[index] = pxTanh(X[at]) * pxSigmoid(X[at + c]);
      }
    `;
  }
}

/** [δa | δb] from δy ([…, C]) and X = [a | b] ([…, 2C]). */
export class GateGradProgram extends FlatProgram {
  shaderKey = 'pixelLabGateGrad';
  variableNames = ['DY', 'X'];

  constructor(inShape: number[]) {
    super(inShape, inShape.reduce((a, b) => a * b, 1), ['half']);
  }

  getUserCode(): string {
    return `
      ${ACTIVATIONS}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let c = uniforms.half;
        let k = index % (2 * c);
        let row = index / (2 * c);
        let j = k % c;
        let t = pxTanh(X[row * 2 * c + j]);
        let s = pxSigmoid(X[row * 2 * c + c + j]);
        let dy = DY[row * c + j];
        if (k < c) {
          result[index] = dy * s * (1.0 - t * t);
        } else {
          result[index] = dy * t * s * (1.0 - s);
        }
      }
    `;
  }
}

function run(program: FlatProgram, inputs: tf.Tensor[], half: number): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const count = program.outputShape.reduce((a, b) => a * b, 1);
  return tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(program, inputs, 'float32', intUniforms(count, [half])));
}

/** tanh(a) ⊙ σ(b) of the two halves of x's last axis, on the webgpu backend. */
export function webgpuGate(x: tf.Tensor): tf.Tensor {
  const half = x.shape[x.rank - 1] / 2;
  const gate = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([input]);
    return {
      value: run(new GateProgram([...input.shape.slice(0, -1), half]), [input], half),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(new GateGradProgram(saved[0].shape), [dy, saved[0]], half),
    };
  });
  return gate(x);
}
