/**
 * From image bytes to the values a model sees: binarised (levels = 2) with a fixed threshold or stochastically
 * (each pixel is 1 with probability byte / 255, drawn afresh every epoch), or quantised to L levels.
 */
import { Random } from '../model/random';

export interface PixelEncoding {
  readonly levels: number;
  readonly binarize: 'fixed' | 'stochastic';
  /** Fixed binarisation: 1 where byte / 255 ≥ threshold. */
  readonly threshold: number;
}

/** Level of a byte among L equal bins: ⌊byte · L / 256⌋. */
export function quantize(byte: number, levels: number): number {
  return Math.floor((byte * levels) / 256);
}

/**
 * The byte a level is drawn (and saved in a PNG) as, chosen so that the byte reads back as the same level.
 * 2 levels: 0 and 255 (binarised data: the only bytes that stay 0 and 1 under both the 0.5 threshold and stochastic
 * binarisation). More: the middle of the level's bin of the quantiser, bytes ⌈l·256/L⌉ … ⌈(l+1)·256/L⌉ − 1, rounded
 * down — so quantize(levelToByte(l, L), L) = l for every l, and L = 256 is the identity. (v·255/(L − 1), the old
 * rule, lands off-centre: at L = 200 it moves many levels to their neighbours.)
 */
export function levelToByte(level: number, levels: number): number {
  if (levels <= 2) return level > 0 ? 255 : 0;
  const lo = Math.ceil((level * 256) / levels);
  const hi = Math.ceil(((level + 1) * 256) / levels) - 1;
  return (lo + hi) >> 1;
}

/** The level a saved byte stands for: the inverse of levelToByte (2 levels: ≥ 128 is 1; more: the quantiser). */
export function byteToLevel(byte: number, levels: number): number {
  return levels <= 2 ? (byte >= 128 ? 1 : 0) : quantize(byte, levels);
}

/** A seed for one image in one epoch, from the run's seed. */
export function imageSeed(seed: number, epoch: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [epoch, index]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** Encode one image (bytes) into `out`; `random` is used by stochastic binarisation only. */
export function encodeImage(bytes: Uint8Array, encoding: PixelEncoding, random: Random | null, out: Float32Array): void {
  if (encoding.levels > 2) {
    for (let k = 0; k < bytes.length; k++) out[k] = quantize(bytes[k], encoding.levels);
  } else if (encoding.binarize === 'stochastic') {
    if (!random) throw new Error('stochastic binarisation needs a random source');
    for (let k = 0; k < bytes.length; k++) out[k] = random.next() < bytes[k] / 255 ? 1 : 0;
  } else {
    const cut = encoding.threshold * 255;
    for (let k = 0; k < bytes.length; k++) out[k] = bytes[k] >= cut ? 1 : 0;
  }
}
