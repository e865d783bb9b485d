/**
 * The run's samples: every saved grid on a step slider, and new samples drawn pixel by pixel — while they are drawn,
 * the distribution the newest pixel of the first sample was drawn from. Hover to inspect.
 *
 * A class-conditional model's samples are drawn as the class picker says: one row per class, each row labelled with
 * its class's name, or every image of one class. The grids saved while training (image n of class n mod K) are laid
 * out a class a column, each column labelled.
 */
import { hover, pickSampleClass, showGrid } from '../actions';
import { DistributionView, distributionOf } from '../distribution';
import { ImageGrid } from '../grid';
import { type PanelState, classCount, className, levels, store } from '../state';
import { slider } from '../ui/controls';
import { el } from '../ui/dom';

/** How a conditional grid's classes lie: a class a row, a class a column (n mod K), all one class, or no pattern. */
export type ClassLayout =
  | { readonly kind: 'rows'; readonly perRow: number; readonly rows: readonly number[] }
  | { readonly kind: 'columns'; readonly columns: number }
  | { readonly kind: 'one'; readonly k: number }
  | { readonly kind: 'none' };

export function classLayout(classes: readonly number[] | undefined, K: number): ClassLayout {
  const count = classes?.length ?? 0;
  if (!classes || count === 0 || K === 0) return { kind: 'none' };
  if (classes.every((k) => k === classes[0])) return { kind: 'one', k: classes[0] };
  if (classes.every((k, n) => k === n % K)) return { kind: 'columns', columns: Math.min(K, count) };
  const perRow = classes.findIndex((k) => k !== classes[0]);
  if (perRow > 0 && count % perRow === 0 && classes.every((k, n) => k === classes[n - (n % perRow)])) {
    return { kind: 'rows', perRow, rows: Array.from({ length: count / perRow }, (_, r) => classes[r * perRow]) };
  }
  return { kind: 'none' };
}

export function samplesCard(): HTMLElement {
  const frame = el('div', { className: 'grid-frame' });
  const rowLabels = el('div', { className: 'row-labels', hidden: true });
  const columnLabels = el('div', { className: 'column-labels', hidden: true });
  const oneClass = el('p', { className: 'grid-class', hidden: true });
  const box = el('div', { className: 'grid' }, oneClass, frame);
  const caption = el('p', { className: 'caption', textContent: 'No samples yet.' });
  const grid = new ImageGrid(frame, () => levels(store.state), (hit) => hover(hit, 'samples'));
  frame.append(columnLabels, rowLabels);
  const step = slider('step', 0, 0, 1, 0, (v) => (store.state.grids[v] ? String(store.state.grids[v].step) : '–'), (v) => showGrid(v));
  const drawing = new DistributionView('The distribution the newest pixel of sample 1 was drawn from');
  const live = el('div', { className: 'drawing', hidden: true }, el('h3', { textContent: 'Being drawn (sample 1)' }), drawing.element);

  // The class picker: shown for a class-conditional model.
  const picker = el('select', { className: 'class-picker' });
  picker.setAttribute('aria-label', 'classes to sample');
  picker.addEventListener('change', () => pickSampleClass(picker.value === 'all' ? null : Number(picker.value)));
  const pick = el('label', { className: 'class-pick', hidden: true }, el('span', { textContent: 'draw' }), picker);

  store.watch(
    (s) => [classCount(s), s.classNames, s.view?.experiment, s.sampleClass],
    ([K, _names, _e, chosen], _previous, s) => {
      pick.hidden = K === 0;
      if (K === 0) return picker.replaceChildren();
      const options = [el('option', { value: 'all', textContent: 'all classes (one row per class)' }), ...Array.from({ length: K }, (_, k) => el('option', { value: String(k), textContent: `only ${className(s, k)}` }))];
      picker.replaceChildren(...options);
      picker.value = chosen === null || chosen >= K ? 'all' : String(chosen);
    },
  );

  store.watch(
    (s) => [s.samples, classCount(s), s.classNames],
    ([samples], _previous, s) => {
      if (!samples) {
        grid.clear();
        showLabels(s, { kind: 'none' }, 0);
        delete box.dataset.classes;
        return;
      }
      const layout = classLayout(samples.classes, classCount(s));
      const columns = layout.kind === 'rows' ? layout.perRow : layout.kind === 'columns' ? layout.columns : undefined;
      grid.show(samples.images, samples.drawn, columns);
      showLabels(s, layout, samples.images.count);
      if (samples.classes) box.dataset.classes = samples.classes.join(',');
      else delete box.dataset.classes;
      // Conditional grids are drawn at a whole number of screen pixels an image pixel, about 56 a tile.
      const W = samples.images.width;
      const wide = layout.kind === 'none' ? 360 : Math.min(480, grid.canvas.width * Math.max(1, Math.round(56 / W)));
      frame.style.gridTemplateColumns = `auto minmax(0, ${wide}px)`;
    },
  );

  /** The class labels beside each row (one row per class), over each column (n mod K), or over the grid (one class). */
  function showLabels(s: PanelState, layout: ClassLayout, count: number): void {
    rowLabels.hidden = layout.kind !== 'rows';
    columnLabels.hidden = layout.kind !== 'columns';
    oneClass.hidden = layout.kind !== 'one';
    const label = (k: number) => {
      const name = className(s, k);
      const span = el('span', { className: 'class-label', textContent: name, title: `class ${k}: ${name}` });
      span.dataset.class = String(k);
      return span;
    };
    let described = '';
    if (layout.kind === 'rows') {
      rowLabels.replaceChildren(...layout.rows.map(label));
      rowLabels.style.gridTemplateRows = `repeat(${layout.rows.length}, 1fr)`;
      described = `, one row per class (${layout.perRow} each): ${layout.rows.map((k) => className(s, k)).join(', ')}`;
    } else rowLabels.replaceChildren();
    if (layout.kind === 'columns') {
      columnLabels.replaceChildren(...Array.from({ length: layout.columns }, (_, k) => label(k)));
      columnLabels.style.gridTemplateColumns = `repeat(${layout.columns}, 1fr)`;
      described = `, a class a column: ${Array.from({ length: layout.columns }, (_, k) => className(s, k)).join(', ')}`;
    } else columnLabels.replaceChildren();
    if (layout.kind === 'one') {
      oneClass.textContent = `All of class ${className(s, layout.k)}`;
      described = `, all of class ${className(s, layout.k)}`;
    }
    if (count > 0) {
      grid.canvas.setAttribute('role', 'img');
      grid.canvas.setAttribute('aria-label', `${count} samples${described}`);
    } else grid.canvas.removeAttribute('aria-label');
  }

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

  return el('section', { className: 'card run-only' }, el('div', { className: 'toolbar' }, el('h2', { textContent: 'Samples' }), pick), box, step.element, caption, live);
}
