/**
 * The gradient of a fused convolution (conv-forward.ts) with respect to its kernel, in one dispatch (TF.js: the
 * ReLU's Step and Multiply, its naive Conv2DBackpropFilter, the mask multiply):
 *
 *   δK[ky, kx, c, o] = M · Σ_{b, y, x} pre(x)[b, y + ky − top, x + kx − left, c] · δz[b, y, x, o]
 *
 * with δz = δy ⊙ [y > 0] after a ReLU. One thread per tap, input feature and block of four output features,
 * summing over the batch and the map: each input value read serves four entries, and zeros of the input (most
 * of a ReLU's output, all of a binary image's background) are skipped. Entries the mask zeroes are written as
 * zeros without reading anything. (A workgroup per entry adding partial sums in workgroup memory was 2–3×
 * slower on SwiftShader, which pays dearly for barriers.)
 */
import { blockWgsl, CONV_FIELDS, MASK_WGSL } from './conv-geometry';
import { FlatProgram } from './program';

export class ConvFilterGradProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(kernelShape: number[], private readonly reluIn: boolean, private readonly reluOut: boolean) {
    const nOut = kernelShape[3];
    super(kernelShape, (kernelShape.reduce((a, b) => a * b, 1) / nOut) * Math.ceil(nOut / 4), CONV_FIELDS);
    this.shaderKey = `pixelLabConvFilterGrad_${+reluIn}${+reluOut}`;
    this.variableNames = ['X', 'DY', ...(reluOut ? ['Y'] : [])];
  }

  getUserCode(): string {
    return `
      ${MASK_WGSL}
      ${blockWgsl('DY', ...(this.reluOut ? ['Y'] : []))}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let nIn = uniforms.nIn;
        let nOut = uniforms.nOut;
        let blocks = (nOut + 3) / 4;
        let o = (index % blocks) * 4;
        let c = (index / blocks) % nIn;
        let tap = index / (blocks * nIn);
        let kx = tap % uniforms.cols;
        let ky = tap / uniforms.cols;
        let live = pxLive(o, nOut);
        let mode = pxTapMode(ky, kx);
        var mask = live;
        if (mode == 1) { mask = vec4<f32>(0.0); }
        if (mode == 2) { mask = pxCentreMask(c, o, live); }
        var sum = vec4<f32>(0.0);
        if (any(mask != vec4<f32>(0.0))) {
          let area = uniforms.height * uniforms.width;
          for (var p = 0; p < uniforms.batch * area; p++) {
            let x = p % uniforms.width;
            let y = (p / uniforms.width) % uniforms.height;
            let iy = y + ky - uniforms.top;
            let ix = x + kx - uniforms.left;
            if (iy < 0 || iy >= uniforms.height || ix < 0 || ix >= uniforms.width) { continue; }
            let v = f32(X[(((p / area) * uniforms.height + iy) * uniforms.width + ix) * nIn + c]);
            if (${this.reluIn ? 'v <= 0.0' : 'v == 0.0'}) { continue; }
            var dz = pxRead4DY(p * nOut + o, live);
            ${this.reluOut ? 'dz = select(vec4<f32>(0.0), dz, pxRead4Y(p * nOut + o, live) > vec4<f32>(0.0));' : ''}
            sum += v * dz;
          }
        }
        sum = sum * mask;
        let at = (tap * nIn + c) * nOut + o;
        for (var j = 0; j < 4; j++) {
          if (live[j] != 0.0) { result[at + j] = sum[j]; }
        }
      }
    `;
  }
}
