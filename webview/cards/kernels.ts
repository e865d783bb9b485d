/** The kernel masks of every layer of the model on view. */
import { drawKernelMasks } from '../inspector';
import { store } from '../state';
import { el } from '../ui/dom';

export function kernelsCard(): HTMLElement {
  const box = el('div', { className: 'kernels' });
  const caption = el('p', { className: 'caption', textContent: 'No model on view yet.' });

  store.watch(
    (s) => [s.model, s.modelNote],
    ([model, note], previous) => {
      if (previous && model === previous[0]) {
        caption.textContent = note; // what went wrong loading a model
        return;
      }
      if (model.summary) {
        drawKernelMasks(box, model.summary);
        caption.textContent = `${model.summary.type}, ${model.summary.parameters.toLocaleString('en')} parameters.`;
      } else {
        box.replaceChildren();
        caption.textContent = note;
      }
    },
  );

  return el('section', { className: 'card wide run-only' }, el('h2', { textContent: 'Kernel masks (blue: connected; rows: input colour group, columns: output group; yellow: centre)' }), box, caption);
}
