/**
 * Adam's step on one variable in one dispatch, from its moments already updated (MomentProgram):
 *   result = V − lr · (M / c1) / (sqrt(S / c2) + ε),   c1 = 1 − β1^t, c2 = 1 − β2^t
 * — TF.js's AdamOptimizer computes the same as seven ops.
 */
import { FlatProgram } from './program';

export class AdamUpdateProgram extends FlatProgram {
  shaderKey = 'pixelLabAdamUpdate';
  variableNames = ['V', 'M', 'S'];

  constructor(shape: number[]) {
    super(shape, shape.reduce((a, b) => a * b, 1), ['rate : f32', 'c1 : f32', 'c2 : f32', 'eps : f32']);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let m = M[index] / uniforms.c1;
        let s = S[index] / uniforms.c2;
        result[index] = V[index] - uniforms.rate * (m / (sqrt(s) + uniforms.eps));
      }
    `;
  }
}
