/**
 * The Pixel Lab panel: loss curves, sample grids, the dataset, and the mask inspector. TF.js lives in a worker
 * (webview/worker.ts) so that hovering stays instant while a model trains; the extension host writes the files.
 * Every message from the host is validated (src/protocol.ts) and a malformed one is rejected, never acted on.
 */
import { splitImages } from '../src/data/batches';
import { encodeImage } from '../src/data/encoding';
import { imagesFromGrid } from '../src/data/grid';
import { type Experiment, imageShape } from '../src/experiment/types';
import { type HostMessage, type ImageBatch, type PanelMessage, type RunView, validateHostMessage } from '../src/protocol';
import { LossChart, type Unit } from './chart';
import { type GridHit, ImageGrid } from './grid';
import { drawKernelMasks, Inspector } from './inspector';
import { badge, button, checkbox, dropdown, setEnabled, slider } from './ui/controls';
import type { FromWorker, ModelSummary, ToWorker } from './worker-protocol';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void };

const vscode = acquireVsCodeApi();
const config = document.body.dataset as { workerSrc: string; wasmPaths: string };

function toHost(message: PanelMessage, transfer?: Transferable[]): void {
  // VS Code's webview API takes no transfer list; the harness (and VS Code) copy ArrayBuffers efficiently.
  void transfer;
  vscode.postMessage(message);
}

// --------------------------------------------------------------------------------------------------------------
// State

/** The run on view (or sampled, or inspected). */
let runId: string | null = null;
/** The run the worker is training, which may be off view while runs are compared. */
let trainingRunId: string | null = null;
/** The runs on the chart while comparing; null when one run is on view. */
let compared: string[] | null = null;
let experiment: Experiment | null = null;
let levels = 2;
let summary: ModelSummary | null = null;
let running = false;
const grids: { step: number; images: ImageBatch }[] = [];
let datasetImages: ImageBatch | null = null;
let hoverRequest = 0;
let lastHover: { hit: GridHit; grid: ImageGrid } | null = null;

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
const backendLine = el('span', { className: 'backend run-only', textContent: 'no backend yet' });
const fallbackNote = el('p', { className: 'notice', hidden: true });
const errorNote = el('p', { className: 'notice error', hidden: true });
const stopButton = button('Stop', () => runId && worker.postMessage({ type: 'stop', runId } satisfies ToWorker), 'secondary');
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
const inspectorBox = el('div');
const inspector = new Inspector(inspectorBox);
const kernelsBox = el('div', { className: 'kernels' });
const comparisonBox = el('div');
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

document.getElementById('app')!.append(
  el('header', { className: 'bar' }, title, status, backendLine),
  fallbackNote,
  errorNote,
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
    el('section', { className: 'card compare-only' }, el('h2', { textContent: 'Runs compared' }), comparisonBox),
    el('section', { className: 'card run-only' }, el('h2', { textContent: 'Samples' }), gridBox, stepSlider.element, gridStatus),
    el('section', { className: 'card run-only' }, el('h2', { textContent: 'Dataset (test images)' }), datasetBox),
    el('section', { className: 'card inspector-card run-only' }, el('div', { className: 'toolbar' }, el('h2', { textContent: 'What this pixel depends on' }), channelPicker), inspectorBox),
    el('section', { className: 'card wide run-only' }, el('h2', { textContent: 'Kernel masks (blue: connected; rows: input colour group, columns: output group; yellow: centre)' }), kernelsBox),
  ),
);

const sampleGrid = new ImageGrid(gridBox, () => levels, (hit, grid) => hover(hit, grid));
const datasetGrid = new ImageGrid(datasetBox, () => levels, (hit, grid) => hover(hit, grid));

function setStatus(text: string): void {
  status.textContent = text;
  setEnabled(stopButton, running);
  setEnabled(sampleButton, !running && summary !== null);
}
setStatus('idle');

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

/** Draw samples with the current model; a seed from the host makes them repeatable. */
function requestSamples(seed = Math.floor(Math.random() * 1e9)): void {
  if (!runId || !experiment || !summary) return;
  const count = experiment.sampling.count;
  let prefix: Uint8Array | null = null;
  if (keepRows > 0 && datasetImages) {
    const size = summary.height * summary.width * summary.channels;
    prefix = new Uint8Array(count * size);
    for (let n = 0; n < count; n++) prefix.set(encoded(datasetImages.data.subarray((n % datasetImages.count) * size, ((n % datasetImages.count) + 1) * size)), n * size);
  }
  running = true;
  setStatus('sampling');
  worker.postMessage({ type: 'sample', runId, count, temperature, seed, keepRows: prefix ? keepRows : 0, prefix } satisfies ToWorker);
}

