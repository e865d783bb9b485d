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
import { type Experiment, ExperimentError, imageShape, parseExperiment } from '../experiment/experiment';
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

/**
 * The runs of an experiment file, newest first: the runs beside it that record this file as theirs (runs belong to
 * their file, not to its "name", so two files made from one example never share runs and renaming "name" loses
 * nothing), and runs whose file is gone that were started under this file's experiment name (a file moved or
 * renamed behind VS Code's back).
 */
export function listRuns(experimentFile: string): RunEntry[] {
  const file = path.resolve(experimentFile);
  const name = experimentName(file);
  return runsBeside(path.dirname(file))
    .filter((r) => path.resolve(r.info.experimentFile) === file || (!existsSync(r.info.experimentFile) && r.info.experiment === name))
    .sort((a, b) => (a.info.startedAt < b.info.startedAt ? 1 : a.info.startedAt > b.info.startedAt ? -1 : b.dir.localeCompare(a.dir)));
}

/**
 * Record as interrupted every run under `root` (searched down to the runs folders beside experiment files) that says
 * "running" but whose trainer is gone; returns their folders.
 */
export function markInterruptedRuns(root: string, depth = 4): string[] {
  const marked: string[] = [];
  const visit = (folder: string, left: number) => {
    for (const r of runsBeside(folder)) {
      if (r.info.status !== 'running' || r.status !== 'interrupted') continue;
      RunFolder.open(r.dir).update({ status: 'interrupted', owner: undefined, error: r.info.error ?? `its trainer stopped without ending it; the last checkpoint is at step ${r.info.step}` });
      marked.push(r.dir);
    }
    if (left === 0) return;
    for (const d of readdirSync(folder, { withFileTypes: true })) {
      if (d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules' && d.name !== 'runs') visit(path.join(folder, d.name), left - 1);
    }
  };
  visit(root, depth);
  return marked;
}

/** After an experiment file was renamed or moved, its runs record the new path. */
export function retargetRuns(from: string, to: string): number {
  let moved = 0;
  for (const r of runsBeside(path.dirname(path.resolve(from)))) {
    if (path.resolve(r.info.experimentFile) !== path.resolve(from)) continue;
    RunFolder.open(r.dir).update({ experimentFile: path.resolve(to) });
    moved++;
  }
  return moved;
}

/** Bytes as a plain Uint8Array over exactly its own memory: VS Code's webview messaging passes those as binary, while
 *  a Node Buffer (what readFileSync and gunzipSync return) would go through Buffer.toJSON. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.constructor === Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}

/** The experiment as the panel receives it: parsed, defaults filled in, and the image shape made explicit. */
export interface PreparedExperiment {
  readonly experiment: Experiment;
  readonly text: string;
  readonly images: ImageBatch | null;
  readonly warnings: string[];
}

/** Parse an experiment and (when `withImages`) load its images; throws ExperimentError with positions. */
export function prepareExperiment(file: string, text: string, withImages: boolean): PreparedExperiment {
  const parsed = parseExperiment(text, file);
  const needImages = withImages || parsed.data.dataset === 'idx';
  return prepared(parsed, text, needImages ? loadImages(parsed, file, text) : null, withImages);
}

/**
 * The same, with the images loaded on a worker thread (a folder of photos takes minutes to decode; on the
 * extension host's thread it would freeze every extension), reporting progress and cancellable.
 */
export async function prepareExperimentOffThread(file: string, text: string, options: OffThreadOptions = {}): Promise<PreparedExperiment> {
  const parsed = parseExperiment(text, file);
  return prepared(parsed, text, await loadImagesOffThread(parsed, file, text, options), true);
}

function prepared(parsed: Experiment, text: string, loaded: LoadedImages | null, withImages: boolean): PreparedExperiment {
  const shape = imageShape(parsed, loaded?.set);
  const experiment: Experiment = { ...parsed, data: { ...parsed.data, ...shape } };
  const images = loaded && withImages ? { data: plainBytes(loaded.set.images), count: loaded.set.count, ...shape } : null;
  return { experiment, text, images, warnings: loaded?.warnings ?? [] };
}

/** A run's curves as the chart draws them. */
export function runCurves(run: RunFolder): Metric[] {
  return run.metrics().map(({ step, split, nats, bitsPerDim }) => ({ step, split, nats, bitsPerDim }));
}

/**
 * Everything the panel needs to show a run from disk; without `withFiles` (a comparison, which draws curves only),
 * its sample grids and checkpoint are not read.
 */
export function runView(run: RunFolder, withFiles = true): RunView {
  const info = run.info;
  let dataset: ImageBatch | null = null;
  let datasetError: string | undefined;
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
  if (withFiles) {
    try {
      dataset = testImages(prepareExperiment(info.experimentFile, text, true), 16);
    } catch (error) {
      datasetError = (error as Error).message.split('\n')[0];
    }
  }
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
    dataset,
    ...(datasetError ? { datasetError } : {}),
  };
}

/** The first `count` test images of a prepared experiment (the split training uses), as bytes. */
export function testImages(prepared: PreparedExperiment, count: number): ImageBatch | null {
  return prepared.images ? testImageSubset(prepared.images, prepared.experiment, count) : null;
}
