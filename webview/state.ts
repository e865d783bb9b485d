/**
 * Everything the panel knows, in one object: the run on view, the run in training, the curves, the grids, the
 * dataset images, the model and what the inspector is looking at. It changes only through `update`, called by the
 * handlers of host and worker messages (on-host.ts, on-worker.ts) and by the user's actions (actions.ts); each card
 * (cards/) watches the slices it shows and renders them.
 *
 * A new card: its fields here (and in `initial`); cards/<name>.ts builds its DOM, `store.watch`es the slices it
 * reads and renders them, and calls actions.ts for what its controls do; main.ts puts it in place. What feeds it
 * (a host or worker message) is a case in on-host.ts or on-worker.ts that calls `update`.
 */
import { DATASET_CLASSES, type Experiment } from '../src/experiment/types';
import type { PixelBeliefs } from '../src/model/beliefs';
import type { BackendInfo, ImageBatch, Metric, RunView } from '../src/protocol';
import type { GridHit } from './grid';
import type { Inspection as InspectorView } from './inspector';
import type { ModelSummary } from './worker-protocol';
import { Store } from './store';

/** The run on view, with what the worker needs to load its model. */
export interface RunOnView {
  readonly runId: string;
  readonly name: string;
  readonly status: string;
  readonly checkpoint: Uint8Array | null;
  readonly experiment: Experiment;
  /** Which showing of a run this is (each view counts one up; a status change keeps it): late work for an earlier one is dropped. */
  readonly serial: number;
}

/** One run's curves on the chart. */
export interface Curve {
  readonly runId: string;
  readonly name: string;
  readonly metrics: readonly Metric[];
}

/** A run in the comparison: its numbers for the table (its curves are on the chart). */
export type ComparedRun = Pick<RunView, 'runId' | 'name' | 'status' | 'step' | 'steps' | 'metrics'>;

/** The two image grids a pixel can be hovered on. */
export type ImageSource = 'samples' | 'dataset';

/** A hovered pixel being inspected: the image as the model reads it, the output channel, and the gradient request. */
export interface Inspection extends InspectorView {
  readonly request: number;
}

/** What the panel has of the model's structural dependency field (computed on the first hover: it grows as (H·W·C)²). */
export interface FieldState {
  /** Asked of the worker, no answer yet (or an answer that it is not computed now). */
  readonly asked: boolean;
  readonly bits: Uint32Array | null;
  /** Why it is not computed (too large, or not while training). */
  readonly unavailable: string | null;
}

/**
 * What the panel learns about one image on view, for the model on view: what the model believes at each of its pixels
 * (its NLL map and predictive distributions, one `beliefs` request an image), so that a hover is a lookup. A test
 * image's notes go when the model or the dataset images change, a sample's when the model or the samples do.
 */
export interface ImageNotes {
  /** The request asked for this image: only its answer is taken. */
  readonly request: number;
  /** The answer (while a newer request is out, the previous answer: a model in training is asked again at each evaluation). */
  readonly beliefs?: PixelBeliefs;
  /** Why there are none. */
  readonly failure?: string;
}

/** While sampling: the distributions the pixel just drawn in the first image came from, every channel. */
export interface Drawing {
  readonly i: number;
  readonly j: number;
  readonly levels: number;
  readonly binary: boolean;
  /** p(x = 1) [C] when binary, else [C, L]. */
  readonly probabilities: Float32Array;
}

export interface PanelState {
  /** The run on view (or sampled, or inspected); null until one is shown. */
  readonly view: RunOnView | null;
  /** The run the worker is training, which may be off view while runs are compared. */
  readonly trainingRunId: string | null;
  /** A stop was asked of the run in training. */
  readonly stopping: boolean;
  /** Sampling in progress: for which run, whether the host asked for it, and a conditional model's class per image. */
  readonly sampling: { readonly runId: string; readonly fromHost: boolean; readonly classes?: readonly number[] } | null;
  /** The runs compared (a curve each on the chart); null when one run is on view. */
  readonly compared: readonly ComparedRun[] | null;

  /** The header's badge: the run's status, or what the panel does now ('sampling', 'step 3/40'). */
  readonly status: string;
  /** The backend of the run on view (or in training); `choosing` while a training run starts. */
  readonly backend: { readonly choosing: boolean; readonly info: BackendInfo | null };
  readonly error: string | null;

  /** The curves on the chart; `serial` counts a new set of curves (points added to them keep it). */
  readonly chart: { readonly serial: number; readonly curves: readonly Curve[] };

