/**
 * The mask inspector: for a hovered output pixel and channel, which input pixels and channels it depends on —
 * structurally (the model's dependency field, exact, instant) and by gradient (|∂ log p(x_ijc) / ∂x| for this
 * image, from the worker). The pixel itself and everything after it in raster order are outlined; a dependency
 * there would be a leak and is painted red.
 */
import { levelToByte } from '../src/data/encoding';
import { DepField } from '../src/model/field';
import { maskAllows } from '../src/model/masks';
import type { ModelSummary } from './worker-protocol';

const SCALE = 10;
const CHANNEL_NAMES = ['R', 'G', 'B'];

export interface Inspection {
  readonly image: Uint8Array;
  readonly i: number;
  readonly j: number;
  readonly c: number;
  readonly source: string;
}

export class Inspector {
  private field: DepField | null = null;
  private summary: ModelSummary | null = null;
  private current: Inspection | null = null;
  private readonly structural = document.createElement('canvas');
  private readonly gradient = document.createElement('canvas');
  readonly caption = document.createElement('p');
  readonly gradientCaption = document.createElement('p');

  constructor(container: HTMLElement) {
    const pair = document.createElement('div');
    pair.className = 'inspector-pair';
    for (const [canvas, title, caption] of [
      [this.structural, 'structural (from the masks)', this.caption],
      [this.gradient, '|gradient| (from the weights)', this.gradientCaption],
    ] as const) {
      const figure = document.createElement('figure');
      const label = document.createElement('figcaption');
      label.textContent = title;
      canvas.className = 'pixels inspector-canvas';
      figure.append(label, canvas, caption);
      pair.appendChild(figure);
    }
    container.appendChild(pair);
    this.caption.textContent = 'Hover a pixel of a sample or a dataset image.';
  }

  /** A new model: its structural field is asked for on the first hover (it grows as (H·W·C)², see the worker). */
  setModel(summary: ModelSummary): void {
    this.summary = summary;
    this.field = null;
    this.reset();
  }

  get hasField(): boolean {
    return this.field !== null;
  }

  setField(bits: Uint32Array): void {
    if (this.summary) this.field = DepField.fromBits(this.summary.height, this.summary.width, this.summary.channels, bits);
  }

  /** The structural field is not computed (too large, or not while training): hovers show the gradient map only. */
  fieldUnavailable(why: string): void {
    this.caption.textContent = `The structural map is not computed (${why}); the gradient map shows what this prediction depends on.`;
  }

  showFailure(message: string): void {
    this.gradientCaption.textContent = message;
  }

  /** Nothing on view: no model, or another run came on view. */
  clearModel(): void {
    this.summary = null;
    this.field = null;
    this.reset();
  }

  private reset(): void {
    this.current = null;
    this.clear(this.structural);
    this.clear(this.gradient);
    this.caption.textContent = this.summary ? 'Hover a pixel of a sample or a dataset image.' : 'No model on view yet.';
    delete this.caption.dataset.dependencies;
    delete this.caption.dataset.leaks;
    this.gradientCaption.textContent = '';
  }

  /** Show the structural map now (or say it is being computed); the gradient map follows when it arrives. */
  inspect(what: Inspection): { dependencies: number; leaks: number } | null {
    if (!this.summary) return null;
    if (!this.field) {
      if (!this.caption.textContent?.startsWith('The structural map is not computed')) this.caption.textContent = 'computing the structural map of this model…';
      this.current = what;
      this.gradientCaption.textContent = 'computing…';
      return null;
    }
    this.current = what;
    const { height: H, width: W, channels: C } = this.summary;
    const deps = this.field.dependencies(what.i, what.j, what.c);
    const self = (what.i * W + what.j) * C + what.c;
    let dependencies = 0;
    let leaks = 0;
    deps.forEach((d, e) => {
      if (d) {
        dependencies++;
        if (e >= self) leaks++;
      }
    });
    this.paint(this.structural, (e) => (deps[e] ? 1 : 0));
    const name = C === 3 ? `x[${what.i},${what.j},${CHANNEL_NAMES[what.c]}]` : `x[${what.i},${what.j}]`;
    this.caption.textContent = `${name} of ${what.source} depends on ${dependencies} of ${H * W * C} input values; ${leaks === 0 ? 'none' : leaks} at or after it.`;
    this.caption.dataset.dependencies = String(dependencies);
    this.caption.dataset.leaks = String(leaks);
    this.gradientCaption.textContent = 'computing…';
    this.clear(this.gradient);
    return { dependencies, leaks };
  }

