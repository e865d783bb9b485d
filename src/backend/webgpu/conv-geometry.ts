/**
 * What the fused convolution programs share: the geometry of a stride-1 convolution that keeps the map's size,
 * passed as uniforms, and its causal mask computed in WGSL from that geometry (src/model/masks.ts's rule), so the
 * mask is neither a tensor to read nor a multiply to dispatch.
 *
 *   out[b, y, x, o] = Σ_{ky, kx, c} in[b, y + ky − top, x + kx − left, c] · K[ky, kx, c, o] · M[ky, kx, c, o]
 *
 * (`top`, `left`: the tap that reads the output's own position, plus any shift of the input; positions outside
 * the map read zero). M is 1 everywhere for an unmasked kernel; for mask A / B it is 1 above the centre row and
 * left of the centre on it, 0 right of and below the centre, and at the centre connects colour group g to g'
 * only if g < g' (A) or g ≤ g' (B), a feature's group being ⌊((f mod perChunk) · colours) / perChunk⌋.
 *
 * The input map and the addend are read through f32(): TF.js's webgpu backend casts bool to float32 without a
 * copy, so a binary image arrives as its integer buffer.
 */
import type { MaskType } from '../../model/masks';

export interface ConvGeometry {
  /** Kernel rows and columns as stored. */
  readonly rows: number;
  readonly cols: number;
  /** The tap that reads the output's own position (the mask's centre). */
  readonly cy: number;
  readonly cx: number;
  readonly mask: MaskType;
  /** Rows the input is shifted down before the convolution (Gated PixelCNN's vertical-to-horizontal link: 1). */
  readonly shiftDown: number;
  /** Colour groups, and the features of one gate block in the input / output (features / chunks). */
  readonly colours: number;
  readonly inPerChunk: number;
  readonly outPerChunk: number;
}

/** Uniform fields of every conv program, after `count`. */
export const CONV_FIELDS = ['batch', 'height', 'width', 'nIn', 'nOut', 'rows', 'cols', 'top', 'left', 'maskType', 'cy', 'cx', 'colours', 'inPer', 'outPer'];

/** The values of CONV_FIELDS for input map [B, H, W, nIn] and `nOut` output features. */
export function convValues(g: ConvGeometry, mapShape: number[], nOut: number): number[] {
  const [batch, height, width, nIn] = mapShape;
  const maskType = { none: 0, A: 1, B: 2 }[g.mask];
  return [batch, height, width, nIn, nOut, g.rows, g.cols, g.cy + g.shiftDown, g.cx, maskType, g.cy, g.cx, g.colours, g.inPerChunk, g.outPerChunk];
}

/**
 * WGSL: pxTapMode(ky, kx) — 0 every input feature reaches every output feature through this tap, 1 none does,
 * 2 the colour rule decides (pxCentreAllows(c, o)).
 */
export const MASK_WGSL = `
  fn pxTapMode(ky : i32, kx : i32) -> i32 {
    if (uniforms.maskType == 0 || ky < uniforms.cy || (ky == uniforms.cy && kx < uniforms.cx)) { return 0; }
    if (ky > uniforms.cy || kx > uniforms.cx) { return 1; }
    return 2;
  }
  fn pxGroup(f : i32, per : i32) -> i32 { return ((f % per) * uniforms.colours) / per; }
  fn pxCentreAllows(c : i32, o : i32) -> bool {
    let gIn = pxGroup(c, uniforms.inPer);
    let gOut = pxGroup(o, uniforms.outPer);
    if (uniforms.maskType == 1) { return gIn < gOut; }
    return gIn <= gOut;
  }
  fn pxAllows(ky : i32, kx : i32, c : i32, o : i32) -> bool {
    let mode = pxTapMode(ky, kx);
    return mode == 0 || (mode == 2 && pxCentreAllows(c, o));
  }
`;

/**
 * WGSL for threads that work on four consecutive features f … f + 3 at once (the last block of a layer may
 * hold fewer): pxLive(f, n) is 1 for each that exists, pxCentreMask(c, o, live) the centre tap's mask from input
 * feature c to outputs o … o + 3 (pxCentreMaskIn: from inputs c … c + 3 to output o), and pxRead4<Name>(at,
 * live) reads four consecutive values of input Name.
 */
export function blockWgsl(...arrays: string[]): string {
  const reads = arrays.map(
    (name) => `
    fn pxRead4${name}(at : i32, live : vec4<f32>) -> vec4<f32> {
      if (live.w != 0.0) { return vec4<f32>(f32(${name}[at]), f32(${name}[at + 1]), f32(${name}[at + 2]), f32(${name}[at + 3])); }
      var v = vec4<f32>(0.0);
      for (var j = 0; j < 4; j++) {
        if (live[j] != 0.0) { v[j] = f32(${name}[at + j]); }
      }
      return v;
    }`,
  );
  return `
    fn pxLive(f : i32, n : i32) -> vec4<f32> {
      return select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<i32>(f, f + 1, f + 2, f + 3) < vec4<i32>(n));
    }
    fn pxCentreMask(c : i32, o : i32, live : vec4<f32>) -> vec4<f32> {
      var m = vec4<f32>(0.0);
      for (var j = 0; j < 4; j++) {
        if (live[j] != 0.0 && pxCentreAllows(c, o + j)) { m[j] = 1.0; }
      }
      return m;
    }
    fn pxCentreMaskIn(c : i32, o : i32, live : vec4<f32>) -> vec4<f32> {
      var m = vec4<f32>(0.0);
      for (var j = 0; j < 4; j++) {
        if (live[j] != 0.0 && pxCentreAllows(c + j, o)) { m[j] = 1.0; }
      }
      return m;
    }
    ${reads.join('\n')}
  `;
}
