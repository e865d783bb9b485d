/** Sample grids: images side by side in a square-ish grid, each level drawn as the middle of its quantiser bin
 *  (levelToByte: a grid read back as data keeps its levels), pixels enlarged. Pure. */
import { byteToLevel, levelToByte } from './encoding';

export interface GridOptions {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly levels: number;
  /** Pixel size (default: enough for the grid to be about 256 pixels wide). */
  readonly scale?: number;
  /** Pixels between tiles. */
  readonly gap?: number;
  /** Images per row (default: a square-ish grid); a per-class grid has one row per class. */
  readonly columns?: number;
}

export interface GridLayout {
  readonly columns: number;
  readonly rows: number;
  readonly scale: number;
  readonly gap: number;
  /** Size of the whole grid, in pixels. */
  readonly width: number;
  readonly height: number;
}

export function gridLayout(o: GridOptions): GridLayout {
  const columns = o.columns ?? Math.ceil(Math.sqrt(o.count));
  const rows = Math.ceil(o.count / columns);
  const gap = o.gap ?? 1;
  const scale = o.scale ?? Math.max(1, Math.floor(256 / (columns * o.width)));
  return { columns, rows, scale, gap, width: columns * (o.width * scale + gap) + gap, height: rows * (o.height * scale + gap) + gap };
}

/** Where image n's tile starts in the grid, in pixels. */
export function tileOrigin(n: number, layout: GridLayout, o: GridOptions): { x: number; y: number } {
  const { columns, scale, gap } = layout;
  return { x: gap + (n % columns) * (o.width * scale + gap), y: gap + Math.floor(n / columns) * (o.height * scale + gap) };
}

/** The grid as RGBA bytes (gaps mid grey). */
export function gridPixels(images: Uint8Array, o: GridOptions): { layout: GridLayout; rgba: Uint8ClampedArray<ArrayBuffer> } {
  const layout = gridLayout(o);
  const { scale, width } = layout;
  const rgba = new Uint8ClampedArray(layout.width * layout.height * 4).fill(128);
  for (let p = 3; p < rgba.length; p += 4) rgba[p] = 255;
  const bytes = Uint8Array.from({ length: o.levels }, (_, l) => levelToByte(l, o.levels));
  const toByte = (v: number) => bytes[v];
  const tileW = o.width * scale;
  const tileH = o.height * scale;
  for (let n = 0; n < o.count; n++) {
    const { x: x0, y: y0 } = tileOrigin(n, layout, o);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const src = ((n * o.height + Math.floor(y / scale)) * o.width + Math.floor(x / scale)) * o.channels;
        const dst = ((y0 + y) * width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) rgba[dst + c] = toByte(images[src + (o.channels === 3 ? c : 0)]);
      }
    }
  }
  return { layout, rgba };
}

/** The images back from a grid's RGBA pixels (the inverse of gridPixels, for grids saved as PNG). */
export function imagesFromGrid(rgba: Uint8ClampedArray | Uint8Array, gridWidth: number, o: GridOptions): Uint8Array {
  const layout = gridLayout(o);
  const { scale } = layout;
  const out = new Uint8Array(o.count * o.height * o.width * o.channels);
  for (let n = 0; n < o.count; n++) {
    const { x: x0, y: y0 } = tileOrigin(n, layout, o);
    for (let i = 0; i < o.height; i++) {
      for (let j = 0; j < o.width; j++) {
        const p = ((y0 + i * scale) * gridWidth + x0 + j * scale) * 4;
        for (let c = 0; c < o.channels; c++) out[((n * o.height + i) * o.width + j) * o.channels + c] = byteToLevel(rgba[p + c], o.levels);
      }
    }
  }
  return out;
}

/** Which image and pixel a point (in grid pixels) falls on; null in a gap or outside. */
export function gridHit(x: number, y: number, o: GridOptions): { image: number; i: number; j: number } | null {
  const { columns, scale, gap } = gridLayout(o);
  const tileW = o.width * scale + gap;
  const tileH = o.height * scale + gap;
  const column = Math.floor((x - gap) / tileW);
  const row = Math.floor((y - gap) / tileH);
  const image = row * columns + column;
  const i = Math.floor((y - gap - row * tileH) / scale);
  const j = Math.floor((x - gap - column * tileW) / scale);
  if (column < 0 || column >= columns || image < 0 || image >= o.count || i < 0 || i >= o.height || j < 0 || j >= o.width) return null;
  return { image, i, j };
}
