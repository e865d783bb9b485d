/** The run's controls: Stop, Sample, the sampling temperature and the rows of dataset images that sampling keeps. */
import { requestSamples, requestStop } from '../actions';
import { busy, store, update } from '../state';
import { button, setEnabled, slider } from '../ui/controls';
import { el } from '../ui/dom';

export function controlsCard(): HTMLElement {
  const stopButton = button('Stop', () => requestStop(), 'secondary');
  const sampleButton = button('Sample', () => requestSamples());
  const temperature = slider('temperature', 0.1, 2, 0.05, 1, (v) => v.toFixed(2), (v) => update({ temperature: v }));
  const keepRows = slider('keep rows of dataset images', 0, 27, 1, 0, (v) => String(v), (v) => update({ keepRows: v }));

  store.watch(
    (s) => [s.trainingRunId !== null && s.trainingRunId === s.view?.runId && !s.stopping, !busy(s) && s.view !== null && (s.model.summary !== null || s.view.checkpoint !== null), (s.dataset?.images ?? null) !== null],
    ([canStop, canSample, canKeep]) => {
      setEnabled(stopButton, canStop);
      setEnabled(sampleButton, canSample);
      setEnabled(keepRows.element.querySelector('input')!, canKeep);
    },
  );
  store.watch(
    (s) => [s.temperature],
    ([t]) => temperature.set(t),
  );
  // Up to the last row of the dataset images (none: 0); before any run, the slider as made.
  store.watch(
    (s) => [s.keepRows, s.dataset],
    ([rows, dataset]) => keepRows.set(rows, dataset ? (dataset.images ? dataset.images.height - 1 : 0) : undefined),
  );

  return el('section', { className: 'controls run-only' }, stopButton, sampleButton, temperature.element, keepRows.element);
}
