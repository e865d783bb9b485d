/**
 * `pixel-lab bench --quality`: each model trained for the same budget of steps on Fashion-MNIST's official training
 * file (Debian's dataset-fashion-mnist), binarised at 0.5, by this engine and — the second column — by the PyTorch
 * twin (python/pixel_lab) at the same seed on the same batches; then both final models scored by ONE evaluator (this
 * engine's `evaluate`, the twin's model loaded from the TS-format checkpoint it writes) on the first N images of the
 * official test file. Test NLL in nats per image beside ms per step, and the twin's relative difference (the issue
 * asks for |Δ| ≤ 2%).
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Batches, experimentBatches } from '../data/batches';
import type { PixelEncoding } from '../data/encoding';
import { loadImages } from '../data/node-load';
import { imageShape, modelConfigOf, parseExperiment } from '../experiment/experiment';
import type { Experiment } from '../experiment/types';
import type { ModelType } from '../model/config';
import { createModel } from '../model/index';
import type { PixelModel } from '../model/model';
import { createOptimizer, decodeCheckpoint, restoreModel } from '../train/checkpoint';
import { evaluate } from '../train/loop';
import { trainStep } from '../train/step';
import { findTorchPython, trainWithTwin } from './twin';

const MODELS: Record<ModelType, object> = {
  pixelcnn: { type: 'pixelcnn', layers: 4, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 },
  'row-lstm': { type: 'row-lstm', layers: 2, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 },
  'diagonal-bilstm': { type: 'diagonal-bilstm', layers: 2, hidden: 16, firstKernel: 7, residual: true, outputHidden: 32 },
  'gated-pixelcnn': { type: 'gated-pixelcnn', layers: 4, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 },
};

/** Debian's dataset-fashion-mnist: train-images-idx3-ubyte.gz (60,000) and t10k-images-idx3-ubyte.gz (10,000). */
export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';
const TRAIN_FILE = 'train-images-idx3-ubyte.gz';
const TEST_FILE = 't10k-images-idx3-ubyte.gz';
const BATCH = 16;
const LEARNING_RATE = 0.001;
const SEED = 1;
/** The share of the training file held out by the experiment's split (unused: the official test file scores). */
const TEST_FRACTION = 0.01;
const ENCODING: PixelEncoding = { levels: 2, binarize: 'fixed', threshold: 0.5 };

export interface QualityOptions {
  readonly steps?: number;
  readonly models?: string[];
  /** true: the twin column or a loud failure; false: none; undefined: when a Python with torch is found. */
  readonly twin?: boolean;
  /** Images of the official test file scored (the first N). Default all 10,000. */
  readonly testImages?: number;
  /** The folder holding train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz. */
  readonly dataDir?: string;
}

export interface QualityRow {
  readonly model: string;
  readonly steps: number;
  readonly tsNats: number;
  readonly tsMsPerStep: number;
  readonly twinNats: number | null;
  readonly twinMsPerStep: number | null;
  /** (twin − TS) / TS. */
  readonly relativeDifference: number | null;
}

/** The experiment both engines train: written to a file so that the twin reads exactly what this engine parses. */
function experimentText(name: string, trainFile: string, steps: number): string {
  return JSON.stringify(
    {
      name: `quality-${name}`,
      model: MODELS[name as ModelType],
      data: { dataset: 'idx', path: trainFile, ...ENCODING, testFraction: TEST_FRACTION, validationFraction: 0 },
      training: { steps, batchSize: BATCH, optimizer: 'adam', learningRate: LEARNING_RATE, seed: SEED, evalEvery: steps, evalImages: 16, sampleEvery: steps, checkpointEvery: steps },
      sampling: { count: 1 },
    },
    null,
    2,
  );
}

/** The first `count` images of an IDX file, encoded as the experiment encodes, as a test split to `evaluate` on. */
export function officialTestBatches(file: string, count: number): Batches {
  const text = JSON.stringify({ name: 'official-test', model: MODELS.pixelcnn, data: { dataset: 'idx', path: file, ...ENCODING } });
  const { set } = loadImages(parseExperiment(text, 'official-test.pixel.json'), 'official-test.pixel.json', text);
  const n = Math.min(count, set.count);
  return new Batches(set, { train: new Int32Array(0), validation: new Int32Array(0), test: Int32Array.from({ length: n }, (_, k) => k) }, ENCODING, SEED);
}

