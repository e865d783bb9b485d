/**
 * The host's view of experiments and runs on disk (no `vscode` here, so it is tested directly): where an
 * experiment's runs live, and what the panel needs to train or to show a run. The panel never names a path: the
 * protocol has no field for one, and the host writes only into the run folder it created for the active run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadImages } from '../data/node-load';
import { type Experiment, ExperimentError, imageShape, parseExperiment } from '../experiment/experiment';
import type { ImageBatch, Metric, RunView } from '../protocol';
import { RunFolder, runsFolderOf } from '../runs/run-folder';

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

/** The run folders of an experiment, newest first. */
export function listRuns(experimentFile: string): RunFolder[] {
  const parent = runsFolderOf(experimentFile, experimentName(experimentFile));
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((d) => existsSync(path.join(parent, d, 'run.json')))
    .sort()
    .reverse()
    .map((d) => RunFolder.open(path.join(parent, d)));
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
  const loaded = needImages ? loadImages(parsed, file, text) : null;
  const shape = imageShape(parsed, loaded?.set);
  const experiment: Experiment = { ...parsed, data: { ...parsed.data, ...shape } };
  const images = loaded && withImages ? { data: loaded.set.images, count: loaded.set.count, ...shape } : null;
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
    status: info.status,
    step: info.step,
    steps: info.steps,
    ...(info.backend ? { backend: info.backend } : {}),
    metrics: runCurves(run),
    grids,
    experiment: JSON.stringify(experiment),
    checkpoint: withFiles ? (run.readBestCheckpoint()?.bytes ?? null) : null,
  };
}
