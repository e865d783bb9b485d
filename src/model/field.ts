/**
 * Structural dependency fields: for every position of a feature map and every colour group of its features,
 * the exact set of input elements (pixel × colour channel) it can depend on, whatever the weights. A model
 * computes its field by walking its own layers in this algebra — a convolution unions the fields under its
 * kernel's allowed taps, an elementwise op or a residual add unions its operands, a recurrence scans — so the
 * field follows from the same kernels and masks the forward pass uses.
 *
 * Each cell holds a bitset over the D = H·W·C input elements, indexed (i·W + j)·C + c.
 */
import { type KernelGeometry, maskAllows } from './masks';

export class DepField {
  /** 32-bit words per bitset. */
  readonly words: number;

  private constructor(
    readonly height: number,
    readonly width: number,
    /** Colour groups per position (= the image's channels). */
    readonly groups: number,
    readonly bits: Uint32Array,
  ) {
    this.words = Math.ceil((height * width * groups) / 32);
  }

  private static empty(height: number, width: number, groups: number): DepField {
    const words = Math.ceil((height * width * groups) / 32);
    return new DepField(height, width, groups, new Uint32Array(height * width * groups * words));
  }

  /** A field sent over as its bits (from the worker that built the model to the panel that draws it). */
  static fromBits(height: number, width: number, groups: number, bits: Uint32Array): DepField {
    const field = new DepField(height, width, groups, bits);
    if (bits.length !== height * width * groups * field.words) throw new Error(`a ${height}×${width}×${groups} field needs ${height * width * groups * field.words} words, got ${bits.length}`);
    return field;
  }

  /** The image itself: element (i, j, c) depends on itself only. */
  static ofImage(height: number, width: number, channels: number): DepField {
    const f = DepField.empty(height, width, channels);
    for (let e = 0; e < height * width * channels; e++) f.bits[e * f.words + (e >>> 5)] |= 1 << (e & 31);
    return f;
  }

  private offset(i: number, j: number, g: number): number {
    return ((i * this.width + j) * this.groups + g) * this.words;
  }

  private orInto(out: DepField, to: number, from: number): void {
    for (let w = 0; w < this.words; w++) out.bits[to + w] |= this.bits[from + w];
  }

  private similar(): DepField {
    return DepField.empty(this.height, this.width, this.groups);
  }

  /** A convolution: each output group gathers the input groups its kernel connects, at the allowed taps. */
  conv(g: KernelGeometry): DepField {
    const out = this.similar();
    const { height: H, width: W, groups: G } = this;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let gOut = 0; gOut < G; gOut++) {
          const to = out.offset(i, j, gOut);
          for (let y = 0; y < g.rows; y++) {
            const ii = i + y - g.cy;
            if (ii < 0 || ii >= H) continue;
            for (let x = 0; x < g.cols; x++) {
              const jj = j + x - g.cx;
              if (jj < 0 || jj >= W) continue;
              for (let gIn = 0; gIn < G; gIn++) {
                if (maskAllows(g.mask, y, x, g.cy, g.cx, gIn, gOut)) this.orInto(out, to, this.offset(ii, jj, gIn));
              }
            }
          }
        }
      }
    }
    return out;
  }

  /** Elementwise combination (sum, product, gating): depends on whatever either operand depends on. */
  union(other: DepField): DepField {
    const out = this.similar();
    for (let k = 0; k < this.bits.length; k++) out.bits[k] = this.bits[k] | other.bits[k];
    return out;
  }

  /** The map moved down one row: (i, j) takes what (i − 1, j) had; the top row depends on nothing. */
  shiftDown(): DepField {
    const out = this.similar();
    const rowWords = this.width * this.groups * this.words;
    out.bits.set(this.bits.subarray(0, (this.height - 1) * rowWords), rowWords);
    return out;
  }

  /** The map mirrored left–right (the bitsets keep naming the original input elements). */
  mirrorWidth(): DepField {
    const out = this.similar();
    const cell = this.groups * this.words;
    for (let i = 0; i < this.height; i++) {
      for (let j = 0; j < this.width; j++) {
        const from = this.offset(i, j, 0);
        out.bits.set(this.bits.subarray(from, from + cell), out.offset(i, this.width - 1 - j, 0));
      }
    }
    return out;
  }

  /**
   * A recurrence over the map: state(p) = this(p) ∪ ⋃ state(p + d) over the offsets d and all colour groups of
   * the neighbour (state-to-state kernels are unmasked). Every offset must point to an earlier position in raster
   * order, which is the order the states are computed in.
   */
  scan(offsets: readonly (readonly [number, number])[]): DepField {
    for (const [dy, dx] of offsets) {
      if (dy > 0 || (dy === 0 && dx >= 0)) throw new Error(`scan offset (${dy}, ${dx}) is not earlier in raster order`);
    }
    const out = this.similar();
    out.bits.set(this.bits);
    const { height: H, width: W, groups: G } = this;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (const [dy, dx] of offsets) {
          const ii = i + dy;
          const jj = j + dx;
          if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
          for (let gOut = 0; gOut < G; gOut++) {
            for (let gIn = 0; gIn < G; gIn++) out.orInto(out, out.offset(i, j, gOut), out.offset(ii, jj, gIn));
          }
        }
      }
    }
    return out;
  }

  /** Whether the feature group `g` at (i, j) depends on input element (ii, jj, c). */
  has(i: number, j: number, g: number, ii: number, jj: number, c: number): boolean {
    const e = (ii * this.width + jj) * this.groups + c;
    return (this.bits[this.offset(i, j, g) + (e >>> 5)] & (1 << (e & 31))) !== 0;
  }

  /** The dependencies of output (i, j, channel c) as an H·W·C array of 0/1 in input-element order. */
  dependencies(i: number, j: number, c: number): Uint8Array {
    const D = this.height * this.width * this.groups;
    const out = new Uint8Array(D);
    const base = this.offset(i, j, c);
    for (let e = 0; e < D; e++) out[e] = (this.bits[base + (e >>> 5)] >>> (e & 31)) & 1;
    return out;
  }
}
