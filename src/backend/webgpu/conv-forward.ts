/**
 * A masked convolution with everything around it in one dispatch (TF.js: mask multiply, Conv2D, bias add, ReLUs,
 * residual add — up to six):
 *
 *   y = act(conv(pre(x), K ⊙ M) + bias) + add,   pre, act ∈ {identity, ReLU}
 *
 * One thread per position and block of four output features: each input value read serves four outputs, and
 * taps the mask zeroes are skipped, not multiplied by zero.
 */
import { blockWgsl, CONV_FIELDS, MASK_WGSL } from './conv-geometry';
import { FlatProgram } from './program';

export interface ConvOptions {
  readonly reluIn: boolean;
  readonly reluOut: boolean;
  readonly bias: boolean;
  readonly add: boolean;
}

export class ConvProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(outShape: number[], private readonly options: ConvOptions) {
    const nOut = outShape[3];
    super(outShape, (outShape.reduce((a, b) => a * b, 1) / nOut) * Math.ceil(nOut / 4), CONV_FIELDS);
    const { reluIn, reluOut, bias, add } = options;
    this.shaderKey = `pixelLabConv_${+reluIn}${+reluOut}${+bias}${+add}`;
    this.variableNames = ['X', 'W', ...(bias ? ['Bias'] : []), ...(add ? ['Addend'] : [])];
  }

  getUserCode(): string {
    const { reluIn, reluOut, bias, add } = this.options;
    return `
      ${MASK_WGSL}
      ${blockWgsl('W', ...(bias ? ['Bias'] : []), ...(add ? ['Addend'] : []))}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let nIn = uniforms.nIn;
        let nOut = uniforms.nOut;
        let blocks = (nOut + 3) / 4;
        let o = (index % blocks) * 4;
        let p = index / blocks;
        let x = p % uniforms.width;
        let y = (p / uniforms.width) % uniforms.height;
        let b = p / (uniforms.width * uniforms.height);
        let live = pxLive(o, nOut);
        var sum = vec4<f32>(0.0);
        for (var ky = 0; ky < uniforms.rows; ky++) {
          let iy = y + ky - uniforms.top;
          if (iy < 0 || iy >= uniforms.height) { continue; }
          for (var kx = 0; kx < uniforms.cols; kx++) {
            let ix = x + kx - uniforms.left;
            let mode = pxTapMode(ky, kx);
            if (ix < 0 || ix >= uniforms.width || mode == 1) { continue; }
            let xAt = ((b * uniforms.height + iy) * uniforms.width + ix) * nIn;
            let wAt = (ky * uniforms.cols + kx) * nIn * nOut + o;
            for (var c = 0; c < nIn; c++) {
              let v = ${reluIn ? 'max(f32(X[xAt + c]), 0.0)' : 'f32(X[xAt + c])'};
              if (v == 0.0) { continue; }
              var w = pxRead4W(wAt + c * nOut, live);
              if (mode == 2) { w = w * pxCentreMask(c, o, live); }
              sum += v * w;
            }
          }
        }
        ${bias ? 'sum += pxRead4Bias(o, live);' : ''}
        ${reluOut ? 'sum = max(sum, vec4<f32>(0.0));' : ''}
        let at = p * nOut + o;
        ${add ? 'sum += pxRead4Addend(at, live);' : ''}
        for (var j = 0; j < 4; j++) {
          if (live[j] != 0.0) { result[at + j] = sum[j]; }
        }
      }
    `;
  }
}
