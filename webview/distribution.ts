/**
 * A predictive distribution on view: for each colour channel, the probability of every value the model could put
 * there — p(0) and p(1) for binary images, the L-level histogram otherwise — with the value the image has (when it
 * has one) marked; bars are scaled to the largest probability, which is printed above. Drawn on canvases in the theme's chart colours; each histogram says in words what it shows (its
 * aria-label and caption), and carries its numbers for a reader or a test (data-sum, data-probabilities).
 */
import { el } from './ui/dom';

export interface Distribution {
  /** One distribution per channel: p(value = l) for l = 0 … L − 1 (L = 2 for binary images). */
  readonly channels: readonly Float32Array[];
  readonly binary: boolean;
  /** The value each channel has in the image (absent: not drawn yet). */
  readonly observed?: readonly number[];
}

const CHANNEL_NAMES = ['R', 'G', 'B'];
const CHANNEL_COLOURS = [
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-blue', '#3794ff'],
] as const;
const WIDTH = 240;
const HEIGHT = 56;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** The distribution of (i, j), channel c out of a beliefs-shaped array: [1 − p, p] for binary, else its L values. */
export function distributionOf(probabilities: Float32Array, binary: boolean, levels: number, element: number): Float32Array {
  if (binary) {
    const p = probabilities[element];
    return Float32Array.of(1 - p, p);
  }
  return probabilities.subarray(element * levels, (element + 1) * levels);
}

export class DistributionView {
  readonly element: HTMLElement;
  private readonly figures: HTMLElement;
  private readonly note: HTMLElement;

  constructor(label: string) {
    this.figures = el('div', { className: 'distribution-figures' });
    this.note = el('p', { className: 'caption' });
    this.element = el('div', { className: 'distribution' }, this.figures, this.note);
    this.element.setAttribute('role', 'group');
    this.element.setAttribute('aria-label', label);
  }

  /** Nothing to show: say why. */
  clear(text: string): void {
    this.figures.replaceChildren();
    this.note.textContent = text;
    delete this.element.dataset.sum;
    delete this.element.dataset.pixel;
  }

  /** Show a distribution; `pixel` names it in data-pixel ("i,j"), `text` is said under it. */
  show(d: Distribution, pixel: string, text: string): void {
    const sums: number[] = [];
    const figures = d.channels.map((p, c) => {
      const sum = p.reduce((a, v) => a + v, 0);
      sums.push(sum);
      const name = d.channels.length === 3 ? CHANNEL_NAMES[c] : '';
      const words = describe(p, d.binary, d.observed?.[c]);
      const canvas = el('canvas', { className: 'histogram' });
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${name ? `${name}: ` : ''}${words}`);
      this.draw(canvas, p, d.observed?.[c], d.channels.length === 3 ? c : -1);
      const top = p.reduce((m, v) => Math.max(m, v), 0);
      const axis = el('div', { className: 'histogram-axis' }, el('span', { textContent: '0' }), el('span', { textContent: d.binary ? '1' : String(p.length - 1) }));
      axis.setAttribute('aria-hidden', 'true');
      // Bars are scaled to the largest probability (at 256 levels an absolute scale would show nothing): said above.
      const scale = el('div', { className: 'histogram-scale', textContent: `${name ? `${name} · ` : ''}top p = ${top.toFixed(3)}` });
      scale.setAttribute('aria-hidden', 'true');
      const figure = el('figure', { className: 'histogram-figure' }, scale, canvas, axis, el('figcaption', { textContent: `${name ? `${name}: ` : ''}${words}` }));
      figure.dataset.sum = sum.toFixed(6);
      figure.dataset.probabilities = Array.from(p, (v) => v.toPrecision(6)).join(',');
      return figure;
    });
    this.figures.replaceChildren(...figures);
    this.note.textContent = text;
    this.element.dataset.sum = sums.map((v) => v.toFixed(6)).join(',');
    this.element.dataset.pixel = pixel;
  }

  private draw(canvas: HTMLCanvasElement, p: Float32Array, observed: number | undefined, channel: number): void {
    const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
    canvas.width = WIDTH * ratio;
    canvas.height = HEIGHT * ratio;
    const g = canvas.getContext('2d')!;
    g.scale(ratio, ratio);
    const bar = channel >= 0 ? cssVar(CHANNEL_COLOURS[channel][0], CHANNEL_COLOURS[channel][1]) : cssVar('--vscode-charts-blue', '#3794ff');
    const mark = cssVar('--vscode-charts-orange', '#d18616');
    const axis = cssVar('--vscode-descriptionForeground', '#9d9d9d');
    const L = p.length;
    const largest = Math.max(1e-12, p.reduce((m, v) => Math.max(m, v), 0));
    const slot = WIDTH / L;
    const gap = slot >= 6 ? Math.min(4, slot * 0.2) : 0;
    const top = 4;
    const height = HEIGHT - top - 1;
    for (let l = 0; l < L; l++) {
      const h = Math.max(0, Math.min(1, p[l] / largest)) * height;
      g.fillStyle = l === observed ? mark : bar;
      g.fillRect(l * slot + gap / 2, HEIGHT - 1 - h, Math.max(1, slot - gap), h);
    }
    if (observed !== undefined && observed < L) {
      // The value the image has: marked above its bar too, so a bar too small to see is still found.
      g.fillStyle = mark;
      const x = (observed + 0.5) * slot;
      g.beginPath();
      g.moveTo(x - 4, 0);
      g.lineTo(x + 4, 0);
      g.lineTo(x, top + 2);
      g.closePath();
      g.fill();
    }
    g.fillStyle = axis;
    g.fillRect(0, HEIGHT - 1, WIDTH, 1);
  }
}

/** In words: p(1) for binary; the most likely value otherwise; and the image's value with its probability. */
function describe(p: Float32Array, binary: boolean, observed: number | undefined): string {
  const is = observed === undefined ? '' : `; it is ${observed} (p ${p[observed].toFixed(3)})`;
  if (binary) return `p(1) = ${p[1].toFixed(3)}${is}`;
  let best = 0;
  for (let l = 1; l < p.length; l++) if (p[l] > p[best]) best = l;
  return `most likely ${best} (p ${p[best].toFixed(3)}) of ${p.length} levels${is}`;
}
