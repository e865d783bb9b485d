/**
 * What the panel does, each a change of the state (and the requests it sends): put a run on view, forget a model,
 * show images, stop, sample, inspect a hovered pixel, take over from a worker that died. Host and worker messages
 * (on-host.ts, on-worker.ts) and the cards' controls call these.
 */
import { type Experiment, imageShape } from '../src/experiment/types';
import type { ImageBatch, Metric } from '../src/protocol';
import type { GridHit } from './grid';
import { remember, toHost } from './host-bridge';
import { encoded } from './images';
import { type ImageSource, chartOf, forgottenModel, imageOf, onView, store, update } from './state';
import { worker } from './worker-bridge';
import type { ToWorker } from './worker-protocol';

/** Put one run on view (training, or from disk): its experiment and curves so far; nothing of the previous run stays. */
export function viewRun(id: string, name: string, json: string, metrics: readonly Metric[], status: string, checkpoint: Uint8Array | null): Experiment {
  const s = store.state;
  const same = s.view?.runId === id;
  const experiment = JSON.parse(json) as Experiment;
  remember(id);
  update({
    compared: null,
    view: { runId: id, name, status, checkpoint, experiment, serial: (s.view?.serial ?? 0) + 1 },
    chart: chartOf(s, [{ runId: id, name, metrics }]),
    grids: [],
    gridIndex: 0,
    samples: null,
    samplesNote: 'No samples yet.',
    error: null,
    ...(!same || id !== s.trainingRunId ? forgottenModel('Loading the model…') : {}),
  });
  return experiment;
}

/** The run's test images (or why there are none); the kept rows start again from none. */
export function showDataset(images: ImageBatch | null, why?: string): void {
  update({ dataset: { images, why }, keepRows: 0 });
}

/** A saved grid of samples: the step slider moves to it. */
export function addGrid(step: number, images: ImageBatch): void {
  const grids = [...store.state.grids, { step, images }];
  update({ grids, gridIndex: grids.length - 1, samples: { images, drawn: Infinity }, samplesNote: `Samples at step ${step}.` });
}

/** The step slider moved. */
export function showGrid(index: number): void {
  const g = store.state.grids[index];
  update(g ? { gridIndex: index, samples: { images: g.images, drawn: Infinity }, samplesNote: `Samples at step ${g.step}.` } : { gridIndex: index });
}

export function requestStop(): void {
  const s = store.state;
  if (!s.trainingRunId) return;
  worker.post({ type: 'stop', runId: s.trainingRunId } satisfies ToWorker);
  update(onView(s, s.trainingRunId) ? { stopping: true, status: 'stopping after this step…' } : { stopping: true });
}

/**
 * Draw samples from the run on view: the worker loads its checkpoint if it does not hold its model already.
 * `classes`: a class-conditional model's class per image (their number is the count; default: the experiment's
 * count, image n of class n mod K).
 */
export function requestSamples(seed = Math.floor(Math.random() * 1e9), fromHost = false, classes?: readonly number[]): void {
  const s = store.state;
  const view = s.view;
  if (!view) return;
  const e = view.experiment;
  const count = classes?.length ?? e.sampling.count;
  const shape = imageShape(e);
  const images = s.dataset?.images ?? null;
  let prefix: Uint8Array | null = null;
  if (s.keepRows > 0 && images) {
    const size = shape.height * shape.width * shape.channels;
    prefix = new Uint8Array(count * size);
    for (let n = 0; n < count; n++) prefix.set(encoded(images.data.subarray((n % images.count) * size, ((n % images.count) + 1) * size), e), n * size);
  }
  update({ sampling: { runId: view.runId, fromHost }, error: null, status: 'sampling', samplesNote: 'drawing samples…' });
  worker.post({
    type: 'sample',
    runId: view.runId,
    experiment: e,
    checkpoint: view.checkpoint,
    backend: e.training.backend,
    wasmPaths: worker.wasmPaths(),
    count,
    temperature: s.temperature,
    seed,
    keepRows: prefix ? s.keepRows : 0,
    prefix,
    ...(classes ? { classes } : {}),
  } satisfies ToWorker);
}

/** A pixel hovered: the structural map at once (its field asked for on the first hover), the gradient map to follow. */
export function hover(hit: GridHit | null, grid: ImageSource): void {
  const s = store.state;
  const summary = s.model.summary;
  if (!hit || !summary) return;
  const raw = imageOf(s, grid, hit.image);
  if (!raw) {
    update({ hover: { hit, grid } });
    return;
  }
  let field = s.field;
  if (!field.bits && !field.asked && s.view) {
    // The structural field is computed when first needed: training never waits for it.
    field = { ...field, asked: true };
    worker.post({ type: 'field', runId: s.view.runId } satisfies ToWorker);
  }
  // Dataset images are bytes; the model reads levels.
  const image = grid === 'dataset' ? encoded(raw, s.view?.experiment ?? null) : raw;
  const c = Math.min(s.outputChannel, summary.channels - 1);
  const request = s.hoverRequest + 1;
  update({
    hover: { hit, grid },
    field,
    hoverRequest: request,
    inspection: { image, i: hit.i, j: hit.j, c, source: grid === 'dataset' ? `test image ${hit.image + 1}` : `sample ${hit.image + 1}`, request },
    hoverResult: null,
  });
  worker.post({ type: 'gradient', request, image, i: hit.i, j: hit.j, c } satisfies ToWorker);
}

/** Inspect another colour channel: the last pixel hovered again. */
export function inspectChannel(channel: number): void {
  update({ outputChannel: channel });
  const last = store.state.hover;
  if (last) hover(last.hit, last.grid);
}

/**
 * The worker cannot go on (or its run was given up by the host): a fresh worker takes over, and the run it trained
 * ends as failed with the reason (told to the host unless the host ended it).
 */
export function workerRestarted(reason: string, tellHost: boolean): void {
  worker.restart();
  const s = store.state;
  let view = s.view;
  if (s.trainingRunId) {
    const id = s.trainingRunId;
    if (tellHost) toHost({ type: 'ended', runId: id, status: 'failed', step: 0, error: reason });
    if (onView(s, id)) view = { ...view!, status: 'failed' };
  }
  update({
    trainingRunId: null,
    stopping: s.trainingRunId ? false : s.stopping,
    view,
    sampling: null,
    ...forgottenModel('The model went with the worker: show the run again (Pixel Lab view) to inspect its last checkpoint.'),
    error: reason,
    status: view?.status ?? 'idle',
  });
  if (tellHost) toHost({ type: 'log', level: 'error', message: reason });
}
