/** The loss curves of the run on view, or of the runs compared: nats or bits/dim, log scale, smoothing. */
import { LossChart, type Unit } from '../chart';
import { store } from '../state';
import { checkbox, dropdown, slider } from '../ui/controls';
import { el } from '../ui/dom';

export function lossCard(): HTMLElement {
  const box = el('div', { className: 'chart' });
  const chart = new LossChart(box);

  // A new set of curves is drawn afresh; points added to the curves on the chart are added to it.
  let serial = store.state.chart.serial;
  let drawn = store.state.chart.curves.map((c) => c.metrics.length);
  store.watch(
    (s) => [s.chart],
    ([{ serial: now, curves }]) => {
      if (now !== serial) {
        chart.setRuns(curves.map((c) => ({ name: c.name, metrics: c.metrics })));
        serial = now;
        drawn = curves.map((c) => c.metrics.length);
        return;
      }
      curves.forEach((c, k) => {
        for (const point of c.metrics.slice(drawn[k])) chart.add(point, k);
        drawn[k] = c.metrics.length;
      });
    },
  );

  return el(
    'section',
    { className: 'card chart-card' },
    el('h2', { textContent: 'Loss' }),
    el(
      'div',
      { className: 'toolbar' },
      dropdown(
        [
          { value: 'nats', label: 'nats per image' },
          { value: 'bits', label: 'bits/dim' },
        ],
        (v) => chart.setUnit(v as Unit),
      ),
      checkbox('log scale', (on) => chart.setLog(on)),
      slider('smoothing', 0, 0.99, 0.01, 0.6, (v) => v.toFixed(2), (v) => chart.setSmoothing(v)).element,
    ),
    box,
  );
}
