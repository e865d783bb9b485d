/**
 * The Pixel Lab panel: loss curves, sample grids, the dataset, and the mask inspector. TF.js lives in a worker
 * (webview/worker.ts) so that hovering stays instant while a model trains; the extension host writes the files.
 * Every message from the host is validated (src/protocol.ts) and a malformed one is rejected, never acted on.
 */
import { encodeImage } from '../src/data/encoding';
import { imagesFromGrid } from '../src/data/grid';
import { testImageSubset } from '../src/data/test-images';
import { type Experiment, imageShape } from '../src/experiment/types';
import { type HostMessage, type ImageBatch, type PanelMessage, type RunView, validateHostMessage } from '../src/protocol';
import { LossChart, type Unit } from './chart';
import { type GridHit, ImageGrid } from './grid';
import { drawKernelMasks, Inspector } from './inspector';
import { badge, button, checkbox, dropdown, setEnabled, slider } from './ui/controls';
import type { WasmPaths } from '../src/backend/select';
import type { FromWorker, ModelSummary, ToWorker } from './worker-protocol';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void };

const vscode = acquireVsCodeApi();
const config = document.body.dataset as { workerSrc: string; wasmPaths: string };
const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

function toHost(message: PanelMessage, transfer?: Transferable[]): void {
  // VS Code's webview API takes no transfer list; the harness (and VS Code) copy ArrayBuffers efficiently.
  void transfer;
  vscode.postMessage(message);
}

// --------------------------------------------------------------------------------------------------------------
// State

/** The run on view (or sampled, or inspected), with what the worker needs to load its model. */
let view: { runId: string; status: string; checkpoint: Uint8Array | null } | null = null;
/** The run the worker is training, which may be off view while runs are compared. */
let trainingRunId: string | null = null;
let stopping = false;
/** The runs on the chart while comparing; null when one run is on view. */
let compared: string[] | null = null;
let experiment: Experiment | null = null;
let levels = 2;
let summary: ModelSummary | null = null;
/** Sampling in progress: for which run, and whether the host asked for it. */
let sampling: { runId: string; fromHost: boolean } | null = null;
const grids: { step: number; images: ImageBatch }[] = [];
let datasetImages: ImageBatch | null = null;
let hoverRequest = 0;
let lastHover: { hit: GridHit; grid: ImageGrid } | null = null;
let fieldAsked = false;

const runId = () => view?.runId ?? null;
/** The last step of each curve on the chart, per run: news of a run followed elsewhere adds only what is newer. */
const latest = new Map<string, { train: number; test: number }>();
function noteLatest(id: string, metrics: RunView['metrics']): void {
  const last = (split: 'train' | 'test') => metrics.filter((p) => p.split === split).reduce((n, p) => Math.max(n, p.step), 0);
  latest.set(id, { train: last('train'), test: last('test') });
}
const busy = () => trainingRunId !== null || sampling !== null;

// --------------------------------------------------------------------------------------------------------------
// Layout

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const title = el('h1', { textContent: 'Pixel Lab' });
const status = badge('idle');
status.classList.add('run-only');
status.id = 'run-status';
const backendLine = el('span', { className: 'backend run-only', textContent: 'no backend yet' });
const fallbackNote = el('p', { className: 'notice', hidden: true });
const errorNote = el('p', { className: 'notice error', hidden: true });
errorNote.id = 'run-error';
const emptyNote = el('p', { className: 'empty-state' });
emptyNote.append(
  el('strong', { textContent: 'No run on view. ' }),
  'Train an experiment (Pixel Lab: Train Experiment, or ▷ beside it in the Pixel Lab view), or click a run in the Pixel Lab view to see its curves, samples and what each pixel depends on.',
);
const stopButton = button('Stop', () => requestStop(), 'secondary');
const sampleButton = button('Sample', () => requestSamples());
let temperature = 1;
let keepRows = 0;
const temperatureSlider = slider('temperature', 0.1, 2, 0.05, 1, (v) => v.toFixed(2), (v) => (temperature = v));
const keepSlider = slider('keep rows of dataset images', 0, 27, 1, 0, (v) => String(v), (v) => (keepRows = v));
const chartBox = el('div', { className: 'chart' });
const chart = new LossChart(chartBox);
const gridBox = el('div', { className: 'grid' });
const gridStatus = el('p', { className: 'caption', textContent: 'No samples yet.' });
const stepSlider = slider('step', 0, 0, 1, 0, (v) => (grids[v] ? String(grids[v].step) : '–'), (v) => showGrid(v));
const datasetBox = el('div', { className: 'grid dataset' });
const datasetCaption = el('p', { className: 'caption', textContent: '' });
const inspectorBox = el('div');
const inspector = new Inspector(inspectorBox);
const kernelsBox = el('div', { className: 'kernels' });
const kernelsCaption = el('p', { className: 'caption', textContent: 'No model on view yet.' });
const comparisonBox = el('div', { className: 'comparison-box' });
let outputChannel = 0;
const channelPicker = dropdown(
  [
    { value: '0', label: 'output R' },
    { value: '1', label: 'output G' },
    { value: '2', label: 'output B' },
  ],
  (v) => {
    outputChannel = Number(v);
    if (lastHover) hover(lastHover.hit, lastHover.grid);
  },
);
channelPicker.hidden = true;

