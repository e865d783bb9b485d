/**
 * The gradient of the state-to-state kernel K^ss, summed over every step of the scan in one dispatch:
 *
 *   δK[d, ci, co] = Σ_{t ≥ 1, b, s} h_{t−1}[b, s + d − pad, ci] · δgates_t[b, s, co]
 *
 * One thread per kernel entry, reading h from the forward record R [T, B, S, 6h] and δgates from the backward
 * one D [T, B, S, 5h]. Replaces TF.js's naive Conv2DBackpropFilter over a reshaped copy of both.
 */
import { FlatProgram } from './program';
import { SCAN_FIELDS } from './lstm-step';

export class LstmKernelGradProgram extends FlatProgram {
  shaderKey = 'pixelLabLstmKernelGrad';
  variableNames = ['R', 'D'];

  /** `kernelShape` as K^ss is stored ([1, k, h, 4h] or [2, 1, h, 4h]). */
  constructor(kernelShape: number[]) {
    super(kernelShape, kernelShape.reduce((a, b) => a * b, 1), SCAN_FIELDS);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let h = uniforms.units;
        let co = index % (4 * h);
        let ci = (index / (4 * h)) % h;
        let d = index / (4 * h * h);
        var sum = 0.0;
        for (var t = 1; t < uniforms.steps; t++) {
          for (var b = 0; b < uniforms.batch; b++) {
            let prev = ((t - 1) * uniforms.batch + b) * uniforms.span;
            let here = (t * uniforms.batch + b) * uniforms.span;
            for (var s = 0; s < uniforms.span; s++) {
              let s2 = s + d - uniforms.pad;
              if (s2 < 0 || s2 >= uniforms.span) { continue; }
              sum += R[((prev + s2) * 6 + 5) * h + ci] * D[(here + s) * 5 * h + co];
            }
          }
        }
        result[index] = sum;
      }
    `;
  }
}
