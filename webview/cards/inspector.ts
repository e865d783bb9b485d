/**
 * What the hovered pixel depends on: structurally (the model's dependency field) and by gradient (for this image and
 * these weights), for the colour channel picked (RGB models).
 */
import { inspectChannel } from '../actions';
import { Inspector } from '../inspector';
import { store } from '../state';
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

  return el('section', { className: 'card inspector-card run-only' }, el('div', { className: 'toolbar' }, el('h2', { textContent: 'What this pixel depends on' }), channel), box);
}