document.getElementById('app')!.append(
  el('header', { className: 'bar' }, title, status, backendLine),
  fallbackNote,
  errorNote,
  emptyNote,
  el('section', { className: 'controls run-only' }, stopButton, sampleButton, temperatureSlider.element, keepSlider.element),
  el(
    'div',
    { className: 'layout' },
    el(
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
      chartBox,
    ),
    el('section', { className: 'card compare-only wide' }, el('h2', { textContent: 'Runs compared' }), comparisonBox),
    el('section', { className: 'card run-only' }, el('h2', { textContent: 'Samples' }), gridBox, stepSlider.element, gridStatus),
    el('section', { className: 'card run-only' }, el('h2', { textContent: 'Dataset (test images)' }), datasetBox, datasetCaption),
    el('section', { className: 'card inspector-card run-only' }, el('div', { className: 'toolbar' }, el('h2', { textContent: 'What this pixel depends on' }), channelPicker), inspectorBox),
    el('section', { className: 'card wide run-only' }, el('h2', { textContent: 'Kernel masks (blue: connected; rows: input colour group, columns: output group; yellow: centre)' }), kernelsBox, kernelsCaption),
  ),
);
document.body.classList.add('empty');

const sampleGrid = new ImageGrid(gridBox, () => levels, (hit, grid) => hover(hit, grid));
const datasetGrid = new ImageGrid(datasetBox, () => levels, (hit, grid) => hover(hit, grid));

/** The badge, and which controls work now. */
function setStatus(text: string): void {
  status.textContent = text;
  status.dataset.status = text;
  setEnabled(stopButton, trainingRunId !== null && trainingRunId === runId() && !stopping);
  setEnabled(sampleButton, !busy() && view !== null && (summary !== null || view.checkpoint !== null));
  setEnabled(keepSlider.element.querySelector('input')!, datasetImages !== null);
}
setStatus('idle');

function showError(message: string | null): void {
  errorNote.hidden = message === null;
  errorNote.textContent = message ?? '';
}

function showGrid(index: number): void {
  const g = grids[index];
  if (g) {
    sampleGrid.show(g.images);
    gridStatus.textContent = `Samples at step ${g.step}.`;
  }
}

function addGrid(step: number, images: ImageBatch): void {
  grids.push({ step, images });
  stepSlider.set(grids.length - 1, grids.length - 1);
  showGrid(grids.length - 1);
}

function hover(hit: GridHit | null, grid: ImageGrid): void {
  if (!hit || !summary) return;
  lastHover = { hit, grid };
  const raw = grid.image(hit.image);
  if (!raw) return;
  if (!inspector.hasField && !fieldAsked && view) {
    // The structural field is computed when first needed: training never waits for it.
    fieldAsked = true;
    worker.postMessage({ type: 'field', runId: view.runId } satisfies ToWorker);
  }
  // Dataset images are bytes; the model reads levels.
  const image = grid === datasetGrid ? encoded(raw) : raw;
  const c = Math.min(outputChannel, summary.channels - 1);
  inspector.inspect({ image, i: hit.i, j: hit.j, c, source: grid === datasetGrid ? `test image ${hit.image + 1}` : `sample ${hit.image + 1}` });
  worker.postMessage({ type: 'gradient', request: ++hoverRequest, image, i: hit.i, j: hit.j, c } satisfies ToWorker);
}

