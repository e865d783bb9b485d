/**
 * What the model believes at each pixel of one test image: the image (as evaluation encodes it) beside its heat map of
 * −log p(x_ij | x_<ij) in nats — one map per colour channel for RGB — with a colour bar, and the image's NLL, the sum
 * of the map. Pick the image by clicking it on the dataset card (or here, from the list); hover the image or a map to
 * see what the model predicted at that pixel (the inspector card).
 */
import { levelToByte } from '../../src/data/encoding';
import type { PixelBeliefs } from '../../src/model/beliefs';
import { hover, pickNllImage } from '../actions';
import { type PanelState, className, imageKey, labelOf, store, valuesOf } from '../state';
import { el } from '../ui/dom';

const CHANNEL_NAMES = ['R', 'G', 'B'];
/** A perceptual ramp (after matplotlib's inferno): dark for what the model expected, bright for what surprised it. */
const RAMP = [
  [0, [0, 0, 4]],
  [0.25, [87, 16, 110]],
  [0.5, [188, 55, 84]],
  [0.75, [249, 142, 9]],
  [1, [252, 255, 164]],
] as const;

export function heat(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t));
  for (let k = 1; k < RAMP.length; k++) {
    const [t1, c1] = RAMP[k];
    const [t0, c0] = RAMP[k - 1];
    if (x <= t1) {
      const f = (x - t0) / (t1 - t0);
      return [0, 1, 2].map((c) => Math.round(c0[c] + f * (c1[c] - c0[c]))) as [number, number, number];
    }
  }
  return [...RAMP[RAMP.length - 1][1]] as [number, number, number];
}

