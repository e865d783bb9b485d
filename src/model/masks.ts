/**
 * The causal masks of PixelRNN / PixelCNN (van den Oord et al. 2016, §3.4).
 *
 * The features at each position are split into one group per colour channel (R, G, B; a single group for
 * one-channel images). A masked kernel connects
 *   - every position above the centre row, and left of the centre on the centre row, fully;
 *   - the centre position from input group g to output group g' only if g < g' (mask A) or g ≤ g' (mask B);
 *   - nothing right of the centre on the centre row, nothing below it.
 * Mask A is used in the first layer only (it hides the pixel being predicted); mask B everywhere after, so the
 * R → G → B order holds all the way to the output.
 */

export type MaskType = 'A' | 'B' | 'none';

/**
 * Colour group of each of `features` features. The features are cut into `colours` contiguous groups; when a
 * layer's output is `chunks` gate blocks stacked along the feature axis (an LSTM's o, f, i, g; a gated unit's
 * tanh and sigmoid halves) every block is cut the same way, so that the gates of one unit share its group.
 */
export function colourGroups(features: number, colours: number, chunks = 1): Int32Array {
  if (features % chunks !== 0) throw new Error(`${features} features cannot form ${chunks} equal gate blocks`);
  const perChunk = features / chunks;
  if (perChunk < colours) {
    throw new Error(`${perChunk} features cannot be split into ${colours} colour groups`);
  }
  const groups = new Int32Array(features);
  for (let f = 0; f < features; f++) groups[f] = Math.floor(((f % perChunk) * colours) / perChunk);
  return groups;
}

/** Whether the kernel tap (y, x), centred at (cy, cx), connects input group gIn to output group gOut. */
export function maskAllows(type: MaskType, y: number, x: number, cy: number, cx: number, gIn: number, gOut: number): boolean {
  if (type === 'none') return true;
  if (y < cy) return true;
  if (y > cy) return false;
  if (x < cx) return true;
  if (x > cx) return false;
  return type === 'A' ? gIn < gOut : gIn <= gOut;
}

/** Where a kernel's taps sit relative to the output position: its size and the tap that lies on the output. */
export interface KernelGeometry {
  readonly rows: number;
  readonly cols: number;
  /** Kernel tap (cy, cx) reads the input at the output's own position. */
  readonly cy: number;
  readonly cx: number;
  readonly mask: MaskType;
}

/** The 0/1 mask of a kernel in TF.js layout [rows, cols, in, out]. */
export function buildMask(geometry: KernelGeometry, inGroups: Int32Array, outGroups: Int32Array): Float32Array {
  const { rows, cols, cy, cx, mask } = geometry;
  const nIn = inGroups.length;
  const nOut = outGroups.length;
  const m = new Float32Array(rows * cols * nIn * nOut);
  let k = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      for (let i = 0; i < nIn; i++) {
        for (let o = 0; o < nOut; o++) m[k++] = maskAllows(mask, y, x, cy, cx, inGroups[i], outGroups[o]) ? 1 : 0;
      }
    }
  }
  return m;
}

/**
 * The geometry of a k_h × k_w masked convolution as it is stored. Taps below the centre row, and right of the
 * centre on the centre row, are zero under every causal mask, so they are not stored: a 3×3 mask-B kernel is kept
 * as 2×3, a 7×7 mask-A kernel as 4×7 and a 1×3 kernel as 1×2 — which saves their multiply-adds too.
 */
export function causalGeometry(kh: number, kw: number, mask: MaskType): KernelGeometry {
  if (kh % 2 === 0 || kw % 2 === 0) throw new Error(`a masked kernel needs odd sizes, got ${kh}×${kw}`);
  const cy = (kh - 1) / 2;
  const cx = (kw - 1) / 2;
  if (mask === 'none') return { rows: kh, cols: kw, cy, cx, mask };
  return cy === 0 ? { rows: 1, cols: cx + 1, cy, cx, mask } : { rows: cy + 1, cols: kw, cy, cx, mask };
}

/** The zero padding that keeps the output the size of the input, for a kernel of this geometry. */
export function samePadding(g: KernelGeometry): { top: number; bottom: number; left: number; right: number } {
  return { top: g.cy, bottom: g.rows - 1 - g.cy, left: g.cx, right: g.cols - 1 - g.cx };
}