function encoded(bytes: Uint8Array): Uint8Array {
  if (!experiment) return bytes;
  const values = new Float32Array(bytes.length);
  encodeImage(bytes, { levels: experiment.data.levels, binarize: 'fixed', threshold: experiment.data.binarize === 'fixed' ? experiment.data.threshold : 0.5 }, null, values);
  return Uint8Array.from(values);
}

function requestStop(): void {
  if (!trainingRunId) return;
  stopping = true;
  worker.postMessage({ type: 'stop', runId: trainingRunId } satisfies ToWorker);
  if (onView(trainingRunId)) setStatus('stopping after this step…');
}

/**
 * Draw samples from the run on view: the worker loads its checkpoint if it does not hold its model already.
 * `classes`: a class-conditional model's class per image (their number is the count; default: the experiment's
 * count, image n of class n mod K).
 */
function requestSamples(seed = Math.floor(Math.random() * 1e9), fromHost = false, classes?: readonly number[]): void {
  if (!view || !experiment) return;
  const e = experiment;
  const count = classes?.length ?? e.sampling.count;
  const shape = imageShape(e);
  let prefix: Uint8Array | null = null;
  if (keepRows > 0 && datasetImages) {
    const size = shape.height * shape.width * shape.channels;
    prefix = new Uint8Array(count * size);
    for (let n = 0; n < count; n++) prefix.set(encoded(datasetImages.data.subarray((n % datasetImages.count) * size, ((n % datasetImages.count) + 1) * size)), n * size);
  }
  sampling = { runId: view.runId, fromHost };
  showError(null);
  setStatus('sampling');
  gridStatus.textContent = 'drawing samples…';
  worker.postMessage({
    type: 'sample',
    runId: view.runId,
    experiment: e,
    checkpoint: view.checkpoint,
    backend: e.training.backend,
    wasmPaths: wasmPaths(),
    count,
    temperature,
    seed,
    keepRows: prefix ? keepRows : 0,
    prefix,
    ...(classes ? { classes } : {}),
  } satisfies ToWorker);
}

function showDatasetImages(images: ImageBatch | null, why?: string): void {
  datasetImages = images;
  if (!images) {
    datasetGrid.clear();
    datasetCaption.textContent = why ? `The data set could not be read: ${why}` : 'No dataset images for this run.';
    keepSlider.set(0, 0);
    return;
  }
  // The grid draws levels: show the bytes at full resolution.
  const previous = levels;
  levels = 256;
  datasetGrid.show(images);
  levels = previous;
  datasetCaption.textContent = `${images.count} test images (hover one to inspect it; "keep rows" completes them).`;
  keepSlider.set(0, images.height - 1);
}