  showGradient(values: Float32Array): void {
    if (!this.current || !this.summary) return;
    const max = values.reduce((m, v) => Math.max(m, v), 0);
    this.paint(this.gradient, (e) => (max > 0 ? Math.sqrt(values[e] / max) : 0));
    const nonzero = values.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    this.gradientCaption.textContent = `${nonzero} input values move log p; the largest |∂ log p / ∂x| is ${max.toPrecision(3)}.`;
  }

  private clear(canvas: HTMLCanvasElement): void {
    canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
  }

  /** The image in grey, tinted by `weight` of each input value (per channel for RGB), later pixels hatched. */
  private paint(canvas: HTMLCanvasElement, weight: (element: number) => number): void {
    const s = this.summary!;
    const what = this.current!;
    const { height: H, width: W, channels: C, levels } = s;
    canvas.width = W * SCALE;
    canvas.height = H * SCALE;
    const g = canvas.getContext('2d')!;
    const accent = getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim() || '#3794ff';
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const p = i * W + j;
        // Each level as the PNGs draw it (the middle of its quantiser bin).
        let grey = 0;
        for (let c = 0; c < C; c++) grey += levelToByte(what.image[p * C + c], levels) / 255 / C;
        const shade = Math.round(40 + grey * 150);
        g.fillStyle = `rgb(${shade},${shade},${shade})`;
        g.fillRect(j * SCALE, i * SCALE, SCALE, SCALE);
        const later = p > what.i * W + what.j;
        for (let c = 0; c < C; c++) {
          const e = p * C + c;
          const w = weight(e);
          if (w <= 0) continue;
          const leak = e >= (what.i * W + what.j) * C + what.c;
          // One stripe per input channel for RGB, so a user sees which colours the output reads.
          g.globalAlpha = leak ? 1 : 0.25 + 0.75 * w;
          g.fillStyle = leak ? '#ff3030' : C === 3 ? ['#ff5c5c', '#4cd964', '#5c8dff'][c] : accent;
          g.fillRect(j * SCALE, i * SCALE + (C === 3 ? (c * SCALE) / 3 : 0), SCALE, C === 3 ? SCALE / 3 : SCALE);
          g.globalAlpha = 1;
        }
        if (later) {
          g.fillStyle = 'rgba(0,0,0,0.45)';
          g.fillRect(j * SCALE, i * SCALE, SCALE, SCALE);
        }
      }
    }
    // The pixel itself, and the boundary of everything after it.
    g.strokeStyle = '#ffcc00';
    g.lineWidth = 2;
    g.strokeRect(what.j * SCALE + 1, what.i * SCALE + 1, SCALE - 2, SCALE - 2);
    g.beginPath();
    g.moveTo((what.j + 1) * SCALE, what.i * SCALE);
    g.lineTo(W * SCALE, what.i * SCALE);
    g.moveTo(0, (what.i + 1) * SCALE);
    g.lineTo((what.j + 1) * SCALE, (what.i + 1) * SCALE);
    g.lineTo((what.j + 1) * SCALE, what.i * SCALE);
    g.stroke();
  }
}

/** The kernel masks of every layer: each tap a cell, split by input → output colour group for RGB. */
export function drawKernelMasks(container: HTMLElement, summary: ModelSummary): void {
  container.replaceChildren();
  const G = summary.channels;
  const cell = G === 3 ? 18 : 14;
  for (const layer of summary.layers) {
    const { geometry: g } = layer;
    // Show the whole k×k kernel: the rows below the centre, which are never stored, as the zeros they are.
    const rows = g.mask === 'none' ? g.rows : 2 * g.cy + 1;
    const cols = g.mask === 'none' ? g.cols : 2 * g.cx + 1;
    const figure = document.createElement('figure');
    figure.className = 'kernel';
    const canvas = document.createElement('canvas');
    canvas.width = cols * cell + 1;
    canvas.height = rows * cell + 1;
    const ctx = canvas.getContext('2d')!;
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        for (let gi = 0; gi < G; gi++) {
          for (let go = 0; go < G; go++) {
            const stored = y < g.rows && x < g.cols;
            const on = stored && maskAllows(g.mask, y, x, g.cy, g.cx, gi, go);
            ctx.fillStyle = on ? '#3794ff' : 'rgba(128,128,128,0.18)';
            const sub = cell / G;
            ctx.fillRect(x * cell + 1 + go * sub, y * cell + 1 + gi * sub, sub - (G === 3 ? 0.5 : 1), sub - (G === 3 ? 0.5 : 1));
          }
        }
      }
    }
    ctx.strokeStyle = '#ffcc00';
    ctx.strokeRect(g.cx * cell + 0.5, g.cy * cell + 0.5, cell, cell);
    const caption = document.createElement('figcaption');
    caption.textContent = `${layer.name} ${rows}×${cols}${g.mask === 'none' ? '' : ` ${g.mask}`}`;
    figure.append(canvas, caption);
    container.appendChild(figure);
  }
}