export function nllMapCard(): HTMLElement {
  const picker = el('select', { className: 'nll-picker' });
  picker.setAttribute('aria-label', 'test image to map');
  picker.addEventListener('change', () => pickNllImage(Number(picker.value)));
  const figures = el('div', { className: 'nll-figures' });
  const bar = el('div', { className: 'nll-bar' });
  const total = el('p', { className: 'nll-total' });
  total.setAttribute('aria-live', 'polite');
  const at = el('p', { className: 'caption nll-at' });
  const caption = el('p', { className: 'caption', textContent: 'No model on view yet.' });
  const heading = el('h2', { textContent: 'NLL map (test split)' });
  store.watch(
    (s) => [(s.model.summary?.classes ?? 0) > 0],
    ([conditional]) => (heading.textContent = conditional ? 'Conditional NLL map (test split)' : 'NLL map (test split)'),
  );

  // The image picker follows the test images on view.
  // A conditional model's test images are named with their class.
  store.watch(
    (s) => [s.dataset?.images?.count ?? 0, s.nllImage, s.dataset, s.model, s.classNames],
    ([count, n], _previous, s) => {
      const name = (k: number) => {
        const label = labelOf(s, 'dataset', k);
        return `test image ${k + 1}${label !== undefined ? ` (${className(s, label)})` : ''}`;
      };
      const names = Array.from({ length: count }, (_, k) => name(k));
      if ([...picker.options].map((o) => o.textContent).join('\n') !== names.join('\n')) picker.replaceChildren(...names.map((text, k) => el('option', { value: String(k), textContent: text })));
      picker.value = String(n);
      picker.disabled = count === 0;
    },
  );
  store.watch(
    (s) => [s.model, s.dataset, s.nllImage, s.imageNotes.get(imageKey('dataset', s.nllImage)), s.hover?.grid === 'dataset' && s.hover.hit.image === s.nllImage ? `${s.hover.hit.i},${s.hover.hit.j}` : null],
    (_slices, _previous, s) => render(s),
  );

  function render(s: PanelState): void {
    const n = s.nllImage;
    const summary = s.model.summary;
    const image = valuesOf(s, 'dataset', n);
    const note = s.imageNotes.get(imageKey('dataset', n));
    const b = note?.beliefs;
    delete total.dataset.total;
    delete total.dataset.mapSum;
    if (!summary || !image || !b) {
      figures.replaceChildren();
      bar.replaceChildren();
      total.textContent = '';
      at.textContent = '';
      caption.textContent = !summary
        ? s.modelNote
        : !s.dataset?.images
          ? 'No test images for this run.'
          : !image
            ? 'The host sent no encoded values of the test images: nothing to map.'
            : (note?.failure ?? `asking the model what it believes at each pixel of test image ${n + 1}…`);
      return;
    }
    const { height: H, width: W, channels: C } = b;
    // The scale: 0 to the largest value of any channel, so the maps of one image compare.
    let max = 0;
    let sum = 0;
    const perChannel = new Array<number>(C).fill(0);
    for (let e = 0; e < b.nll.length; e++) {
      max = Math.max(max, b.nll[e]);
      sum += b.nll[e];
      perChannel[e % C] += b.nll[e];
    }
    const hovered = s.hover?.grid === 'dataset' && s.hover.hit.image === n ? s.hover.hit : null;
    // A conditional model reads the image as of its own class: its map is of −log p(x_ij | x_<ij, class).
    const label = summary.classes > 0 ? labelOf(s, 'dataset', n) : undefined;
    const ofClass = label !== undefined ? ` (class ${className(s, label)})` : '';
    const pictures = [figure(`test image ${n + 1}${ofClass}`, imageCanvas(image, b, summary.levels, hovered), `Test image ${n + 1} of the test split${ofClass}, as the model reads it.`)];
    for (let c = 0; c < C; c++) {
      const name = C === 3 ? `−log p, ${CHANNEL_NAMES[c]}` : '−log p (nats)';
      const alt = `Heat map of −log p for each pixel${C === 3 ? ` in channel ${CHANNEL_NAMES[c]}` : ''} of test image ${n + 1}: ${(C === 3 ? perChannel[c] : sum).toFixed(2)} nats in all, at most ${max.toFixed(2)} at one pixel.`;
      pictures.push(figure(name, heatCanvas(b, c, max, hovered), alt));
    }
    figures.replaceChildren(...pictures);
    for (const canvas of pictures.map((p) => p.querySelector('canvas')!)) {
      canvas.addEventListener('mousemove', (e) => {
        const box = canvas.getBoundingClientRect();
        const i = Math.floor(((e.clientY - box.top) / box.height) * H);
        const j = Math.floor(((e.clientX - box.left) / box.width) * W);
        if (i >= 0 && i < H && j >= 0 && j < W) hover({ image: store.state.nllImage, i, j }, 'dataset');
      });
    }
    bar.replaceChildren(colourBar(max));
    const D = H * W * C;
    const numbers = `${b.nats.toFixed(3)} nats, ${(b.nats / (D * Math.LN2)).toFixed(4)} bits/dim${C === 3 ? ` (R ${perChannel[0].toFixed(2)}, G ${perChannel[1].toFixed(2)}, B ${perChannel[2].toFixed(2)})` : ''}`;
    if (summary.classes > 0) {
      const name = label !== undefined ? className(s, label) : `${className(s, 0)} (its label unknown)`;
      total.textContent = `Test image ${n + 1} (test split), class ${name}: conditional NLL −log p(x | ${name}) = ${numbers} — the sum of the map.`;
      total.dataset.class = String(label ?? 0);
    } else {
      total.textContent = `Test image ${n + 1} (test split): ${numbers} — the sum of the map.`;
      delete total.dataset.class;
    }
    total.dataset.total = String(b.nats);
    total.dataset.mapSum = String(sum);
    total.dataset.image = String(n);
    if (hovered) {
      const e = (hovered.i * W + hovered.j) * C;
      const values = Array.from({ length: C }, (_, c) => b.nll[e + c]);
      at.textContent = `x[${hovered.i},${hovered.j}]: −log p = ${values.reduce((a, v) => a + v, 0).toFixed(3)} nats${C === 3 ? ` (${values.map((v, c) => `${CHANNEL_NAMES[c]} ${v.toFixed(3)}`).join(', ')})` : ''}.`;
    } else {
      at.textContent = 'Hover the image or a map: the inspector shows what the model predicted there.';
    }
    caption.textContent = `Bright: pixels the model found surprising given the pixels before them (raster order, R → G → B)${summary.classes > 0 ? ' and the image\'s class' : ''}. Click a test image on the dataset card to map it.`;
  }

  return el(
    'section',
    { className: 'card nll-card run-only' },
    el('div', { className: 'toolbar' }, heading, picker),
    figures,
    bar,
    total,
    at,
    caption,
  );
}

