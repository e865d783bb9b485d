/**
 * Every message between the extension host and the Pixel Lab panel, declared once, and the validators both sides
 * run on arrival: a message that is unknown or malformed is rejected (and logged), never acted on. Images,
 * checkpoints and PNGs travel as binary (Uint8Array), not JSON arrays.
 */
import type { ImageBatch } from './data/images';
import { BACKEND_ORDER, type BackendPreference } from './experiment/types';

export type { BackendPreference, ImageBatch };
const RUN_STATUSES = ['running', 'finished', 'stopped', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface BackendInfo {
  readonly name: string;
  readonly adapter: string;
  readonly fallbacks: readonly { readonly name: string; readonly reason: string }[];
}

export interface Metric {
  readonly step: number;
  /** train: a training step's batch; validation: the held-out training images that choose the best checkpoint;
   *  test: the test set. */
  readonly split: 'train' | 'validation' | 'test';
  readonly nats: number;
  readonly bitsPerDim: number;
}

/** A run as the panel shows it: enough to draw its curves, its sample grids, and inspect its model. */
export interface RunView {
  readonly runId: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly step: number;
  readonly steps: number;
  readonly backend?: string;
  readonly metrics: readonly Metric[];
  /** Saved sample grids, oldest first. */
  readonly grids: readonly { readonly step: number; readonly png: Uint8Array }[];
  /** The experiment (as JSON text) the run trains. */
  readonly experiment: string;
  /** The best (or latest) checkpoint, for sampling and inspection; null before the first one. */
  readonly checkpoint: Uint8Array | null;
  /** A few test images of its data set (bytes 0–255), for the dataset card, completion and hovering; null if unreadable. */
  readonly dataset: ImageBatch | null;
  /** Why its data set could not be read, when it could not. */
  readonly datasetError?: string;
  /** A class-conditional run's class names (label k is classNames[k]), from its run.json. */
  readonly classNames?: readonly string[];
}

/** Host → panel. */
export type HostMessage =
  | { readonly type: 'show'; readonly run: RunView }
  | { readonly type: 'compare'; readonly runs: readonly RunView[] }
  | {
      readonly type: 'train';
      readonly runId: string;
      readonly name: string;
      /** The experiment as JSON text: the panel parses it with the same code as the host. */
      readonly experiment: string;
      /** The dataset's images at the experiment's size, bytes 0–255. */
      readonly images: ImageBatch;
      /** A class-conditional experiment's class label per image (images.count of them); its `model.classes` is set. */
      readonly labels?: Uint8Array;
      /** Its class names (label k is classNames[k]), when its data names them. */
      readonly classNames?: readonly string[];
      /** Resume from this checkpoint (null: a new run). */
      readonly checkpoint: Uint8Array | null;
      /** The curves so far (a resumed run's, up to its checkpoint; empty for a new run). */
      readonly metrics: readonly Metric[];
      readonly backend: BackendPreference;
    }
  | { readonly type: 'stop'; readonly runId: string }
  /** The host ended this run (a failed write, no first step in time…): the panel drops it at once and says why. */
  | { readonly type: 'abandon'; readonly runId: string; readonly reason: string }
  /** A run's dataset images, sent after `show` when they had to be loaded first (null: unreadable, and why). */
  | { readonly type: 'dataset'; readonly runId: string; readonly images: ImageBatch | null; readonly error?: string }
  /** What a run training elsewhere (a terminal, torchrun, another window) wrote since: appended to its view. */
  | { readonly type: 'news'; readonly runId: string; readonly metrics: readonly Metric[]; readonly grids: readonly { readonly step: number; readonly png: Uint8Array }[]; readonly status: RunStatus; readonly step: number }
  /** Put the run on view (as `show` does) and draw samples from its checkpoint; `classes`: a class-conditional
   *  model's class for each image (count of them; default: image n of class n mod K). */
  | { readonly type: 'sample'; readonly run: RunView; readonly count: number; readonly temperature: number; readonly seed: number; readonly keepRows: number; readonly classes?: readonly number[] };

/** Panel → host. */
export type PanelMessage =
  | { readonly type: 'ready' }
  /** The panel took a `train` message and handed it to its worker. */
  | { readonly type: 'started'; readonly runId: string }
  /** The panel refused a message from the host (malformed): the host ends the run it names, if it is training. */
  | { readonly type: 'rejected'; readonly messageType: string; readonly runId?: string; readonly reason: string }
  /** A request other than training failed in the panel (showing, sampling, inspecting): the user is told. */
  | { readonly type: 'problem'; readonly task: string; readonly runId?: string; readonly message: string }
  /** Sampling asked for by the host is done. */
  | { readonly type: 'sampled'; readonly runId: string; readonly count: number }
  | { readonly type: 'backend'; readonly runId: string; readonly info: BackendInfo }
  /** `conditional`: the NLL of a class-conditional model, −log p(x | class). */
  | { readonly type: 'step'; readonly runId: string; readonly step: number; readonly nats: number; readonly bitsPerDim: number; readonly imagesPerSecond: number; readonly seconds: number; readonly conditional?: true }
  /** An evaluation of the validation set or the test set (`split`; absent: test). `best`: this step's checkpoint became the best.
   *  `conditional`: the NLL of a class-conditional model, −log p(x | class). */
  | { readonly type: 'eval'; readonly runId: string; readonly step: number; readonly split?: 'validation' | 'test'; readonly nats: number; readonly bitsPerDim: number; readonly images: number; readonly best: boolean; readonly conditional?: true }
  | { readonly type: 'samples'; readonly runId: string; readonly step: number; readonly png: Uint8Array }
  | { readonly type: 'checkpoint'; readonly runId: string; readonly step: number; readonly kinds: readonly ('latest' | 'best')[]; readonly bytes: Uint8Array }
  | { readonly type: 'ended'; readonly runId: string; readonly status: 'finished' | 'stopped' | 'failed'; readonly step: number; readonly error?: string }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };

