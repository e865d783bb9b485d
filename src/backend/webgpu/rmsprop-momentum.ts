/**
 * RMSProp's momentum on one variable in one dispatch, from its mean square already updated (MomentProgram):
 *   result = momentum · P + lr · G / sqrt(S + ε)
 * The variable then moves by −result (one subtraction) — TF.js's RMSPropOptimizer computes the same as seven ops.
 */
import { FlatProgram } from './program';

export class RMSPropMomentumProgram extends FlatProgram {
  shaderKey = 'pixelLabRMSPropMomentum';
  variableNames = ['P', 'G', 'S'];

  constructor(shape: number[]) {
    super(shape, shape.reduce((a, b) => a * b, 1), ['momentum : f32', 'rate : f32', 'eps : f32']);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        result[index] = uniforms.momentum * P[index] + uniforms.rate * G[index] / sqrt(S[index] + uniforms.eps);
      }
    `;
  }
}