  /** The run's saved sample grids, oldest first; `gridIndex` is the one the step slider is on. `classes`: a
   *  class-conditional model's class of each image (those saved while training: image n of class n mod K). */
  readonly grids: readonly { readonly step: number; readonly images: ImageBatch; readonly classes?: readonly number[] }[];
  readonly gridIndex: number;
  /** What the samples grid shows: a saved grid, or samples being drawn (pixels from `drawn` on dimmed); `classes`: a
   *  class-conditional model's class of each image, the class it was drawn for. */
  readonly samples: { readonly images: ImageBatch; readonly drawn: number; readonly classes?: readonly number[] } | null;
  /** What Sample draws from a class-conditional model: null, one row per class; k, every image of class k. */
  readonly sampleClass: number | null;
  readonly samplesNote: string;
  readonly temperature: number;
  /** Rows of the dataset images that sampling keeps (and completes). */
  readonly keepRows: number;

  /** The run's test images (bytes 0–255), or null with why; null before a run is shown. */
  readonly dataset: { readonly images: ImageBatch | null; readonly why?: string } | null;

  /** The model on view: a new object each time one comes on view or goes (so the inspector starts afresh). */
  readonly model: { readonly summary: ModelSummary | null };
  /** What the kernels card says when there is no model (or what went wrong loading one). */
  readonly modelNote: string;
  readonly field: FieldState;
  /** The colour channel inspected (RGB models). */
  readonly outputChannel: number;
  /** The last pixel hovered (a new field or channel inspects it again). */
  readonly hover: { readonly hit: GridHit; readonly grid: ImageSource } | null;
  /** The last gradient request: only its answer is shown. */
  readonly hoverRequest: number;
  readonly inspection: Inspection | null;
  /** The answer to the inspection: its gradient map, or why there is none. */
  readonly hoverResult: { readonly values: Float32Array } | { readonly failure: string } | null;

  /** The class names of the run on view (label k is classNames[k]), when the host sent them. */
  readonly classNames: readonly string[] | null;
  /** Per-image results for the model on view, by `imageKey`. */
  readonly imageNotes: ReadonlyMap<string, ImageNotes>;
  /** The last beliefs request (each image's note names its own). */
  readonly beliefsRequest: number;
  /** The test image the NLL map shows (0-based; clicking a dataset image picks it). */
  readonly nllImage: number;
  /** While sampling: what the pixel just drawn came from; null otherwise. */
  readonly drawing: Drawing | null;
}

export const noField: FieldState = { asked: false, bits: null, unavailable: null };

const initial: PanelState = {
  view: null,
  trainingRunId: null,
  stopping: false,
  sampling: null,
  compared: null,
  status: 'idle',
  backend: { choosing: false, info: null },
  error: null,
  chart: { serial: 0, curves: [] },
  grids: [],
  gridIndex: 0,
  samples: null,
  sampleClass: null,
  samplesNote: 'No samples yet.',
  temperature: 1,
  keepRows: 0,
  dataset: null,
  model: { summary: null },
  modelNote: 'No model on view yet.',
  field: noField,
  outputChannel: 0,
  hover: null,
  hoverRequest: 0,
  inspection: null,
  hoverResult: null,
  classNames: null,
  imageNotes: new Map(),
  beliefsRequest: 0,
  nllImage: 0,
  drawing: null,
};

/** The panel's one store. */
export const store = new Store<PanelState>(initial, (next, previous, change) => {
  // Per-image results describe these images under this model: they go when either does (a test image's stay while
  // samples are drawn, a sample's while the dataset changes).
  if ('imageNotes' in change || next.imageNotes.size === 0) return next;
  const model = next.model !== previous.model;
  const gone = { dataset: model || next.dataset !== previous.dataset, samples: model || next.samples !== previous.samples };
  if (!gone.dataset && !gone.samples) return next;
  return { ...next, imageNotes: new Map([...next.imageNotes].filter(([key]) => !gone[key.startsWith('dataset:') ? 'dataset' : 'samples'])) };
});

export const update = (change: Partial<PanelState>): void => store.update(change);

// --------------------------------------------------------------------------------------------------------------
// Changes that several handlers make

/** A new set of curves on the chart. */
export function chartOf(s: PanelState, curves: readonly Curve[]): PanelState['chart'] {
  return { serial: s.chart.serial + 1, curves };
}

