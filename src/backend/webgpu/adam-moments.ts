/**
 * Adam's moments of several variables (up to ADAM_MOMENTS_INPUTS) in one dispatch, written in place into the
 * optimiser's state buffer, where each variable i keeps m then v (2·nᵢ values from offset offᵢ):
 *   m' = β1 · m + (1 − β1) · g,   v' = β2 · v + (1 − β2) · g²
 * One thread a gradient value: thread t belongs to gradient j when start_j ≤ t < start_{j+1}. TF.js computes
 * the same as ten ops a variable.
 */
import { FlatProgram } from './program';

/** Gradients one dispatch reads (with the state buffer, within the default limit of 8 storage buffers). */
export const ADAM_MOMENTS_INPUTS = 6;

export class AdamMomentsProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  /** `stateShape` [2·Σn] of the whole state; `count` the values of the k gradients together. */
  constructor(stateShape: number[], count: number, private readonly k: number) {
    const fields = Array.from({ length: k }, (_, j) => [`start${j}`, `off${j}`, `n${j}`]).flat();
    super(stateShape, count, ['beta1 : f32', 'beta2 : f32', ...fields]);
    this.variableNames = Array.from({ length: k }, (_, j) => `G${j}`);
    this.shaderKey = `pixelLabAdamMoments${k}`;
  }

  getUserCode(): string {
    const pick = (j: number) => `e = index - uniforms.start${j}; g = G${j}[e]; off = uniforms.off${j}; n = uniforms.n${j};`;
    const chain = Array.from({ length: this.k }, (_, j) =>
      j === this.k - 1 ? `{ ${pick(j)} }` : `if (index < uniforms.start${j + 1}) { ${pick(j)} } else `,
    ).join('');
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        var e = 0;
        var g = 0.0;
        var off = 0;
        var n = 0;
        ${chain}
        let m = off + e;
        let v = off + n + e;
        result[m] = uniforms.beta1 * result[m] + (1.0 - uniforms.beta1) * g;
        result[v] = uniforms.beta2 * result[v] + (1.0 - uniforms.beta2) * g * g;
      }
    `;
  }
}