// ---------------------------------------------------------------------------------------------------------------
// Validation: a small description per message type, checked field by field.

type Check = (v: unknown, path: string) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const string: Check = (v, p) => (typeof v === 'string' ? null : `${p} must be a string`);
const finite: Check = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? null : `${p} must be a finite number`);
const count: Check = (v, p) => (Number.isInteger(v) && (v as number) >= 0 ? null : `${p} must be a whole number ≥ 0`);
const positive: Check = (v, p) => (Number.isInteger(v) && (v as number) >= 1 ? null : `${p} must be a whole number ≥ 1`);
const bool: Check = (v, p) => (typeof v === 'boolean' ? null : `${p} must be true or false`);
const yes: Check = (v, p) => (v === true ? null : `${p} must be true when given`);
const bytes: Check = (v, p) => (v instanceof Uint8Array ? null : `${p} must be binary (a Uint8Array)`);
const nullable = (check: Check): Check => (v, p) => (v === null ? null : check(v, p));
const optional = (check: Check): Check => (v, p) => (v === undefined ? null : check(v, p));
const oneOf = (...values: string[]): Check => (v, p) => (values.includes(v as string) ? null : `${p} must be one of ${values.join(', ')}`);
const listOf = (check: Check): Check => (v, p) => {
  if (!Array.isArray(v)) return `${p} must be a list`;
  for (let k = 0; k < v.length; k++) {
    const problem = check(v[k], `${p}[${k}]`);
    if (problem) return problem;
  }
  return null;
};
const shape = (fields: Record<string, Check>): Check => (v, p) => {
  if (!isObject(v)) return `${p} must be an object`;
  for (const [key, check] of Object.entries(fields)) {
    const problem = check(v[key], `${p}.${key}`);
    if (problem) return problem;
  }
  // Own keys only: `in` would also admit Object.prototype's names (toString, constructor, __proto__, …).
  const extra = Object.keys(v).filter((k) => !Object.hasOwn(fields, k));
  return extra.length ? `${p} has unknown field ${extra.join(', ')}` : null;
};

const colours: Check = (v, p) => (v === 1 || v === 3 ? null : `${p} must be 1 or 3`);
const imageBatch: Check = (v, p) => {
  const problem = shape({ data: bytes, count: positive, height: positive, width: positive, channels: colours, testCount: optional(count), values: optional(bytes), labels: optional(bytes) })(v, p);
  if (problem) return problem;
  const b = v as ImageBatch;
  if (b.data.length !== b.count * b.height * b.width * b.channels) return `${p}.data holds ${b.data.length} values, not ${b.count}×${b.height}×${b.width}×${b.channels}`;
  if (b.values && b.values.length !== b.data.length) return `${p}.values holds ${b.values.length} values, not ${b.data.length} as data does`;
  if (b.labels && b.labels.length !== b.count) return `${p}.labels holds ${b.labels.length} labels, not one for each of ${b.count} images`;
  return b.testCount !== undefined && b.testCount >= b.count ? `${p}.testCount ${b.testCount} leaves no training images of ${b.count}` : null;
};
const metric = shape({ step: count, split: oneOf('train', 'validation', 'test'), nats: finite, bitsPerDim: finite });
const runView = shape({
  runId: string,
  name: string,
  status: oneOf(...RUN_STATUSES),
  step: count,
  steps: count,
  backend: optional(string),
  metrics: listOf(metric),
  grids: listOf(shape({ step: count, png: bytes })),
  experiment: string,
  checkpoint: nullable(bytes),
  dataset: nullable(imageBatch),
  datasetError: optional(string),
  classNames: optional(listOf(string)),
});

