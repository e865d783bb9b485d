/**
 * Both of Adam's moments of one variable in one dispatch, kept packed in one buffer of 2n values (m, then v):
 *   m' = β1 · m + (1 − β1) · g,   v' = β2 · v + (1 − β2) · g²
 * One thread a value of the packed output: TF.js computes the same as ten ops.
 */
import { FlatProgram } from './program';

export class AdamMomentsProgram extends FlatProgram {
  shaderKey = 'pixelLabAdamMoments';
  variableNames = ['MV', 'G'];

  /** `n` values in the variable; the output is [2n]. */
  constructor(n: number) {
    super([2 * n], 2 * n, ['n', 'beta1 : f32', 'beta2 : f32']);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        if (index < uniforms.n) {
          result[index] = uniforms.beta1 * MV[index] + (1.0 - uniforms.beta1) * G[index];
        } else {
          let g = G[index - uniforms.n];
          result[index] = uniforms.beta2 * MV[index] + (1.0 - uniforms.beta2) * g * g;
        }
      }
    `;
  }
}
