/**
 * What the panel does, each a change of the state (and the requests it sends): put a run on view, forget a model,
 * show images, stop, sample, inspect a hovered pixel, take over from a worker that died. Host and worker messages
 * (on-host.ts, on-worker.ts) and the cards' controls call these.
 */
import { type Experiment, imageShape } from '../src/experiment/types';
import type { ImageBatch, Metric } from '../src/protocol';
import type { GridHit } from './grid';
import { remember, toHost } from './host-bridge';
import { perClassClasses } from '../src/model/sampling/classes';
import { type ImageNotes, type ImageSource, type PanelState, chartOf, classCount, className, complete, forgottenModel, imageKey, labelOf, onView, store, update, valuesOf } from './state';
import { worker } from './worker-bridge';
import type { ToWorker } from './worker-protocol';

/** Put one run on view (training, or from disk): its experiment and curves so far (and a conditional run's class
 *  names); nothing of the previous run stays. */
export function viewRun(id: string, name: string, json: string, metrics: readonly Metric[], status: string, checkpoint: Uint8Array | null, classNames?: readonly string[]): Experiment {
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
    drawing: null,
    classNames: classNames ?? (same ? s.classNames : null),
    ...(!same ? { nllImage: 0, sampleClass: null } : {}),
    ...(!same || id !== s.trainingRunId ? forgottenModel('Loading the model…') : {}),
  });
  return experiment;
}

/** The run's test images (or why there are none); the kept rows start again from none. */
export function showDataset(images: ImageBatch | null, why?: string): void {
  update({ dataset: { images, why }, keepRows: 0 });
}

/** A saved grid of samples (a conditional model's: image n of class n mod K, as training draws them): the step
 *  slider moves to it. */
export function addGrid(step: number, images: ImageBatch): void {
  const K = classCount(store.state);
  const classes = K > 0 ? Array.from({ length: images.count }, (_, n) => n % K) : undefined;
  const grids = [...store.state.grids, { step, images, ...(classes ? { classes } : {}) }];
  update({ grids, gridIndex: grids.length - 1, samples: { images, drawn: Infinity, ...(classes ? { classes } : {}) }, samplesNote: `Samples at step ${step}.` });
}

/** The step slider moved. */
export function showGrid(index: number): void {
  const g = store.state.grids[index];
  update(g ? { gridIndex: index, samples: { images: g.images, drawn: Infinity, ...(g.classes ? { classes: g.classes } : {}) }, samplesNote: `Samples at step ${g.step}.` } : { gridIndex: index });
}

/** Images per class of a grid with one row per class: the experiment's sampling.count spread over the K classes, at
 *  least 4 (a class's variety shows) and at most 8 (a row stays readable). */
export function perClassCount(count: number, K: number): number {
  return Math.min(8, Math.max(4, Math.ceil(count / K)));
}

/** What Sample draws from a conditional model: one row per class (`sampleClass` null), or `count` of one class. */
export function pickSampleClass(k: number | null): void {
  update({ sampleClass: k });
}

/** The classes Sample draws (undefined for an unconditional model): as the class picker says. */
export function sampleClassesOf(s: PanelState): number[] | undefined {
  const K = classCount(s);
  if (K === 0 || !s.view) return undefined;
  const count = s.view.experiment.sampling.count;
  if (s.sampleClass !== null && s.sampleClass < K) return new Array<number>(count).fill(s.sampleClass);
  return Array.from(perClassClasses(K, perClassCount(count, K)));
}

export function requestStop(): void {
  const s = store.state;
  if (!s.trainingRunId) return;
  worker.post({ type: 'stop', runId: s.trainingRunId } satisfies ToWorker);
  update(onView(s, s.trainingRunId) ? { stopping: true, status: 'stopping after this step…' } : { stopping: true });
}

/**
 * Draw samples from the run on view: the worker loads its checkpoint if it does not hold its model already.
 * `classes`: a class-conditional model's class per image (their number is the count; default: as the class picker
 * says, one row per class or every image of one class).
 */
