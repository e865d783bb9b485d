/**
 * The run's samples: every saved grid on a step slider, and new samples drawn pixel by pixel — while they are drawn,
 * the distribution the newest pixel of the first sample was drawn from. Hover to inspect.
 */
import { hover, showGrid } from '../actions';
import { DistributionView, distributionOf } from '../distribution';
import { ImageGrid } from '../grid';
import { levels, store } from '../state';
import { slider } from '../ui/controls';
import { el } from '../ui/dom';

export function samplesCard(): HTMLElement {
  const box = el('div', { className: 'grid' });
  const caption = el('p', { className: 'caption', textContent: 'No samples yet.' });
  const grid = new ImageGrid(box, () => levels(store.state), (hit) => hover(hit, 'samples'));
  const step = slider('step', 0, 0, 1, 0, (v) => (store.state.grids[v] ? String(store.state.grids[v].step) : '–'), (v) => showGrid(v));
  const drawing = new DistributionView('The distribution the newest pixel of sample 1 was drawn from');
  const live = el('div', { className: 'drawing', hidden: true }, el('h3', { textContent: 'Being drawn (sample 1)' }), drawing.element);

  store.watch(
    (s) => [s.samples],
    ([samples]) => (samples ? grid.show(samples.images, samples.drawn) : grid.clear()),
  );
  store.watch(
    (s) => [s.grids, s.gridIndex],
    ([grids, index]) => step.set(index, Math.max(0, grids.length - 1)),
  );
  store.watch(
    (s) => [s.samplesNote],
    ([note]) => (caption.textContent = note),
  );
  // While sampling: what the pixel just drawn in the first image came from, and the value it got.
  store.watch(
    (s) => [s.drawing, s.samples],
    ([d, samples], _previous, s) => {
      live.hidden = d === null;
      if (!d) return drawing.clear('');
      const C = d.probabilities.length / (d.binary ? 1 : d.levels);
      const channels = Array.from({ length: C }, (_, c) => distributionOf(d.probabilities, d.binary, d.levels, c));
      const images = samples?.images;
      const drawn = images && samples.drawn > d.i * images.width + d.j;
      const observed = drawn ? Array.from({ length: C }, (_, c) => images.data[(d.i * images.width + d.j) * images.channels + c]) : undefined;
      drawing.show({ channels, binary: d.binary, observed }, `${d.i},${d.j}`, `Pixel (${d.i}, ${d.j}) of sample 1 was drawn from this distribution (temperature ${s.temperature.toFixed(2)} applied)${drawn ? '; the value drawn is marked' : ''}.`);
    },
  );

  return el('section', { className: 'card run-only' }, el('h2', { textContent: 'Samples' }), box, step.element, caption, live);
}
