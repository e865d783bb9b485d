/**
 * Adam's step on one variable in one dispatch, from its moments already updated (AdamMomentsProgram: m and v
 * of this variable at offset `off` of the state buffer MV):
 *   result = V − lr · (m / c1) / (sqrt(v / c2) + ε),   c1 = 1 − β1^t, c2 = 1 − β2^t
 * — TF.js's AdamOptimizer computes the same as seven ops.
 */
import { FlatProgram } from './program';

export class AdamUpdateProgram extends FlatProgram {
  shaderKey = 'pixelLabAdamUpdate';
  variableNames = ['V', 'MV'];

  constructor(shape: number[]) {
    super(shape, shape.reduce((a, b) => a * b, 1), ['off', 'rate : f32', 'c1 : f32', 'c2 : f32', 'eps : f32']);
    // count is also n: v starts n after m.
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let m = MV[uniforms.off + index] / uniforms.c1;
        let s = MV[uniforms.off + uniforms.count + index] / uniforms.c2;
        result[index] = V[index] - uniforms.rate * (m / (sqrt(s) + uniforms.eps));
      }
    `;
  }
}
