/**
 * What each message from the extension host (src/protocol.ts, validated on arrival by host-bridge.ts) does to the
 * panel: one function per message type, each a change of the state and the requests it starts.
 */
import { testImageSubset } from '../src/data/test-images';
import type { HostMessage, RunView } from '../src/protocol';
import { addGrid, requestSamples, requestStop, showDataset, viewRun, workerRestarted } from './actions';
import { toHost } from './host-bridge';
import { decodeGrid } from './images';
import { chartOf, curveOf, onView, stillShowing, store, update, withPoints } from './state';
import { worker } from './worker-bridge';
import type { ToWorker } from './worker-protocol';

type Message<T extends HostMessage['type']> = Extract<HostMessage, { type: T }>;

export function onHostMessage(m: HostMessage): void {
  switch (m.type) {
    case 'train':
      return train(m);
    case 'show':
      void showRun(m.run);
      return;
    case 'compare':
      return compare(m);
    case 'stop':
      if (m.runId === store.state.trainingRunId) requestStop();
      return;
    case 'abandon':
      return abandon(m);
    case 'dataset':
      if (onView(store.state, m.runId)) showDataset(m.images, m.error);
      return;
    case 'news':
      return news(m);
    case 'sample':
      return sample(m);
  }
}

/** Train a run: it comes on view, and the worker trains it (the host writes what it reports). */
function train(m: Message<'train'>): void {
  update({ trainingRunId: m.runId, stopping: false });
  const e = viewRun(m.runId, m.name, m.experiment, m.metrics, 'running', m.checkpoint, m.classNames);
  // A conditional run's test images come with their labels: each is read as of its own class.
  showDataset(testImageSubset(m.images, e, 16, m.labels));
  update({ status: 'starting', backend: { ...store.state.backend, choosing: true } });
  worker.post({ type: 'train', runId: m.runId, experiment: e, images: m.images, ...(m.labels ? { labels: m.labels } : {}), checkpoint: m.checkpoint, backend: m.backend, wasmPaths: worker.wasmPaths() } satisfies ToWorker);
  toHost({ type: 'started', runId: m.runId });
}

/**
 * Show a run from disk; the worker loads its model first (before any later request), then the grids decode. A
 * sample request loads the model itself (`load` false): one request, one answer.
 */
async function showRun(run: RunView, load = true): Promise<void> {
  const e = viewRun(run.runId, run.name, run.experiment, run.metrics, run.status, run.checkpoint, run.classNames);
  showDataset(run.dataset, run.datasetError);
  const s = store.state;
  if (run.runId === s.trainingRunId) {
    // Back to the run in training: the worker holds its live model, newer than any checkpoint.
    update({ status: s.stopping ? 'stopping after this step…' : 'training' });
  } else {
    update({ status: run.status });
    if (load) worker.post({ type: 'load', runId: run.runId, experiment: e, checkpoint: run.checkpoint, backend: e.training.backend, wasmPaths: worker.wasmPaths() } satisfies ToWorker);
  }
  const serial = s.view!.serial;
  for (const g of run.grids) {
    try {
      const images = await decodeGrid(g.png, e);
      if (!stillShowing(serial)) return;
      addGrid(g.step, images);
    } catch {
      if (stillShowing(serial)) update({ samplesNote: `The grid of step ${g.step} could not be read.` });
    }
  }
}

/** Several runs' curves on one chart, beside a table of their numbers. */
function compare(m: Message<'compare'>): void {
  const s = store.state;
  update({
    chart: chartOf(
      s,
      m.runs.map((r) => ({ runId: r.runId, name: r.name, metrics: r.metrics })),
    ),
    compared: m.runs.map(({ runId, name, status, step, steps, metrics }) => ({ runId, name, status, step, steps, metrics })),
  });
}

/** The host gave up the run in training (or on view): it ends as failed, with why. */
function abandon(m: Message<'abandon'>): void {
  if (m.runId === store.state.trainingRunId) workerRestarted(m.reason, false);
  const s = store.state;
  if (onView(s, m.runId)) update({ view: { ...s.view!, status: 'failed' }, error: m.reason, status: 'failed' });
}

/** A run training elsewhere wrote more: its curves, grids and status follow (points it had already, skipped). */
function news(m: Message<'news'>): void {
  const s = store.state;
  const curve = curveOf(s, m.runId);
  if (m.runId === s.trainingRunId || curve < 0) return;
  // The last step of each curve on the chart: only what is newer is added.
  const seen = { train: 0, validation: 0, test: 0 };
  for (const p of s.chart.curves[curve].metrics) seen[p.split] = Math.max(seen[p.split], p.step);
  const fresh = m.metrics.filter((point) => {
    if (point.step <= seen[point.split]) return false;
    seen[point.split] = point.step;
    return true;
  });
  if (!onView(s, m.runId)) {
    update({ chart: withPoints(s, curve, fresh) });
    return;
  }
  const view = s.view!;
  update({
    chart: withPoints(s, curve, fresh),
    view: { ...view, status: m.status },
    status: m.status === 'running' ? `step ${m.metrics.filter((p) => p.split === 'train').at(-1)?.step ?? m.step}/${view.experiment.training.steps} (elsewhere)` : m.status,
  });
  for (const g of m.grids.filter((g) => !s.grids.some((h) => h.step === g.step))) {
    void decodeGrid(g.png, view.experiment)
      .then((images) => stillShowing(view.serial) && addGrid(g.step, images))
      .catch(() => {});
  }
}

/** Sample from a run (Sample from Run): it comes on view, the sliders take the request's settings. */
function sample(m: Message<'sample'>): void {
  void showRun(m.run, false);
  update({ temperature: m.temperature, keepRows: m.keepRows });
  requestSamples(m.seed, true, m.classes);
}
