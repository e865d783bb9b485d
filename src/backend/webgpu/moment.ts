/**
 * An optimiser's running average in one dispatch: result = decay · A + (1 − decay) · G^power (power 1 or 2) —
 * Adam's first and second moments, RMSProp's mean square. TF.js computes it as five ops.
 */
import { FlatProgram } from './program';

export class MomentProgram extends FlatProgram {
  shaderKey: string;
  variableNames = ['A', 'G'];

  constructor(shape: number[], private readonly power: 1 | 2) {
    super(shape, shape.reduce((a, b) => a * b, 1), ['decay : f32']);
    this.shaderKey = `pixelLabMoment${power}`;
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let g = G[index];
        result[index] = uniforms.decay * A[index] + (1.0 - uniforms.decay) * ${this.power === 2 ? 'g * g' : 'g'};
      }
    `;
  }
}