function figure(title: string, canvas: HTMLCanvasElement, alt: string): HTMLElement {
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', alt);
  return el('figure', { className: 'nll-figure' }, el('figcaption', { textContent: title }), canvas);
}

/** Canvas pixels per image pixel: about 128 across, so the hovered pixel can be outlined crisply. */
const scaleOf = (width: number) => Math.max(1, Math.ceil(128 / width));

function pixelCanvas(H: number, W: number, paint: (i: number, j: number) => [number, number, number]): { canvas: HTMLCanvasElement; g: CanvasRenderingContext2D } {
  const S = scaleOf(W);
  const canvas = el('canvas', { className: 'pixels nll-canvas', width: W * S, height: H * S });
  const g = canvas.getContext('2d')!;
  const data = g.createImageData(W * S, H * S);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const rgb = paint(i, j);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) data.data.set([...rgb, 255], ((i * S + y) * W * S + j * S + x) * 4);
    }
  }
  g.putImageData(data, 0, 0);
  return { canvas, g };
}

/** The hovered pixel, outlined in the theme's focus colour (over a dark rim, so it shows on any pixel). */
function outline(g: CanvasRenderingContext2D, at: { i: number; j: number } | null, width: number): void {
  if (!at) return;
  const S = scaleOf(width);
  const focus = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder').trim() || '#0078d4';
  const w = Math.max(1, Math.round(S / 5));
  g.lineWidth = w * 2;
  g.strokeStyle = 'rgba(0,0,0,0.8)';
  g.strokeRect(at.j * S, at.i * S, S, S);
  g.lineWidth = w;
  g.strokeStyle = focus;
  g.strokeRect(at.j * S + w / 2, at.i * S + w / 2, S - w, S - w);
}

function imageCanvas(values: Uint8Array, b: PixelBeliefs, levels: number, at: { i: number; j: number } | null): HTMLCanvasElement {
  const C = b.channels;
  const { canvas, g } = pixelCanvas(b.height, b.width, (i, j) => {
    const e = (i * b.width + j) * C;
    const byte = (c: number) => levelToByte(values[e + (C === 3 ? c : 0)], levels);
    return [byte(0), byte(1), byte(2)];
  });
  outline(g, at, b.width);
  return canvas;
}

function heatCanvas(b: PixelBeliefs, c: number, max: number, at: { i: number; j: number } | null): HTMLCanvasElement {
  const { canvas, g } = pixelCanvas(b.height, b.width, (i, j) => heat(max > 0 ? b.nll[(i * b.width + j) * b.channels + c] / max : 0));
  outline(g, at, b.width);
  return canvas;
}

/** The colour bar: the ramp from 0 to the image's largest value, in nats, labelled. */
function colourBar(max: number): HTMLElement {
  const canvas = el('canvas', { className: 'nll-ramp', width: 128, height: 1 });
  const g = canvas.getContext('2d')!;
  const data = g.createImageData(128, 1);
  for (let x = 0; x < 128; x++) data.data.set([...heat(x / 127), 255], x * 4);
  g.putImageData(data, 0, 0);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `colour scale: dark 0 nats to bright ${max.toFixed(2)} nats`);
  const labels = el('div', { className: 'nll-ramp-labels' }, el('span', { textContent: '0' }), el('span', { textContent: (max / 2).toFixed(2) }), el('span', { textContent: `${max.toFixed(2)} nats` }));
  labels.setAttribute('aria-hidden', 'true');
  return el('div', { className: 'nll-ramp-box' }, el('span', { className: 'nll-ramp-title', textContent: '−log p per pixel:' }), el('div', {}, canvas, labels));
}
