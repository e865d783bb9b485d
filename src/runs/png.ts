/** Sample grids as PNG: images side by side in a square-ish grid, levels spread over 0–255, pixels enlarged. */
import { PNG } from 'pngjs';

export interface GridOptions {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly levels: number;
  /** Pixel size in the PNG (default: enough for the grid to be about 256 pixels wide). */
  readonly scale?: number;
}

export function encodeGrid(images: Uint8Array, o: GridOptions): Uint8Array {
  const columns = Math.ceil(Math.sqrt(o.count));
  const rows = Math.ceil(o.count / columns);
  const gap = 1;
  const scale = o.scale ?? Math.max(1, Math.floor(256 / (columns * o.width)));
  const tileW = o.width * scale;
  const tileH = o.height * scale;
  const png = new PNG({ width: columns * (tileW + gap) + gap, height: rows * (tileH + gap) + gap });
  png.data.fill(128); // the gaps: mid grey
  for (let p = 3; p < png.data.length; p += 4) png.data[p] = 255;
  const toByte = (v: number) => Math.round((v * 255) / (o.levels - 1));
  for (let n = 0; n < o.count; n++) {
    const x0 = gap + (n % columns) * (tileW + gap);
    const y0 = gap + Math.floor(n / columns) * (tileH + gap);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const src = ((n * o.height + Math.floor(y / scale)) * o.width + Math.floor(x / scale)) * o.channels;
        const dst = ((y0 + y) * png.width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) png.data[dst + c] = toByte(images[src + (o.channels === 3 ? c : 0)]);
      }
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}
