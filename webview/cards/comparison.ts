/** The runs compared: how far each got, its last train NLL and its best test NLL, beside their curves. */
import { store } from '../state';
import { el } from '../ui/dom';

export function comparisonCard(): HTMLElement {
  const box = el('div', { className: 'comparison-box' });
  store.watch(
    (s) => [s.compared],
    ([runs]) => {
      if (!runs) return; // the card is hidden; its table stays until the next comparison
      const fixed = (v: number | undefined, digits: number) => (v === undefined ? '–' : v.toFixed(digits));
      const rows = runs.map((r) => {
        const train = r.metrics.filter((m) => m.split === 'train');
        const test = r.metrics.filter((m) => m.split === 'test');
        const best = test.reduce<(typeof test)[number] | undefined>((b, m) => (b === undefined || m.nats < b.nats ? m : b), undefined);
        return el(
          'tr',
          {},
          el('th', { scope: 'row', textContent: r.name }),
          el('td', { textContent: r.status }),
          el('td', { textContent: `${r.step}/${r.steps}` }),
          el('td', { textContent: fixed(train.at(-1)?.nats, 2) }),
          el('td', { textContent: fixed(best?.nats, 2) }),
          el('td', { textContent: fixed(best?.bitsPerDim, 4) }),
          el('td', { textContent: best ? String(best.step) : '–' }),
        );
      });
      const head = el('tr', {}, ...['run', 'status', 'step', 'last train (nats)', 'best test (nats)', 'best test (bits/dim)', 'at step'].map((h) => el('th', { scope: 'col', textContent: h })));
      box.replaceChildren(el('table', { className: 'comparison' }, el('thead', {}, head), el('tbody', {}, ...rows)));
    },
  );
  return el('section', { className: 'card compare-only wide' }, el('h2', { textContent: 'Runs compared' }), box);
}