function showDataset(images: ImageBatch, e: Experiment): void {
  const split = splitImages(images.count, e.data.testFraction, e.data.seed);
  const size = images.height * images.width * images.channels;
  const count = Math.min(16, split.test.length);
  const data = new Uint8Array(count * size);
  for (let k = 0; k < count; k++) data.set(images.data.subarray(split.test[k] * size, (split.test[k] + 1) * size), k * size);
  datasetImages = { data, count, height: images.height, width: images.width, channels: images.channels };
  // The grid draws levels: show the bytes at full resolution.
  const previous = levels;
  levels = 256;
  datasetGrid.show(datasetImages);
  levels = previous;
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

/** Put one run on view (training, or from disk): its experiment, its curves so far, no grids yet. */
function viewRun(id: string, name: string, json: string, metrics: RunView['metrics']): Experiment {
  setComparing(null);
  runId = id;
  vscode.setState({ runId: id });
  const e = JSON.parse(json) as Experiment;
  experiment = e;
  levels = e.data.levels;
  title.textContent = name;
  channelPicker.hidden = imageShape(e).channels !== 3;
  chart.setRuns([{ name, metrics }]);
  grids.length = 0;
  return e;
}

/** One run's panel (training or a finished run), or the comparison of several runs' curves. */
function setComparing(runs: readonly RunView[] | null): void {
  compared = runs ? runs.map((r) => r.runId) : null;
  document.body.classList.toggle('comparing', runs !== null);
}

/** Which curve of the chart a run's points belong on (−1: it is not on the chart). */
function curveOf(id: string): number {
  return compared ? compared.indexOf(id) : id === runId ? 0 : -1;
}

/** Whether the panel shows this run alone: its grid and status follow it. */
function onView(id: string): boolean {
  return !compared && id === runId;
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

async function showRun(run: RunView): Promise<void> {
  const e = viewRun(run.runId, run.name, run.experiment, run.metrics);
  for (const g of run.grids) {
    try {
      addGrid(g.step, await decodeGrid(g.png, e));
    } catch {
      gridStatus.textContent = `The grid of step ${g.step} could not be read.`;
    }
  }
  if (run.runId === trainingRunId) {
    // Back to the run in training: the worker holds its live model, newer than any checkpoint.
    running = true;
    setStatus('training');
    return;
  }
  running = false;
  setStatus(run.status);
  worker.postMessage({ type: 'load', runId: run.runId, experiment: e, checkpoint: run.checkpoint, backend: e.training.backend, wasmPaths: config.wasmPaths } satisfies ToWorker);
}

function onHostMessage(m: HostMessage): void {
  switch (m.type) {
    case 'train': {
      trainingRunId = m.runId;
      const e = viewRun(m.runId, m.name, m.experiment, m.metrics);
      errorNote.hidden = true;
      showDataset(m.images, e);
      running = true;
      setStatus('starting');
      worker.postMessage({ type: 'train', runId: m.runId, experiment: e, images: m.images, checkpoint: m.checkpoint, backend: m.backend, wasmPaths: config.wasmPaths } satisfies ToWorker);
      return;
    }
    case 'show':
      void showRun(m.run);
      return;
    case 'compare':
      chart.setRuns(m.runs.map((r) => ({ name: r.name, metrics: r.metrics })));
      title.textContent = `Comparing ${m.runs.length} runs`;
      showComparison(m.runs);
      setComparing(m.runs);
      return;
    case 'stop':
      worker.postMessage({ type: 'stop', runId: m.runId } satisfies ToWorker);
      return;
    case 'sample':
      if (m.runId === runId) {
        temperature = m.temperature;
        temperatureSlider.set(m.temperature);
        keepRows = m.keepRows;
        requestSamples(m.seed);
      }
      return;
  }
}

// --------------------------------------------------------------------------------------------------------------
// The worker (created from a blob: VS Code webviews cannot start workers from their resource URLs)

const worker = await (async () => {
  const source = await (await fetch(config.workerSrc)).text();
  return new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
})();

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'backend': {
      backendLine.textContent = `${m.info.name} · ${m.info.adapter}`;
      const skipped = m.info.fallbacks.map((f) => `${f.name}: ${f.reason}`);
      fallbackNote.hidden = skipped.length === 0;
      fallbackNote.textContent = `Running on ${m.info.name}, not the GPU's first choice — ${skipped.join('; ')}.`;
      toHost({ type: 'backend', runId: m.runId, info: m.info });
      return;
    }
    case 'model':
      summary = m.summary;
      inspector.setModel(m.summary);
      drawKernelMasks(kernelsBox, m.summary);
      setStatus(running ? 'training' : status.textContent ?? 'ready');
      return;
    case 'step':
      // The host writes every point; the chart shows it only if this run is on it.
      if (curveOf(m.runId) >= 0) chart.add({ step: m.step, split: 'train', nats: m.nats, bitsPerDim: m.bitsPerDim }, curveOf(m.runId));
      if (onView(m.runId)) setStatus(`step ${m.step}/${experiment?.training.steps ?? '?'}`);
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
      trainingRunId = null;
      running = false;
      setStatus(m.status);
      if (m.error) {
        errorNote.hidden = false;
        errorNote.textContent = m.error;
      }
      toHost(m);
      return;
    case 'sampling':
      sampleGrid.show(m.images, m.done ? Infinity : m.upTo + 1);
      gridStatus.textContent = m.done ? `${m.images.count} new samples at temperature ${temperature.toFixed(2)}${keepRows ? `, completing ${keepRows} kept rows` : ''}.` : `drawing pixel ${m.upTo + 1} of ${m.images.height * m.images.width}…`;
      if (m.done) {
        running = false;
        setStatus('ready');
      }
      return;
    case 'gradient':
      if (m.request === hoverRequest) inspector.showGradient(m.values);
      return;
    case 'error':
      if (m.runId === trainingRunId) trainingRunId = null;
      running = trainingRunId !== null;
      errorNote.hidden = false;
      errorNote.textContent = m.message;
      setStatus('error');
      toHost({ type: 'log', level: 'error', message: m.message });
      return;
  }
};

window.addEventListener('message', (event: MessageEvent) => {
  const checked = validateHostMessage(event.data);
  if (!checked.ok) {
    toHost({ type: 'log', level: 'error', message: `rejected a message from the host: ${checked.reason}` });
    return;
  }
  onHostMessage(checked.message);
});

// A blocked resource is a bug worth hearing about, not a silent blank.
document.addEventListener('securitypolicyviolation', (e) => toHost({ type: 'log', level: 'error', message: `blocked by the content security policy: ${e.violatedDirective} ${e.blockedURI}` }));

toHost({ type: 'ready' });
