/**
 * One forward step of an LSTM scanned along a map (Row LSTM: rows; Diagonal BiLSTM: skewed columns), in one
 * dispatch: the state-to-state convolution over the previous slice's h, the input-to-state gates added, the
 * cell (§3.1 of the PixelRNN paper):
 *
 *   [o, f, i, g] = [σ, σ, σ, tanh](K^ss ⊛ h_{t−1} + gatesIn_t),   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 *
 * The output is the scan's record [T, B, S, 6h] (T slices along the scan axis, S positions across it): per
 * position σo, σf, σi, tanh g, c, h — what the next step and the backward pass read. Step t writes slice t and
 * reads slice t − 1 of that same buffer (the output binding is read-write), so the whole scan is one dispatch a
 * step and nothing is copied between steps.
 *
 * K^ss is [taps along the slice, h, 4h] (a 1×k kernel for rows, 2×1 for columns): tap d of position s reads
 * h_{t−1} at s + d − pad.
 */
import { ACTIVATIONS, FlatProgram } from './program';

/** The fields of a scan's geometry, in the order `scanUniforms` gives their values. */
export const SCAN_FIELDS = ['batch', 'steps', 'span', 'units', 'taps', 'pad', 'tStride', 'sStride', 'bStride', 'step'];

export class LstmStepProgram extends FlatProgram {
  shaderKey = 'pixelLabLstmStep';
  variableNames = ['G', 'K'];

  constructor(recordShape: number[], count: number) {
    super(recordShape, count, SCAN_FIELDS);
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
        var a = vec4<f32>(G[at * 4 * h + j], G[at * 4 * h + h + j], G[at * 4 * h + 2 * h + j], G[at * 4 * h + 3 * h + j]);
        var cPrev = 0.0;
        if (t > 0) {
          let prev = (t - 1) * uniforms.batch + b;
          for (var d = 0; d < uniforms.taps; d++) {
            let s2 = s + d - uniforms.pad;
            if (s2 < 0 || s2 >= uniforms.span) { continue; }
            let hAt = ((prev * uniforms.span + s2) * 6 + 5) * h;
            for (var ci = 0; ci < h; ci++) {
              let hv = result[hAt + ci];
              let k = (d * h + ci) * 4 * h + j;
              a += hv * vec4<f32>(K[k], K[k + h], K[k + 2 * h], K[k + 3 * h]);
            }
          }
          cPrev = result[((prev * uniforms.span + s) * 6 + 4) * h + j];
        }
        let o = pxSigmoid(a.x);
        let f = pxSigmoid(a.y);
        let i = pxSigmoid(a.z);
        let g = pxTanh(a.w);
        let c = f * cPrev + i * g;
        let dst = ((t * uniforms.batch + b) * uniforms.span + s) * 6 * h + j;
        result[dst] = o;
        result[dst + h] = f;
        result[dst + 2 * h] = i;
        result[dst + 3 * h] = g;
        result[dst + 4 * h] = c;
        result[dst + 5 * h] = o * pxTanh(c);
      }
    `;
  }
}
