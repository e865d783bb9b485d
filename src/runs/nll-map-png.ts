/**
 * An image beside its NLL heatmap, as a PNG (`pixel-lab eval RUN --map N`): the image, the NLL of each pixel
 * (summed over its channels) and, for colour, one map per channel; a colour bar from 0 to the largest value, in nats.
 * Pixels are drawn as blocks; labels use a 3×5 pixel font, so nothing depends on fonts being installed.
 */
import { PNG } from 'pngjs';
import { levelToByte } from '../data/encoding';

export interface NllMapPicture {
  /** Pixel values 0 … levels − 1, [H, W, C]. */
  readonly image: ArrayLike<number>;
  /** −log p(x_ijc | x_<ijc) in nats, [H, W, C]. */
  readonly nll: ArrayLike<number>;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly levels: number;
}

/** Magma-like stops: dark for what the model expected, bright for what surprised it. */
const STOPS: readonly [number, number, number][] = [
  [0, 0, 4],
  [59, 15, 112],
  [140, 41, 129],
  [222, 73, 104],
  [254, 159, 109],
  [252, 253, 191],
];

export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 1)) * (STOPS.length - 1);
  const k = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - k;
  return [0, 1, 2].map((c) => Math.round(STOPS[k][c] + f * (STOPS[k + 1][c] - STOPS[k][c]))) as [number, number, number];
}

// 3×5 glyphs, rows top to bottom, 3 bits each (4 = left column).
const FONT: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], ' ': [0, 0, 0, 0, 0], '-': [0, 0, 7, 0, 0], '(': [1, 2, 2, 2, 1], ')': [4, 2, 2, 2, 4],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], E: [7, 4, 6, 4, 7], G: [7, 4, 5, 5, 7], I: [7, 2, 2, 2, 7], L: [4, 4, 4, 4, 7],
  M: [5, 7, 7, 5, 5], N: [6, 5, 5, 5, 5], P: [7, 5, 7, 4, 4], R: [6, 5, 6, 5, 5], S: [7, 4, 7, 1, 7], T: [7, 2, 2, 2, 2],
  X: [5, 5, 2, 5, 5], '/': [1, 1, 2, 4, 4],
};
const GLYPH = 2; // font pixels are GLYPH × GLYPH
const LINE = 5 * GLYPH;

function textWidth(s: string): number {
  return s.length * 4 * GLYPH - GLYPH;
}

class Canvas {
  readonly rgba: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.rgba = new Uint8Array(width * height * 4).fill(255);
  }

  rect(x: number, y: number, w: number, h: number, [r, g, b]: readonly number[]): void {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) this.rgba.set([r, g, b, 255], (yy * this.width + xx) * 4);
    }
  }

  text(s: string, x: number, y: number): void {
    [...s.toUpperCase()].forEach((ch, k) => {
      const glyph = FONT[ch] ?? FONT[' '];
      glyph.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) if (bits & (4 >> col)) this.rect(x + (k * 4 + col) * GLYPH, y + row * GLYPH, GLYPH, GLYPH, [0, 0, 0]);
      });
    });
  }
}

/** Shortest readable form of a value in nats. */
function label(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function encodeNllMap(p: NllMapPicture): Uint8Array {
  const { height: H, width: W, channels: C, levels } = p;
  const scale = Math.max(1, Math.floor(168 / Math.max(H, W)));
  const pad = 12;
  const panelW = W * scale;
  const panelH = H * scale;
  // The NLL of each pixel: the sum over its channels.
  const perPixel = Float64Array.from({ length: H * W }, (_, k) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += p.nll[k * C + c];
    return s;
  });
  const panels: { title: string; value: (i: number, j: number) => [number, number, number] }[] = [];
  const grey = (v: number) => levelToByte(v, levels);
  panels.push({
    title: 'IMAGE',
    value: (i, j) => {
      const at = (i * W + j) * C;
      return C === 3 ? [grey(p.image[at]), grey(p.image[at + 1]), grey(p.image[at + 2])] : [grey(p.image[at]), grey(p.image[at]), grey(p.image[at])];
    },
  });
  const max = Math.max(1e-9, ...perPixel);
  panels.push({ title: C === 3 ? 'NLL RGB' : 'NLL', value: (i, j) => heatColour(perPixel[i * W + j] / max) });
  if (C === 3) {
    ['R', 'G', 'B'].forEach((name, c) => panels.push({ title: `NLL ${name}`, value: (i, j) => heatColour(p.nll[(i * W + j) * C + c] / max) }));
  }
  const barH = 10;
  const width = pad + panels.length * (panelW + pad);
  const height = pad + LINE + 4 + panelH + pad + barH + 4 + LINE + 4 + LINE + pad;
  const canvas = new Canvas(Math.max(width, pad * 2 + textWidth('0   NATS PER PIXEL   000.00')), height);
  const top = pad + LINE + 4;
  panels.forEach((panel, k) => {
    const x0 = pad + k * (panelW + pad);
    canvas.text(panel.title, x0, pad);
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) canvas.rect(x0 + j * scale, top + i * scale, scale, scale, panel.value(i, j));
  });
  // The colour bar under the heat maps: 0 on the left, the largest pixel NLL on the right.
  const barX = panels.length > 1 ? pad + panelW + pad : pad;
  const barW = Math.max(panelW, canvas.width - barX - pad);
  const barY = top + panelH + pad;
  for (let x = 0; x < barW; x++) canvas.rect(barX + x, barY, 1, barH, heatColour(x / (barW - 1)));
  const labelY = barY + barH + 4;
  canvas.text('0', barX, labelY);
  const right = `${label(max)}`;
  canvas.text(right, barX + barW - textWidth(right), labelY);
  const unit = 'NATS PER PIXEL';
  canvas.text(unit, barX + Math.floor((barW - textWidth(unit)) / 2), labelY + LINE + 4);
  const png = new PNG({ width: canvas.width, height: canvas.height });
  png.data.set(canvas.rgba);
  return new Uint8Array(PNG.sync.write(png));
}
