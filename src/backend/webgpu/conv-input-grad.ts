/**
 * The gradient of a fused convolution (conv-forward.ts) with respect to its input x, in one dispatch (TF.js: the
 * ReLU's Step and Multiply, a naive Conv2DBackpropInput under 32 channels, the mask multiply):
 *
 *   δz = δy ⊙ [y > 0] (ReLU after) or δy
 *   δx[b, iy, ix, c] = [x > 0] (ReLU before) · Σ_{ky, kx, o} δz[b, iy − ky + top, ix − kx + left, o] · K[ky, kx, c, o] · M
 *
 * One thread per position and block of four input features: each δz read serves four of them.
 */
import { blockWgsl, CONV_FIELDS, MASK_WGSL } from './conv-geometry';
import { FlatProgram } from './program';

export class ConvInputGradProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(inShape: number[], private readonly reluIn: boolean, private readonly reluOut: boolean) {
    const nIn = inShape[3];
    super(inShape, (inShape.reduce((a, b) => a * b, 1) / nIn) * Math.ceil(nIn / 4), CONV_FIELDS);
    this.shaderKey = `pixelLabConvInputGrad_${+reluIn}${+reluOut}`;
    this.variableNames = ['DY', 'W', ...(reluIn ? ['X'] : []), ...(reluOut ? ['Y'] : [])];
  }

  getUserCode(): string {
    return `
      ${MASK_WGSL}
      ${blockWgsl(...(this.reluIn ? ['X'] : []))}
      fn main(index : i32) {
        if (index >= uniforms.count) { return; }
        let nIn = uniforms.nIn;
        let nOut = uniforms.nOut;
        let blocks = (nIn + 3) / 4;
        let c = (index % blocks) * 4;
        let p = index / blocks;
        let ix = p % uniforms.width;
        let iy = (p / uniforms.width) % uniforms.height;
        let b = p / (uniforms.width * uniforms.height);
        let live = pxLive(c, nIn);
        var sum = vec4<f32>(0.0);
        for (var ky = 0; ky < uniforms.rows; ky++) {
          let y = iy - ky + uniforms.top;
          if (y < 0 || y >= uniforms.height) { continue; }
          for (var kx = 0; kx < uniforms.cols; kx++) {
            let x = ix - kx + uniforms.left;
            let mode = pxTapMode(ky, kx);
            if (x < 0 || x >= uniforms.width || mode == 1) { continue; }
            let dyAt = ((b * uniforms.height + y) * uniforms.width + x) * nOut;
            let wAt = ((ky * uniforms.cols + kx) * nIn + c) * nOut;
            for (var o = 0; o < nOut; o++) {
              let dz = DY[dyAt + o];
              if (dz == 0.0${this.reluOut ? ' || Y[dyAt + o] <= 0.0' : ''}) { continue; }
              var w = vec4<f32>(0.0);
              for (var j = 0; j < 4; j++) {
                if (live[j] != 0.0) { w[j] = W[wAt + j * nOut + o]; }
              }
              if (mode == 2) { w = w * pxCentreMaskIn(c, o, live); }
              sum += dz * w;
            }
          }
        }
        let at = p * nIn + c;
        ${this.reluIn ? 'sum = select(vec4<f32>(0.0), sum, pxRead4X(at, live) > vec4<f32>(0.0));' : ''}
        for (var j = 0; j < 4; j++) {
          if (live[j] != 0.0) { result[at + j] = sum[j]; }
        }
      }
    `;
  }
}