/** The chart with points added to one of its curves. */
export function withPoints(s: PanelState, curve: number, points: readonly Metric[]): PanelState['chart'] {
  if (points.length === 0) return s.chart;
  return { serial: s.chart.serial, curves: s.chart.curves.map((c, k) => (k === curve ? { ...c, metrics: [...c.metrics, ...points] } : c)) };
}

/** No model on view any more (another run came on view, or the worker was replaced): its cards say why. */
export function forgottenModel(why: string): Partial<PanelState> {
  return { model: { summary: null }, modelNote: why, field: noField, hover: null, inspection: null, hoverResult: null };
}

/** Whether the panel still shows the same showing of a run as when some work for it began. */
export function stillShowing(serial: number): boolean {
  const s = store.state;
  return !s.compared && s.view?.serial === serial;
}

// --------------------------------------------------------------------------------------------------------------
// What the state says, read the same way everywhere

/** Whether the panel shows this run alone: its grid and status follow it. */
export function onView(s: PanelState, runId: string): boolean {
  return !s.compared && runId === s.view?.runId;
}

/** Which curve of the chart a run's points belong on (−1: it is not on the chart). */
export function curveOf(s: PanelState, runId: string): number {
  return s.compared ? s.compared.findIndex((r) => r.runId === runId) : runId === s.view?.runId ? 0 : -1;
}

/** Training or sampling: the worker is taken. */
export function busy(s: PanelState): boolean {
  return s.trainingRunId !== null || s.sampling !== null;
}

/** The levels the model reads (the samples grid draws them). */
export function levels(s: PanelState): number {
  return s.view?.experiment.data.levels ?? 2;
}

/** The values of one image of a grid on view, [H, W, C]. */
export function imageOf(s: PanelState, grid: ImageSource, n: number): Uint8Array | null {
  const images = grid === 'dataset' ? (s.dataset?.images ?? null) : (s.samples?.images ?? null);
  if (!images) return null;
  const size = images.height * images.width * images.channels;
  return images.data.subarray(n * size, (n + 1) * size);
}

/**
 * The values the model reads of one image of a grid on view, [H, W, C]: a sample's pixel values, or a test image's
 * values exactly as evaluation encodes them (sent by the host beside its bytes); null when there are none.
 */
export function valuesOf(s: PanelState, grid: ImageSource, n: number): Uint8Array | null {
  if (grid === 'samples') return imageOf(s, grid, n);
  const images = s.dataset?.images;
  if (!images?.values || n >= images.count) return null;
  const size = images.height * images.width * images.channels;
  return images.values.subarray(n * size, (n + 1) * size);
}

/**
 * The number of classes of the model on view (0: unconditional): the model's, or before it is loaded the
 * experiment's (model.classes, else its class names, else its bundled dataset's).
 */
export function classCount(s: PanelState): number {
  if (s.model.summary) return s.model.summary.classes;
  const e = s.view?.experiment;
  if (!e?.model.conditional) return 0;
  return e.model.classes ?? s.classNames?.length ?? DATASET_CLASSES[e.data.dataset]?.length ?? 0;
}

/** The name of class k: the run's class names, else its bundled dataset's, else the number. */
export function className(s: PanelState, k: number): string {
  const names = s.classNames ?? (s.view ? DATASET_CLASSES[s.view.experiment.data.dataset] : undefined);
  return names?.[k] ?? String(k);
}

/** The class an image on view is read as by a conditional model: a test image's label, the class a sample was drawn
 *  for; undefined for an unconditional model (or an image whose class is not known: the engine then reads class 0). */
export function labelOf(s: PanelState, grid: ImageSource, n: number): number | undefined {
  if (classCount(s) === 0) return undefined;
  return grid === 'dataset' ? s.dataset?.images?.labels?.[n] : s.samples?.classes?.[n];
}

/** Whether an image of a grid is whole (a sample being drawn is not yet). */
export function complete(s: PanelState, grid: ImageSource): boolean {
  return grid === 'dataset' || (s.samples !== null && s.samples.drawn === Infinity);
}

/** The key of an image on view in `imageNotes`. */
export function imageKey(grid: ImageSource, n: number): string {
  return `${grid}:${n}`;
}

/** The header's title. */
export function title(s: PanelState): string {
  if (s.compared) return `Comparing ${s.compared.length} run${s.compared.length === 1 ? '' : 's'}`;
  return s.view?.name ?? 'Pixel Lab';
}
