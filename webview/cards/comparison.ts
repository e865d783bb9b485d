/**
 * The runs compared: how far each got, its last train NLL, and its best step — where its validation NLL is lowest
 * (where the test NLL is, for a run without validation points) — with the test NLL at that step, beside their curves.
 */
import type { Metric } from '../../src/protocol';
import { type ComparedRun, store } from '../state';
import { el } from '../ui/dom';

/** A run's best step, what chose it, and its validation and test points there (either may be missing). */
export function bestOf(metrics: readonly Metric[]): { step: number; by: 'validation' | 'test'; validation?: Metric; test?: Metric } | null {
  const lowest = (split: Metric['split']) => metrics.filter((m) => m.split === split).reduce<Metric | undefined>((b, m) => (b === undefined || m.nats < b.nats ? m : b), undefined);
  const validation = lowest('validation');
  if (validation) return { step: validation.step, by: 'validation', validation, test: metrics.find((m) => m.split === 'test' && m.step === validation.step) };
  const test = lowest('test');
  return test ? { step: test.step, by: 'test', test } : null;
}

export function comparisonCard(): HTMLElement {
  const box = el('div', { className: 'comparison-box' });
  store.watch(
    (s) => [s.compared],
    ([runs]) => {
      if (!runs) return; // the card is hidden; its table stays until the next comparison
      box.replaceChildren(comparisonTable(runs));
    },
  );
  // Not a .caption: the first of those on the page is the samples card's (the end-to-end tests read it).
  const note = el('p', {
    className: 'comparison-note',
    textContent: 'Best step: where the validation NLL is lowest (the test NLL, for a run without a validation set, marked "by test"); the test NLL is read at that step, never used to choose it.',
  });
  return el('section', { className: 'card compare-only wide' }, el('h2', { textContent: 'Runs compared' }), box, note);
}

function comparisonTable(runs: readonly ComparedRun[]): HTMLElement {
  const fixed = (v: number | undefined, digits: number) => (v === undefined ? '–' : v.toFixed(digits));
  const rows = runs.map((r) => {
    const train = r.metrics.filter((m) => m.split === 'train');
    const best = bestOf(r.metrics);
    return el(
      'tr',
      {},
      el('th', { scope: 'row', textContent: r.name }),
      el('td', { textContent: r.status }),
      el('td', { textContent: `${r.step}/${r.steps}` }),
      el('td', { textContent: fixed(train.at(-1)?.nats, 2) }),
      el('td', { textContent: fixed(best?.validation?.nats, 2) }),
      el('td', { textContent: fixed(best?.test?.nats, 2) }),
      el('td', { textContent: fixed(best?.test?.bitsPerDim, 4) }),
      el('td', { textContent: best ? `${best.step}${best.by === 'test' ? ' (by test)' : ''}` : '–' }),
    );
  });
  const columns = ['run', 'status', 'step', 'last train (nats)', 'best validation (nats)', 'test at best (nats)', 'test at best (bits/dim)', 'best step'];
  const head = el('tr', {}, ...columns.map((h) => el('th', { scope: 'col', textContent: h })));
  return el('table', { className: 'comparison' }, el('thead', {}, head), el('tbody', {}, ...rows));
}
