/**
 * The gradient of a fused convolution's bias, δb[o] = Σ_{b, y, x} δz[b, y, x, o] (δz = δy ⊙ [y > 0] after a
 * ReLU), in one dispatch (TF.js: Step, Multiply, and a Sum that may transpose first). One thread per feature.
 */
import { CONV_FIELDS } from './conv-geometry';
import { FlatProgram } from './program';

export class ConvBiasGradProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(features: number, private readonly reluOut: boolean) {
    super([features], features, CONV_FIELDS);
    this.shaderKey = `pixelLabConvBiasGrad_${+reluOut}`;
    this.variableNames = ['DY', ...(reluOut ? ['Y'] : [])];
  }

  getUserCode(): string {
    return `
      fn main(o : i32) {
        if (o >= uniforms.count) { return; }
        let nOut = uniforms.nOut;
        var sum = 0.0;
        for (var p = 0; p < uniforms.batch * uniforms.height * uniforms.width; p++) {
          ${this.reluOut ? 'if (Y[p * nOut + o] <= 0.0) { continue; }' : ''}
          sum += DY[p * nOut + o];
        }
        result[o] = sum;
      }
    `;
  }
}