const HOST_MESSAGES: Record<HostMessage['type'], Record<string, Check>> = {
  show: { run: runView },
  compare: { runs: listOf(runView) },
  train: { runId: string, name: string, experiment: string, images: imageBatch, labels: optional(bytes), classNames: optional(listOf(string)), checkpoint: nullable(bytes), metrics: listOf(metric), backend: oneOf('auto', ...BACKEND_ORDER) },
  stop: { runId: string },
  abandon: { runId: string, reason: string },
  dataset: { runId: string, images: nullable(imageBatch), error: optional(string) },
  news: { runId: string, metrics: listOf(metric), grids: listOf(shape({ step: count, png: bytes })), status: oneOf(...RUN_STATUSES), step: count },
  sample: { run: runView, count: positive, temperature: (v, p) => finite(v, p) ?? ((v as number) > 0 ? null : `${p} must be > 0`), seed: count, keepRows: count, classes: optional(listOf(count)) },
};

const PANEL_MESSAGES: Record<PanelMessage['type'], Record<string, Check>> = {
  ready: {},
  started: { runId: string },
  rejected: { messageType: string, runId: optional(string), reason: string },
  problem: { task: string, runId: optional(string), message: string },
  sampled: { runId: string, count: positive },
  backend: { runId: string, info: shape({ name: string, adapter: string, fallbacks: listOf(shape({ name: string, reason: string })) }) },
  step: { runId: string, step: positive, nats: finite, bitsPerDim: finite, imagesPerSecond: finite, seconds: finite, conditional: optional(yes) },
  eval: { runId: string, step: positive, split: optional(oneOf('validation', 'test')), nats: finite, bitsPerDim: finite, images: positive, best: bool, conditional: optional(yes) },
  samples: { runId: string, step: count, png: bytes },
  checkpoint: { runId: string, step: count, kinds: listOf(oneOf('latest', 'best')), bytes },
  ended: { runId: string, status: oneOf('finished', 'stopped', 'failed'), step: count, error: optional(string) },
  log: { level: oneOf('info', 'warn', 'error'), message: string },
};

export type Validated<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly reason: string };

/** What a message's fields must agree on, beyond each field's own check. */
const labelsPast = (labels: ArrayLike<number>, names: readonly string[] | undefined, p: string): string | null => {
  if (!names) return null;
  for (let k = 0; k < labels.length; k++) if (labels[k] >= names.length) return `${p}[${k}] is class ${labels[k]}, past the ${names.length} class names`;
  return null;
};
const HOST_WHOLE: Partial<Record<HostMessage['type'], (m: never) => string | null>> = {
  train: (m: Extract<HostMessage, { type: 'train' }>) =>
    m.labels && m.labels.length !== m.images.count ? `train.labels holds ${m.labels.length} labels, not one for each of ${m.images.count} images` : m.labels ? labelsPast(m.labels, m.classNames, 'train.labels') : null,
  sample: (m: Extract<HostMessage, { type: 'sample' }>) =>
    m.classes && m.classes.length !== m.count ? `sample.classes holds ${m.classes.length} classes, not one for each of ${m.count} images` : m.classes ? labelsPast(m.classes, m.run.classNames, 'sample.classes') : null,
};

function validate<T>(table: Record<string, Record<string, Check>>, value: unknown, side: string, whole: Partial<Record<string, (m: never) => string | null>> = {}): Validated<T> {
  if (!isObject(value) || typeof value.type !== 'string') return { ok: false, reason: `${side} message without a type` };
  const fields = Object.hasOwn(table, value.type) ? table[value.type] : undefined;
  if (!fields) return { ok: false, reason: `unknown ${side} message type '${value.type}'` };
  const problem = shape({ type: string, ...fields })(value, value.type) ?? (Object.hasOwn(whole, value.type) ? whole[value.type]!(value as never) : null);
  return problem ? { ok: false, reason: problem } : { ok: true, message: value as T };
}

/** Check a message the panel received from the host. */
export function validateHostMessage(value: unknown): Validated<HostMessage> {
  return validate<HostMessage>(HOST_MESSAGES, value, 'host', HOST_WHOLE);
}

/** Check a message the host received from the panel. */
export function validatePanelMessage(value: unknown): Validated<PanelMessage> {
  return validate<PanelMessage>(PANEL_MESSAGES, value, 'panel');
}
