/**
 * The host's view of experiments and runs on disk (no `vscode` here, so it is tested directly): where an
 * experiment's runs live, and what the panel needs to train or to show a run. The panel never names a path: the
 * protocol has no field for one, and the host writes only into the run folder it created for the active run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadImagesOffThread, type OffThreadOptions } from '../data/load-off-thread';
import { type LoadedImages, loadImages } from '../data/node-load';
import { testImageSubset } from '../data/test-images';
import { datasetShape } from '../experiment/checks';
import { dataClasses, type Experiment, ExperimentError, imageShape, parseExperiment } from '../experiment/experiment';
import type { ImageBatch, Metric, RunStatus, RunView } from '../protocol';
import { effectiveStatus, RunFolder, type RunInfo } from '../runs/run-folder';

/** The experiment's name: its "name" field, else the file name (without parsing the whole file strictly). */
export function experimentName(file: string): string {
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name;
  } catch {
    // a broken file still has a name in the tree
  }
  return path.basename(file).replace(/\.pixel\.json$/, '');
}

/** A run as the tree and the pickers list it: where, its record, and its status as it really is. */
export interface RunEntry {
  readonly dir: string;
  readonly info: RunInfo;
  /** `running` only while its trainer lives; a run whose trainer died reads `interrupted`. */
  readonly status: RunStatus;
}

