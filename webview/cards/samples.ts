/** The run's samples: every saved grid on a step slider, and new samples drawn pixel by pixel. Hover to inspect. */
import { hover, showGrid } from '../actions';
import { ImageGrid } from '../grid';
import { levels, store } from '../state';
import { slider } from '../ui/controls';
import { el } from '../ui/dom';

export function samplesCard(): HTMLElement {
  const box = el('div', { className: 'grid' });
  const caption = el('p', { className: 'caption', textContent: 'No samples yet.' });
  const grid = new ImageGrid(box, () => levels(store.state), (hit) => hover(hit, 'samples'));
  const step = slider('step', 0, 0, 1, 0, (v) => (store.state.grids[v] ? String(store.state.grids[v].step) : '–'), (v) => showGrid(v));

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

  return el('section', { className: 'card run-only' }, el('h2', { textContent: 'Samples' }), box, step.element, caption);
}
