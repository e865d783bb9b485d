/**
 * What the hovered pixel depends on: structurally (the model's dependency field) and by gradient (for this image and
 * these weights), for the colour channel picked (RGB models); and what the model predicted there, given every pixel
 * before it (looked up in the image's beliefs, asked for once an image: it shows in the same frame as the hover).
 */
import { inspectChannel } from '../actions';
import { DistributionView, distributionOf } from '../distribution';
import { Inspector } from '../inspector';
import { type PanelState, className, complete, imageKey, labelOf, store, valuesOf } from '../state';
import { dropdown } from '../ui/controls';
import { el } from '../ui/dom';

export function inspectorCard(): HTMLElement {
  const box = el('div');
  const inspector = new Inspector(box);
  const channel = dropdown(
    [
      { value: '0', label: 'output R' },
      { value: '1', label: 'output G' },
      { value: '2', label: 'output B' },
    ],
    (v) => inspectChannel(Number(v)),
  );
  const predicted = new DistributionView('What the model predicted at the hovered pixel');
  predicted.element.classList.add('predicted');

  store.watch(
    (s) => [s.model.summary?.channels === 3],
    ([rgb]) => (channel.hidden = !rgb),
  );
  // In the order they build on each other: the model, its field (or why not), the pixel, then its gradient map.
  store.watch(
    (s) => [s.model, s.field.bits, s.field.unavailable, s.inspection, s.hoverResult],
    (now, previous) => {
      if (!previous) return; // as made: no model yet
      const [model, bits, unavailable, inspection, result] = now;
      const changed = (k: number) => previous[k] !== now[k];
      if (changed(0)) {
        if (model.summary) inspector.setModel(model.summary);
        else inspector.clearModel();
      }
      if (changed(1) && bits) inspector.setField(bits);
      if (changed(2) && unavailable !== null) inspector.fieldUnavailable(unavailable);
      if (changed(3) && inspection) inspector.inspect(inspection);
      if (changed(4) && result) {
        if ('values' in result) inspector.showGradient(result.values);
        else inspector.showFailure(result.failure);
      }
    },
  );
  // What the model predicted at the hovered pixel: a lookup in the image's beliefs, at once.
  store.watch(
    (s) => [s.hover, s.imageNotes, s.model, s.samples, s.dataset],
    (_slices, _previous, s) => showPredicted(predicted, s),
  );

  return el(
    'section',
    { className: 'card inspector-card run-only' },
    el('div', { className: 'toolbar' }, el('h2', { textContent: 'What this pixel depends on' }), channel),
    box,
    el('h3', { textContent: 'What the model predicted here, given every pixel before it' }),
    predicted.element,
  );
}

function showPredicted(view: DistributionView, s: PanelState): void {
  const summary = s.model.summary;
  const hover = s.hover;
  if (!summary) return view.clear('No model on view yet.');
  if (!hover) return view.clear('Hover a pixel of a sample or a test image to see the distribution the model predicts there.');
  const { grid, hit } = hover;
  const label = labelOf(s, grid, hit.image);
  const notes = [grid === 'dataset' ? 'test split' : '', label !== undefined ? `class ${className(s, label)}` : ''].filter(Boolean);
  const what = `${grid === 'dataset' ? 'test image' : 'sample'} ${hit.image + 1}${notes.length ? ` (${notes.join(', ')})` : ''}`;
  if (!complete(s, grid)) return view.clear(`${what} is still being drawn: what the model predicts there is shown once it is done.`);
  const image = valuesOf(s, grid, hit.image);
  if (!image) return view.clear(`There are no values of ${what} to ask the model about (the host sent none).`);
  const note = s.imageNotes.get(imageKey(grid, hit.image));
  if (note?.failure && !note.beliefs) return view.clear(note.failure);
  const b = note?.beliefs;
  if (!b) return view.clear(`asking the model what it believes at each pixel of ${what}…`);
  const C = b.channels;
  const at = (hit.i * b.width + hit.j) * C;
  const channels = Array.from({ length: C }, (_, c) => distributionOf(b.probabilities, b.binary, b.levels, at + c));
  const observed = Array.from({ length: C }, (_, c) => image[at + c]);
  let nll = 0;
  for (let c = 0; c < C; c++) nll += b.nll[at + c];
  const name = `x[${hit.i},${hit.j}]`;
  const order = C === 3 ? ' (G given R, B given R and G)' : '';
  view.show({ channels, binary: b.binary, observed }, `${hit.i},${hit.j}`, `${name} of ${what}: predicted from the pixels before it${order}; −log p of its value: ${nll.toFixed(3)} nats.`);
}