/** Every run folder under `<folder>/runs/<name>/`, whatever experiment name it was started under. */
export function runsBeside(folder: string): RunEntry[] {
  const root = path.join(folder, 'runs');
  if (!existsSync(root)) return [];
  const entries: RunEntry[] = [];
  for (const group of readdirSync(root, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    for (const d of readdirSync(path.join(root, group.name), { withFileTypes: true })) {
      const dir = path.join(root, group.name, d.name);
      if (!d.isDirectory() || !existsSync(path.join(dir, 'run.json'))) continue;
      try {
        const info = RunFolder.open(dir).info;
        entries.push({ dir, info, status: effectiveStatus(info) });
      } catch {
        // a run.json being written or damaged: left out of the list, never fatal to it
      }
    }
  }
  return entries;
}

/** Every run in the folders under `root` (down to `depth` levels), wherever its experiment file is now. */
export function findRuns(root: string, depth = 4): RunEntry[] {
  const found: RunEntry[] = [];
  const visit = (folder: string, left: number) => {
    found.push(...runsBeside(folder));
    if (left === 0) return;
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return; // unreadable: nothing of ours there
    }
    for (const d of entries) {
      if (d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules' && d.name !== 'runs') visit(path.join(folder, d.name), left - 1);
    }
  };
  visit(root, depth);
  return found;
}

const newestFirst = (a: RunEntry, b: RunEntry) => (a.info.startedAt < b.info.startedAt ? 1 : a.info.startedAt > b.info.startedAt ? -1 : b.dir.localeCompare(a.dir));

/**
 * The runs of each experiment file, newest first: the runs that record the file as theirs, wherever their folder is
 * (runs belong to their file, not to its "name": two files made from one example never share runs, renaming "name"
 * loses nothing, and a file moved to another folder keeps its runs), and runs whose recorded file is gone that sit
 * beside a file of the same experiment name (a file renamed or moved behind VS Code's back).
 */
export function groupRuns(runs: readonly RunEntry[], experimentFiles: readonly string[]): Map<string, RunEntry[]> {
  const files = experimentFiles.map((f) => path.resolve(f));
  const groups = new Map<string, RunEntry[]>(files.map((f) => [f, []]));
  for (const r of runs) {
    const own = path.resolve(r.info.experimentFile);
    if (groups.has(own)) {
      groups.get(own)!.push(r);
    } else if (!existsSync(own)) {
      const beside = path.dirname(path.dirname(path.dirname(r.dir))); // <folder>/runs/<name>/<run>
      const adoptive = files.find((f) => path.dirname(f) === beside && experimentName(f) === r.info.experiment);
      if (adoptive) groups.get(adoptive)!.push(r);
    }
  }
  for (const list of groups.values()) list.sort(newestFirst);
  return groups;
}

/** The runs of one experiment file, among the runs beside it (see groupRuns; the tree looks workspace-wide). */
export function listRuns(experimentFile: string): RunEntry[] {
  const file = path.resolve(experimentFile);
  return groupRuns(runsBeside(path.dirname(file)), [file]).get(file)!;
}

/**
 * Record as interrupted every run in `runs` that says "running" but whose trainer is gone (never one whose trainer
 * process lives on this machine); returns their folders.
 */
export function markInterruptedRuns(runs: readonly RunEntry[]): string[] {
  const marked: string[] = [];
  for (const r of runs) {
    if (r.info.status !== 'running' || r.status !== 'interrupted') continue;
    RunFolder.open(r.dir).update({ status: 'interrupted', owner: undefined, error: r.info.error ?? `its trainer stopped without ending it; the last checkpoint is at step ${r.info.step}` });
    marked.push(r.dir);
  }
  return marked;
}

/**
 * After an experiment file (or a folder holding experiment files) was renamed or moved, the runs that recorded
 * the old path record the new one; returns how many.
 */
export function retargetRuns(runs: readonly RunEntry[], from: string, to: string): number {
  const old = path.resolve(from);
  let moved = 0;
  for (const r of runs) {
    const own = path.resolve(r.info.experimentFile);
    if (own !== old && !own.startsWith(old + path.sep)) continue;
    RunFolder.open(r.dir).update({ experimentFile: path.join(path.resolve(to), path.relative(old, own)) });
    moved++;
  }
  return moved;
}

/** The experiment as the panel receives it: parsed, defaults filled in, and the image shape made explicit. */
export interface PreparedExperiment {
  readonly experiment: Experiment;
  readonly text: string;
  readonly images: ImageBatch | null;
  /** A class-conditional experiment's class label per image (its model.classes is then set), and its class names. */
  readonly labels?: Uint8Array;
  readonly classNames?: readonly string[];
  readonly warnings: string[];
}

/** Parse an experiment and (when `withImages`) load its images; throws ExperimentError with positions. */
export function prepareExperiment(file: string, text: string, withImages: boolean): PreparedExperiment {
  const parsed = parseExperiment(text, file);
  if (withImages) return prepared(parsed, file, text, loadImages(parsed, file, text));
  // An IDX file's header gives its images' shape: the file itself is not read.
  const own = parsed.data.dataset === 'idx' ? datasetShape(parsed.data, file).shape : undefined;
  const experiment: Experiment = { ...parsed, data: { ...parsed.data, ...imageShape(parsed, own) } };
  return { experiment, text, images: null, warnings: [] };
}

/**
 * The same, with the images loaded on a worker thread (a folder of photos takes minutes to decode; on the
 * extension host's thread it would freeze every extension), reporting progress and cancellable.
 */
export async function prepareExperimentOffThread(file: string, text: string, options: OffThreadOptions = {}): Promise<PreparedExperiment> {
  const parsed = parseExperiment(text, file);
  return prepared(parsed, file, text, await loadImagesOffThread(parsed, file, text, options));
}

/** An experiment with its images (plain bytes: see loadImages) and their shape filled in; a conditional one's
 *  labels checked (an ExperimentError at model.conditional without them) and its number of classes filled in. */
function prepared(parsed: Experiment, file: string, text: string, loaded: LoadedImages): PreparedExperiment {
  const shape = imageShape(parsed, loaded.set);
  const classes = dataClasses(parsed, loaded.set, file, text);
  const experiment: Experiment = { ...parsed, ...(classes ? { model: { ...parsed.model, classes: classes.classes } } : {}), data: { ...parsed.data, ...shape } };
  const labelled = classes && loaded.set.labels ? { labels: loaded.set.labels, ...(classes.classNames ? { classNames: classes.classNames } : {}) } : {};
  const testCount = loaded.set.testCount ? { testCount: loaded.set.testCount } : {};
  return { experiment, text, images: { data: loaded.set.images, count: loaded.set.count, ...shape, ...testCount }, ...labelled, warnings: loaded.warnings };
}

/** A run's curves as the chart draws them. */
export function runCurves(run: RunFolder): Metric[] {
  return run.metrics().map(({ step, split, nats, bitsPerDim }) => ({ step, split, nats, bitsPerDim }));
}

/**
 * Everything the panel needs to show a run from disk; without `withFiles` (a comparison, which draws curves only),
 * its sample grids and checkpoint are not read. Its dataset images follow in their own message (runDataset).
 */
export async function runView(run: RunFolder, withFiles = true): Promise<RunView> {
  const info = run.info;
  const text = readFileSync(run.experimentFile, 'utf8');
  let experiment: Experiment;
  try {
    experiment = prepareExperiment(info.experimentFile, text, false).experiment;
  } catch (error) {
    if (error instanceof ExperimentError) throw new Error(`the run's experiment snapshot is no longer valid: ${error.message}`);
    throw error;
  }
  const grids = withFiles
    ? run.sampleFiles().map((file) => ({ step: Number(/step-(\d+)\.png$/.exec(file)![1]), png: new Uint8Array(readFileSync(file)) }))
    : [];
  return {
    runId: run.dir,
    name: `${info.experiment} · ${path.basename(run.dir)}`,
    status: effectiveStatus(info),
    step: info.step,
    steps: info.steps,
    ...(info.backend ? { backend: info.backend } : {}),
    metrics: runCurves(run),
    grids,
    experiment: JSON.stringify(experiment),
    checkpoint: withFiles ? (run.readBestCheckpoint()?.bytes ?? null) : null,
    dataset: null,
    ...(info.classNames ? { classNames: [...info.classNames] } : {}),
  };
}

const copyBatch = (b: ImageBatch): ImageBatch => ({ ...b, data: b.data.slice(), ...(b.values ? { values: b.values.slice() } : {}), ...(b.labels ? { labels: b.labels.slice() } : {}) });

const datasets = new Map<string, ImageBatch>();
// A conditional run's images carry their labels, an unconditional one's do not: both are in the key.
const datasetKey = (file: string, experiment: Experiment) => JSON.stringify([path.resolve(path.dirname(file)), experiment.data, experiment.model.conditional === true]);

/**
 * A run's first 16 test images (loaded off the host's thread, then kept for the next show of the same data), or
 * why its data set cannot be read (moved, deleted, changed). The panel shows the run first and gets these after.
 */
export async function runDataset(run: RunFolder): Promise<{ images: ImageBatch | null; error?: string }> {
  const info = run.info;
  try {
    const text = readFileSync(run.experimentFile, 'utf8');
    const key = datasetKey(info.experimentFile, prepareExperiment(info.experimentFile, text, false).experiment);
    const known = datasets.get(key);
    // A copy each time: VS Code's webview messaging takes the memory of the bytes it sends (the cache keeps its own).
    if (known) return { images: copyBatch(known) };
    const prepared = await prepareExperimentOffThread(info.experimentFile, text);
    const images = testImages(prepared, 16)!;
    if (datasets.size > 16) datasets.clear();
    datasets.set(key, copyBatch(images));
    return { images };
  } catch (error) {
    return { images: null, error: (error as Error).message.split('\n')[0] };
  }
}

/** The first `count` test images of a prepared experiment (the split training uses): their bytes, their values
 *  as evaluation encodes them (`values`), and a conditional experiment's labels of them (`labels`). */
export function testImages(prepared: PreparedExperiment, count: number): ImageBatch | null {
  return prepared.images ? testImageSubset(prepared.images, prepared.experiment, count, prepared.labels) : null;
}
