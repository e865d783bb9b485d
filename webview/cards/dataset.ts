/** The run's test images, at full resolution: hover one to inspect it, click one to map its NLL; "keep rows" completes them. */
import { hover, pickNllImage } from '../actions';
import { ImageGrid } from '../grid';
import { classCount, className, store } from '../state';
import { el } from '../ui/dom';

export function datasetCard(): HTMLElement {
  const box = el('div', { className: 'grid dataset' });
  const caption = el('p', { className: 'caption', textContent: '' });
  // The bytes (0–255), not the levels the model reads.
  const grid = new ImageGrid(box, () => 256, (hit) => hover(hit, 'dataset'));
  grid.canvas.addEventListener('click', (e) => {
    const hit = grid.hit(e);
    if (hit) pickNllImage(hit.image);
  });

  store.watch(
    (s) => [s.dataset, classCount(s), s.classNames],
    ([dataset], _previous, s) => {
      if (!dataset) return;
      const { images, why } = dataset;
      if (!images) {
        grid.clear();
        grid.canvas.removeAttribute('aria-label');
        caption.textContent = why ? `The data set could not be read: ${why}` : 'No dataset images for this run.';
        return;
      }
      grid.show(images);
      grid.canvas.setAttribute('role', 'img');
      // A conditional model's test images are read as of their own class: their labels are said.
      const labels = images.labels && classCount(s) > 0 ? Array.from(images.labels, (k) => className(s, k)) : null;
      const classes = labels ? `; their classes, in order: ${labels.join(', ')}` : '';
      grid.canvas.setAttribute('aria-label', `${images.count} test images of the run's test split, ${images.height}×${images.width}${images.channels === 3 ? ' in colour' : ''}${classes}`);
      caption.textContent = `${images.count} test images (test split${labels ? ', each read as of its own class' : ''}): hover one to inspect it, click one to map its NLL; "keep rows" completes them.${labels ? ` Classes, in order: ${labels.join(', ')}.` : ''}`;
    },
  );

  return el('section', { className: 'card run-only' }, el('h2', { textContent: 'Dataset (test images)' }), box, caption);
}