export function requestSamples(seed = Math.floor(Math.random() * 1e9), fromHost = false, asked?: readonly number[]): void {
  const s = store.state;
  const view = s.view;
  if (!view) return;
  const classes = asked ?? sampleClassesOf(s);
  const e = view.experiment;
  const count = classes?.length ?? e.sampling.count;
  const shape = imageShape(e);
  const images = s.dataset?.images ?? null;
  let prefix: Uint8Array | null = null;
  // The kept rows are the test images as evaluation encodes them (the values the host sent beside their bytes).
  if (s.keepRows > 0 && images?.values) {
    const size = shape.height * shape.width * shape.channels;
    prefix = new Uint8Array(count * size);
    for (let n = 0; n < count; n++) prefix.set(images.values.subarray((n % images.count) * size, ((n % images.count) + 1) * size), n * size);
  }
  update({ sampling: { runId: view.runId, fromHost, ...(classes ? { classes } : {}) }, error: null, status: 'sampling', samplesNote: 'drawing samples…', drawing: null });
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

/**
 * A pixel hovered: the structural map and what the model predicted there at once (its field asked for on the first
 * hover, the image's beliefs on its first hover unless already asked for), the gradient map to follow.
 */
export function hover(hit: GridHit | null, grid: ImageSource): void {
  const s = store.state;
  const summary = s.model.summary;
  if (!hit || !summary) return;
  // Test images as evaluation encodes them; samples as drawn.
  const image = valuesOf(s, grid, hit.image);
  if (!image) {
    update({ hover: { hit, grid } });
    return;
  }
  let field = s.field;
  if (!field.bits && !field.asked && s.view) {
    // The structural field is computed when first needed: training never waits for it.
    field = { ...field, asked: true };
    worker.post({ type: 'field', runId: s.view.runId } satisfies ToWorker);
  }
  const c = Math.min(s.outputChannel, summary.channels - 1);
  const request = s.hoverRequest + 1;
  // A conditional model reads each image as of its own class: a test image's label, the class a sample was drawn for.
  const label = labelOf(s, grid, hit.image);
  const ofClass = label !== undefined ? ` (class ${className(s, label)})` : '';
  update({
    hover: { hit, grid },
    field,
    hoverRequest: request,
    inspection: { image, i: hit.i, j: hit.j, c, source: `${grid === 'dataset' ? `test image ${hit.image + 1}` : `sample ${hit.image + 1}`}${ofClass}`, request },
    hoverResult: null,
  });
  worker.post({ type: 'gradient', request, image, i: hit.i, j: hit.j, c, ...(label !== undefined ? { label } : {}) } satisfies ToWorker);
  askBeliefs([{ grid, n: hit.image }]);
}

// --------------------------------------------------------------------------------------------------------------
// What the model believes at each pixel: one `beliefs` request an image, kept in `imageNotes`, so a hover is a lookup.

/**
 * Ask the worker what the model on view believes at every pixel of these images (those not asked for already, and
 * whole: a sample being drawn is asked for once it is done). `again`: ask anew, keeping the last answer until the new
 * one comes (the model trained on).
 */
export function askBeliefs(images: readonly { grid: ImageSource; n: number }[], again = false): void {
  const s = store.state;
  if (!s.view || !s.model.summary || s.compared) return;
  let request = s.beliefsRequest;
  const notes = new Map(s.imageNotes);
  const posts: ToWorker[] = [];
  for (const { grid, n } of images) {
    const key = imageKey(grid, n);
    const note = notes.get(key);
    if ((note && !again) || !complete(s, grid)) continue;
    const image = valuesOf(s, grid, n);
    if (!image) continue;
    request++;
    notes.set(key, { request, ...(note?.beliefs ? { beliefs: note.beliefs } : {}) });
    const label = labelOf(s, grid, n);
    posts.push({ type: 'beliefs', request, runId: s.view.runId, image: image.slice(), ...(label !== undefined ? { label } : {}) });
  }
  if (posts.length === 0) return;
  update({ beliefsRequest: request, imageNotes: notes });
  for (const m of posts) worker.post(m);
}

/** Probabilities held per grid (16 MB) up to which all its images are asked about at once; past it, one on hover. */
const BELIEFS_BUDGET = 4_000_000;

/** The images whose beliefs are asked for as soon as there is a model: the NLL map's, then every image of a small grid. */
function wantedBeliefs(s: PanelState): { grid: ImageSource; n: number }[] {
  const summary = s.model.summary;
  if (!summary) return [];
  const per = summary.height * summary.width * summary.channels * (summary.levels > 2 ? summary.levels : 1);
  const all = (count: number) => (count * per <= BELIEFS_BUDGET ? Array.from({ length: count }, (_, n) => n) : []);
  const wanted: { grid: ImageSource; n: number }[] = [];
  const tests = s.dataset?.images?.count ?? 0;
  if (s.nllImage < tests) wanted.push({ grid: 'dataset', n: s.nllImage });
  for (const n of all(tests)) if (n !== s.nllImage) wanted.push({ grid: 'dataset', n });
  if (s.samples && s.samples.drawn === Infinity) for (const n of all(s.samples.images.count)) wanted.push({ grid: 'samples', n });
  return wanted;
}

export function followBeliefs(): void {
  store.watch(
    (s) => [s.model, s.dataset, s.samples, s.nllImage, s.compared, s.view?.runId],
    (_slices, _previous, s) => askBeliefs(wantedBeliefs(s)),
  );
}

/**
 * The model on view changed its weights. While it trains (at each test evaluation), only the NLL map's image is
 * asked again — the other images' beliefs go, to be asked again on their next hover — so training is not held up by
 * a forward pass an image; once it ends (`all`), every image on view is asked again.
 */
export function refreshBeliefs(all: boolean): void {
  const s = store.state;
  const mapped = imageKey('dataset', s.nllImage);
  if (!all) {
    const note = s.imageNotes.get(mapped);
    update({ imageNotes: new Map(note ? [[mapped, note]] : []) });
    askBeliefs([{ grid: 'dataset', n: s.nllImage }], true);
    return;
  }
  const keys = new Set([...s.imageNotes.keys(), ...wantedBeliefs(s).map(({ grid, n }) => imageKey(grid, n))]);
  askBeliefs(
    [...keys].map((key) => {
      const [grid, n] = key.split(':');
      return { grid: grid as ImageSource, n: Number(n) };
    }),
    true,
  );
}

/** The answer to a beliefs request (or its failure): kept if its image's note still asks for it. */
export function beliefsAnswered(request: number, runId: string, answer: Pick<ImageNotes, 'beliefs' | 'failure'>): void {
  const s = store.state;
  if (s.view?.runId !== runId) return;
  const key = [...s.imageNotes].find(([, note]) => note.request === request)?.[0];
  if (key === undefined) return;
  update({ imageNotes: new Map(s.imageNotes).set(key, { request, ...answer }) });
}

/** Show this test image's NLL map. */
export function pickNllImage(n: number): void {
  update({ nllImage: n });
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
    drawing: null,
    ...forgottenModel('The model went with the worker: show the run again (Pixel Lab view) to inspect its last checkpoint.'),
    error: reason,
    status: view?.status ?? 'idle',
  });
  if (tellHost) toHost({ type: 'log', level: 'error', message: reason });
}
