/**
 * One backward step of the LSTM scan (backpropagation through time), in one dispatch. With δh and δc the
 * gradients reaching step t's h and c:
 *
 *   δh_t  = δy_t + (K^ss)ᵀ ⊛ δgates_{t+1}                       (the transposed state-to-state convolution)
 *   δc_t  = δh_t ⊙ o ⊙ (1 − tanh²c_t) + δc_{t+1} ⊙ f_{t+1}
 *   δgates_t = [δh ⊙ tanh c ⊙ σ'_o,  δc ⊙ c_{t−1} ⊙ σ'_f,  δc ⊙ g ⊙ σ'_i,  δc ⊙ i ⊙ (1 − g²)]
 *
 * Inputs: δy in the map's own layout [B, H, W, h], the forward record R [T, B, S, 6h] (σo, σf, σi, tanh g, c, h)
 * and K^ss [taps, h, 4h]. The output [T, B, S, 5h] holds δgates (4h) and δc (h) per position; step t writes
 * slice t and reads slice t + 1 of it, steps running from T − 1 down to 0.
 */
import { ACTIVATIONS, FlatProgram } from './program';
import { SCAN_FIELDS } from './lstm-step';

export class LstmBackStepProgram extends FlatProgram {
  shaderKey = 'pixelLabLstmBackStep';
  variableNames = ['DY', 'R', 'K'];

  constructor(gradShape: number[], count: number) {
    super(gradShape, count, SCAN_FIELDS);
  }

  getUserCode(): string {
    return `
      ${ACTIVATIONS}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let h = uniforms.units;
        let j = index % h;
        let s = (index / h) % uniforms.span;
        let b = index / (h * uniforms.span);
        let t = uniforms.step;
        let at = b * uniforms.bStride + t * uniforms.tStride + s * uniforms.sStride;
        let here = (t * uniforms.batch + b) * uniforms.span + s;
        var dh = DY[at * h + j];
        var dcNext = 0.0;
        if (t + 1 < uniforms.steps) {
          let next = (t + 1) * uniforms.batch + b;
          for (var d = 0; d < uniforms.taps; d++) {
            let s2 = s - d + uniforms.pad;
            if (s2 < 0 || s2 >= uniforms.span) { continue; }
            let gAt = (next * uniforms.span + s2) * 5 * h;
            let k = (d * h + j) * 4 * h;
            for (var co = 0; co < 4 * h; co++) {
              dh += result[gAt + co] * K[k + co];
            }
          }
          let nextHere = next * uniforms.span + s;
          dcNext = result[nextHere * 5 * h + 4 * h + j] * R[nextHere * 6 * h + h + j];
        }
        let r = here * 6 * h + j;
        let o = R[r];
        let f = R[r + h];
        let i = R[r + 2 * h];
        let g = R[r + 3 * h];
        let tanhC = pxTanh(R[r + 4 * h]);
        var cPrev = 0.0;
        if (t > 0) {
          cPrev = R[((t - 1) * uniforms.batch + b) * uniforms.span * 6 * h + s * 6 * h + 4 * h + j];
        }
        let dc = dh * o * (1.0 - tanhC * tanhC) + dcNext;
        let dst = here * 5 * h + j;
        result[dst] = dh * tanhC * o * (1.0 - o);
        result[dst + h] = dc * cPrev * f * (1.0 - f);
        result[dst + 2 * h] = dc * g * i * (1.0 - i);
        result[dst + 3 * h] = dc * i * (1.0 - g * g);
        result[dst + 4 * h] = dc;
      }
    `;
  }
}