/** This engine's training, step for step what `pixel-lab train` takes (batch of step s = batches.train(s − 1)). */
async function trainHere(experiment: Experiment, batches: Batches, steps: number): Promise<{ model: PixelModel; msPerStep: number }> {
  const { height, width, channels } = batches.shape;
  const model = createModel(modelConfigOf(experiment, imageShape(experiment, batches.shape)));
  const optimizer = createOptimizer('adam', LEARNING_RATE);
  const every = Math.max(1, Math.round(steps / 10));
  let ms = 0;
  try {
    for (let step = 1; step <= steps; step++) {
      const began = performance.now();
      const x = tf.tensor4d(batches.train(step - 1, BATCH), [BATCH, height, width, channels]);
      try {
        const loss = await trainStep(model, optimizer, x);
        if (!Number.isFinite(loss)) throw new Error(`${experiment.name}: the training loss became ${loss} at step ${step}`);
        if (step % every === 0 || step === steps) console.log(`  ${experiment.name} (TS): step ${step}/${steps}, ${(loss * height * width * channels).toFixed(2)} nats/image`);
      } finally {
        x.dispose();
      }
      ms += performance.now() - began;
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  return { model, msPerStep: ms / steps };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runQualityBench(options: QualityOptions = {}): Promise<QualityRow[]> {
  const steps = options.steps ?? 500;
  const names = options.models ?? Object.keys(MODELS);
  for (const name of names) if (!(name in MODELS)) throw new Error(`unknown model '${name}' (one of ${Object.keys(MODELS).join(', ')})`);
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const trainFile = path.resolve(dataDir, TRAIN_FILE);
  const testFile = path.resolve(dataDir, TEST_FILE);
  for (const file of [trainFile, testFile]) {
    if (!existsSync(file)) throw new Error(`no such file: ${file} (Fashion-MNIST's official files: apt-get install dataset-fashion-mnist, or --data DIR)`);
  }
  const torch = options.twin === false ? null : findTorchPython();
  if (options.twin === true && !torch?.python) throw new Error(`--twin: ${torch?.why}`);
  const python = torch?.python ?? null;
  const twinNote = python ? `PyTorch twin: ${python} -m pixel_lab.train, OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? '1'}` : options.twin === false ? 'PyTorch twin: off (--no-twin)' : `PyTorch twin: skipped, ${torch?.why}`;
  const testBatches = officialTestBatches(testFile, options.testImages ?? 10_000);
  const testCount = testBatches.split.test.length;
  console.log(`quality: ${steps} steps, batch ${BATCH}, Adam ${LEARNING_RATE}, seed ${SEED}, train ${trainFile} binarised at 0.5; test NLL on the first ${testCount} images of ${testFile}, one evaluator (this engine, backend ${tf.getBackend()}) for both engines' final models`);
  console.log(twinNote);
  const work = mkdtempSync(path.join(os.tmpdir(), 'pixel-lab-quality-'));
  const rows: QualityRow[] = [];
  try {
    for (const name of names) {
      const file = path.join(work, `quality-${name}.pixel.json`);
      const text = experimentText(name, trainFile, steps);
      writeFileSync(file, text);
      const experiment = parseExperiment(text, file);
      const { set } = loadImages(experiment, file, text);
      const here = await trainHere(experiment, experimentBatches(experiment, set), steps);
      const tsNats = await scored(here.model, testBatches, testCount);
      let twin: { nats: number; msPerStep: number } | null = null;
      if (python) {
        console.log(`  ${experiment.name} (PyTorch twin): training ${steps} steps`);
        const run = await trainWithTwin(python, file, path.join(work, 'runs'), steps);
        // A plain Uint8Array: decodeCheckpoint slices, and a Node Buffer's slice is a view of its whole pool.
        const model = restoreModel(decodeCheckpoint(new Uint8Array(readFileSync(run.checkpoint)), run.checkpoint));
        twin = { nats: await scored(model, testBatches, testCount), msPerStep: run.msPerStep };
      }
      const row: QualityRow = {
        model: name,
        steps,
        tsNats: round(tsNats, 3),
        tsMsPerStep: round(here.msPerStep, 1),
        twinNats: twin && round(twin.nats, 3),
        twinMsPerStep: twin && round(twin.msPerStep, 1),
        relativeDifference: twin && round((twin.nats - tsNats) / tsNats, 5),
      };
      rows.push(row);
      console.log(JSON.stringify({ bench: 'quality', batch: BATCH, testImages: testCount, backend: tf.getBackend(), ...row }));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(table(rows, testCount));
  return rows;
}

/** Test NLL (nats per image) of a model on the official test images; the model is disposed. */
async function scored(model: PixelModel, batches: Batches, count: number): Promise<number> {
  try {
    return (await evaluate(model, batches, count)).nats;
  } finally {
    model.dispose();
  }
}

function table(rows: QualityRow[], testCount: number): string {
  const lines = [
    `\n| model | steps | TS test NLL | PyTorch test NLL | relative difference | TS ms/step | PyTorch ms/step |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const diff = r.relativeDifference === null ? '—' : `${(r.relativeDifference * 100).toFixed(2)}%${Math.abs(r.relativeDifference) <= 0.02 ? '' : ' (over 2%)'}`;
    lines.push(`| ${r.model} | ${r.steps} | ${r.tsNats.toFixed(2)} | ${r.twinNats?.toFixed(2) ?? '—'} | ${diff} | ${r.tsMsPerStep.toFixed(1)} | ${r.twinMsPerStep?.toFixed(1) ?? '—'} |`);
  }
  lines.push(`(test NLL in nats per image on the first ${testCount} official test images)`);
  return lines.join('\n');
}