async function decodeGrid(png: Uint8Array, e: Experiment): Promise<ImageBatch> {
  const bitmap = await createImageBitmap(new Blob([png as BlobPart], { type: 'image/png' }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = canvas.getContext('2d')!;
  g.drawImage(bitmap, 0, 0);
  const shape = imageShape(e, undefined);
  const o = { count: e.sampling.count, ...shape, levels: e.data.levels };
  return { data: imagesFromGrid(g.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, o), count: o.count, ...shape };
}

/** Put one run on view (training, or from disk): its experiment and curves so far; nothing of the previous run stays. */
function viewRun(id: string, name: string, json: string, metrics: RunView['metrics'], runStatus: string, checkpoint: Uint8Array | null): Experiment {
  setComparing(null);
  const same = view?.runId === id;
  view = { runId: id, status: runStatus, checkpoint };
  vscode.setState({ runId: id });
  document.body.dataset.runId = id;
  document.body.classList.remove('empty');
  const e = JSON.parse(json) as Experiment;
  experiment = e;
  levels = e.data.levels;
  title.textContent = name;
  chart.setRuns([{ name, metrics }]);
  noteLatest(id, metrics);
  grids.length = 0;
  stepSlider.set(0, 0);
  sampleGrid.clear();
  gridStatus.textContent = 'No samples yet.';
  showError(null);
  if (!same || id !== trainingRunId) forgetModel('Loading the model…');
  return e;
}

/** No model on view any more (another run came on view, or the worker was replaced): its cards say why. */
function forgetModel(why: string): void {
  summary = null;
  fieldAsked = false;
  lastHover = null;
  inspector.clearModel();
  kernelsBox.replaceChildren();
  kernelsCaption.textContent = why;
  channelPicker.hidden = true;
}

/** One run's panel (training or a finished run), or the comparison of several runs' curves. */
function setComparing(runs: readonly RunView[] | null): void {
  compared = runs ? runs.map((r) => r.runId) : null;
  document.body.classList.toggle('comparing', runs !== null);
  if (runs) document.body.classList.remove('empty');
}

/** Which curve of the chart a run's points belong on (−1: it is not on the chart). */
function curveOf(id: string): number {
  return compared ? compared.indexOf(id) : id === runId() ? 0 : -1;
}

/** Whether the panel shows this run alone: its grid and status follow it. */
function onView(id: string): boolean {
  return !compared && id === runId();
}

/** The numbers a comparison is read for: how far each run got, and its best test NLL. */
function showComparison(runs: readonly RunView[]): void {
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
  comparisonBox.replaceChildren(el('table', { className: 'comparison' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

/**
 * Show a run from disk; the worker loads its model first (before any later request), then the grids decode. A
 * sample request loads the model itself (`load` false): one request, one answer.
 */
async function showRun(run: RunView, load = true): Promise<void> {
  const e = viewRun(run.runId, run.name, run.experiment, run.metrics, run.status, run.checkpoint);
  showDatasetImages(run.dataset, run.datasetError);
  if (run.runId === trainingRunId) {
    // Back to the run in training: the worker holds its live model, newer than any checkpoint.
    setStatus(stopping ? 'stopping after this step…' : 'training');
  } else {
    setStatus(run.status);
    if (load) worker.postMessage({ type: 'load', runId: run.runId, experiment: e, checkpoint: run.checkpoint, backend: e.training.backend, wasmPaths: wasmPaths() } satisfies ToWorker);
  }
  for (const g of run.grids) {
    try {
      addGrid(g.step, await decodeGrid(g.png, e));
    } catch {
      gridStatus.textContent = `The grid of step ${g.step} could not be read.`;
    }
  }
}

function onHostMessage(m: HostMessage): void {
  switch (m.type) {
    case 'train': {
      trainingRunId = m.runId;
      stopping = false;
      const e = viewRun(m.runId, m.name, m.experiment, m.metrics, 'running', m.checkpoint);
      showDatasetImages(testImageSubset(m.images, e));
      setStatus('starting');
      backendLine.textContent = 'choosing a backend…';
      worker.postMessage({ type: 'train', runId: m.runId, experiment: e, images: m.images, ...(m.labels ? { labels: m.labels } : {}), checkpoint: m.checkpoint, backend: m.backend, wasmPaths: wasmPaths() } satisfies ToWorker);
      toHost({ type: 'started', runId: m.runId });
      return;
    }
    case 'show':
      void showRun(m.run);
      return;
    case 'compare':
      chart.setRuns(m.runs.map((r) => ({ name: r.name, metrics: r.metrics })));
      for (const r of m.runs) noteLatest(r.runId, r.metrics);
      title.textContent = `Comparing ${m.runs.length} run${m.runs.length === 1 ? "" : "s"}`;
      showComparison(m.runs);
      setComparing(m.runs);
      return;
    case 'stop':
      if (m.runId === trainingRunId) requestStop();
      return;
    case 'abandon':
      if (m.runId === trainingRunId) restartWorker(m.reason, false);
      if (onView(m.runId)) {
        view = { ...view!, status: 'failed' };
        showError(m.reason);
        setStatus('failed');
      }
      return;
    case 'dataset':
      if (onView(m.runId)) showDatasetImages(m.images, m.error);
      return;
    case 'news': {
      // A run training elsewhere wrote more: its curves, grids and status follow (points it had already, skipped).
      if (m.runId === trainingRunId || curveOf(m.runId) < 0) return;
      const seen = latest.get(m.runId) ?? { train: 0, test: 0 };
      for (const point of m.metrics) {
        if (point.step <= seen[point.split]) continue;
        seen[point.split] = point.step;
        chart.add(point, curveOf(m.runId));
      }
      latest.set(m.runId, seen);
      if (onView(m.runId)) {
        view = { ...view!, status: m.status };
        setStatus(m.status === 'running' ? `step ${m.metrics.filter((p) => p.split === 'train').at(-1)?.step ?? m.step}/${experiment?.training.steps ?? '?'} (elsewhere)` : m.status);
        const e = experiment;
        if (e) for (const g of m.grids.filter((g) => !grids.some((h) => h.step === g.step))) void decodeGrid(g.png, e).then((images) => onView(m.runId) && addGrid(g.step, images)).catch(() => {});
      }
      return;
    }
    case 'sample':
      void showRun(m.run, false);
      temperature = m.temperature;
      temperatureSlider.set(m.temperature);
      keepRows = m.keepRows;
      requestSamples(m.seed, true, m.classes);
      return;
  }
}

// --------------------------------------------------------------------------------------------------------------
// The worker (created from a blob: VS Code webviews cannot start workers from their resource URLs, and such a
// worker cannot fetch the webview's resources either, so the page fetches the wasm binaries and hands it blob: URLs)

let wasmBlobs: Record<string, string> | null = null;

function wasmPaths(): WasmPaths {
  if (!wasmBlobs) return config.wasmPaths;
  const simd = wasmBlobs['tfjs-backend-wasm-simd.wasm'];
  return { 'tfjs-backend-wasm.wasm': wasmBlobs['tfjs-backend-wasm.wasm'], 'tfjs-backend-wasm-simd.wasm': simd, 'tfjs-backend-wasm-threaded-simd.wasm': simd };
}

async function fetchWasm(): Promise<void> {
  try {
    const entries = await Promise.all(
      WASM_BINARIES.map(async (name) => {
        const response = await fetch(`${config.wasmPaths}${name}`);
        if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
        return [name, URL.createObjectURL(new Blob([await response.arrayBuffer()], { type: 'application/wasm' }))] as const;
      }),
    );
    wasmBlobs = Object.fromEntries(entries);
  } catch (error) {
    toHost({ type: 'log', level: 'warn', message: `the panel could not fetch the wasm binaries (${(error as Error).message}); the worker will try their URLs itself` });
  }
}

const workerSource = await Promise.all([fetch(config.workerSrc).then((r) => r.text()), fetchWasm()]).then(([source]) => URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
let worker = startWorker();

function startWorker(): Worker {
  const w = new Worker(workerSource);
  w.onmessage = (event: MessageEvent<FromWorker>) => onWorkerMessage(event.data);
  w.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    workerDied(`the panel's worker failed: ${event.message || 'an uncaught error'}`);
  };
  w.onmessageerror = () => workerDied("a message from the panel's worker could not be read");
  return w;
}

/**
 * The worker cannot go on (or its run was given up by the host): a fresh worker takes over, and the run it trained
 * ends as failed with the reason (told to the host unless the host ended it).
 */
function restartWorker(reason: string, tellHost: boolean): void {
  worker.terminate();
  worker = startWorker();
  if (trainingRunId) {
    const id = trainingRunId;
    trainingRunId = null;
    stopping = false;
    if (tellHost) toHost({ type: 'ended', runId: id, status: 'failed', step: 0, error: reason });
    if (onView(id)) view = { ...view!, status: 'failed' };
  }
  sampling = null;
  forgetModel('The model went with the worker: show the run again (Pixel Lab view) to inspect its last checkpoint.');
  showError(reason);
  setStatus(view?.status ?? 'idle');
  if (tellHost) toHost({ type: 'log', level: 'error', message: reason });
}

function workerDied(reason: string): void {
  restartWorker(reason, true);
}

function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case 'backend': {
      if (onView(m.runId) || m.runId === trainingRunId) {
        backendLine.textContent = `${m.info.name} · ${m.info.adapter}`;
        const skipped = m.info.fallbacks.map((f) => `${f.name}: ${f.reason}`);
        fallbackNote.hidden = skipped.length === 0;
        fallbackNote.textContent = `Running on ${m.info.name}. Not used — ${skipped.join('; ')}.`;
      }
      if (m.runId === trainingRunId) toHost({ type: 'backend', runId: m.runId, info: m.info });
      return;
    }
    case 'model':
      if (!onView(m.runId)) return;
      summary = m.summary;
      fieldAsked = false;
      inspector.setModel(m.summary);
      drawKernelMasks(kernelsBox, m.summary);
      kernelsCaption.textContent = `${m.summary.type}, ${m.summary.parameters.toLocaleString('en')} parameters.`;
      channelPicker.hidden = m.summary.channels !== 3;
      setStatus(status.dataset.status ?? 'ready');
      return;
    case 'field':
      if (!onView(m.runId) || !summary) {
        fieldAsked = false; // for another run, or dropped: the next hover asks again
        return;
      }
      if (m.bits) {
        inspector.setField(m.bits);
        if (lastHover) hover(lastHover.hit, lastHover.grid);
      } else {
        inspector.fieldUnavailable(m.why);
      }
      return;
    case 'step':
      // The host writes every point; the chart shows it only if this run is on it.
      if (curveOf(m.runId) >= 0) chart.add({ step: m.step, split: 'train', nats: m.nats, bitsPerDim: m.bitsPerDim }, curveOf(m.runId));
      if (onView(m.runId) && !stopping) setStatus(`step ${m.step}/${experiment?.training.steps ?? '?'}`);
      toHost(m);
      return;
    case 'eval':
      if (curveOf(m.runId) >= 0) chart.add({ step: m.step, split: 'test', nats: m.nats, bitsPerDim: m.bitsPerDim }, curveOf(m.runId));
      toHost(m);
      return;
    case 'samples':
      if (onView(m.runId)) addGrid(m.step, m.images);
      toHost({ type: 'samples', runId: m.runId, step: m.step, png: m.png });
      return;
    case 'checkpoint':
      toHost(m);
      return;
    case 'ended':
      if (m.runId === trainingRunId) {
        trainingRunId = null;
        stopping = false;
        // A field put off while training can be computed now.
        if (!inspector.hasField) fieldAsked = false;
      }
      if (onView(m.runId)) {
        view = { ...view!, status: m.status };
        setStatus(m.status);
        if (m.error) showError(m.error);
      }
      toHost(m);
      return;
    case 'sampling': {
      if (m.done && sampling?.runId === m.runId) {
        // Done, on view or not: the panel is free again (and the host hears of what it asked for).
        if (sampling.fromHost) toHost({ type: 'sampled', runId: m.runId, count: m.images.count });
        sampling = null;
        setStatus(view?.status ?? 'idle');
      }
      if (!onView(m.runId)) return;
      sampleGrid.show(m.images, m.done ? Infinity : m.upTo + 1);
      gridStatus.textContent = m.done ? `${m.images.count} new samples at temperature ${temperature.toFixed(2)}${keepRows ? `, completing ${keepRows} kept rows` : ''}.` : `drawing pixel ${m.upTo + 1} of ${m.images.height * m.images.width}…`;
      return;
    }
    case 'gradient':
      if (m.request === hoverRequest) inspector.showGradient(m.values);
      return;
    case 'log':
      toHost(m);
      return;
    case 'error': {
      // A request failed, and it alone: say why, and leave the panel usable.
      if (m.task === 'sample') sampling = null;
      if (m.task === 'gradient' || m.task === 'field') {
        // Hover work: said in the inspector, for the latest hover only; never a notification per hover.
        if (m.task === 'field') fieldAsked = false;
        if (m.task === 'field' || m.request === hoverRequest) inspector.showFailure(m.task === 'field' ? `the structural map could not be computed: ${m.message}` : `the gradient map failed: ${m.message}`);
        return;
      }
      if (m.task === 'sample' && m.message.startsWith('cancelled')) {
        gridStatus.textContent = 'Sampling stopped: a training run started.';
        setStatus(view?.status ?? 'idle');
        return;
      }
      const what = { load: 'Loading the model', sample: 'Sampling', train: 'Training' }[m.task];
      const message = `${what} failed: ${m.message}`;
      if (m.task === 'sample' || m.task === 'load') gridStatus.textContent = message;
      if (m.task === 'load' || (m.task === 'sample' && !summary)) kernelsCaption.textContent = `No model on view: ${message}`;
      showError(message);
      setStatus(view?.status ?? 'idle');
      toHost({ type: 'problem', task: m.task, ...(m.runId ? { runId: m.runId } : {}), message });
      return;
    }
    case 'fatal':
      workerDied(m.message);
      return;
  }
}

/** Whether a value holds binary whose memory is gone (transferred away): a message delivered a second time. */
function detached(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return (value.buffer as ArrayBuffer & { detached?: boolean }).detached === true;
  if (depth > 4 || typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((v) => detached(v, depth + 1));
}

/** A run whose checkpoint arrived as zero bytes: its memory was taken by an earlier delivery of the same message. */
function emptiedCheckpoint(data: unknown): boolean {
  const run = (data as { run?: { checkpoint?: unknown } } | null)?.run;
  return run?.checkpoint instanceof Uint8Array && run.checkpoint.length === 0;
}

/**
 * The dataset images a view brings are a convenience (the card, completion): if they arrive damaged (their bytes
 * not matching their shape), the run is shown without them and the log says so, instead of refusing the whole view.
 */
function withoutDamagedDataset(data: unknown): unknown {
  const own = data as { type?: unknown; images?: { data?: unknown; count: number; height: number; width: number; channels: number } | null } | null;
  const i = own?.type === 'dataset' ? own.images : null;
  if (i && i.data instanceof Uint8Array && i.data.length !== i.count * i.height * i.width * i.channels) {
    toHost({ type: 'log', level: 'warn', message: `a run's dataset images arrived with ${i.data.length} bytes for ${i.count}×${i.height}×${i.width}×${i.channels}: shown without them` });
    return { ...own, images: null, error: 'its images did not arrive whole; show the run again' };
  }
  const m = data as { type?: unknown; run?: { dataset?: { data?: unknown; count: number; height: number; width: number; channels: number } | null } } | null;
  const d = m?.run?.dataset;
  if (!d || !(d.data instanceof Uint8Array) || d.data.length === d.count * d.height * d.width * d.channels) return data;
  toHost({ type: 'log', level: 'warn', message: `the dataset images of a ${String(m?.type)} message arrived with ${d.data.length} bytes for ${d.count}×${d.height}×${d.width}×${d.channels}: shown without them` });
  return { ...m, run: { ...m!.run, dataset: null, datasetError: 'its images did not arrive whole; show the run again' } };
}

window.addEventListener('message', (event: MessageEvent) => {
  // VS Code can hand the page a message it has already delivered, its binary transferred away with the first
  // delivery (seen around window reloads): the first was acted on; this one is dropped, not refused.
  if (detached(event.data) || emptiedCheckpoint(event.data)) {
    toHost({ type: 'log', level: 'warn', message: `a repeated ${String((event.data as { type?: unknown })?.type)} message from the host, its binary gone, was dropped` });
    return;
  }
  const checked = validateHostMessage(withoutDamagedDataset(event.data));
  if (!checked.ok) {
    const data = event.data as { type?: unknown; runId?: unknown } | null;
    const type = typeof data?.type === 'string' ? data.type : 'unknown';
    const id = typeof data?.runId === 'string' ? data.runId : undefined;
    const reason = `rejected a message from the host: ${checked.reason}`;
    showError(`The panel ${reason}.`);
    toHost({ type: 'rejected', messageType: type, ...(id ? { runId: id } : {}), reason });
    return;
  }
  onHostMessage(checked.message);
});

// A blocked resource is a bug worth hearing about, not a silent blank.
document.addEventListener('securitypolicyviolation', (e) => toHost({ type: 'log', level: 'error', message: `blocked by the content security policy: ${e.violatedDirective} ${e.blockedURI}` }));

toHost({ type: 'ready' });
