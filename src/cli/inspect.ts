/** `pixel-lab sample`, `eval` and `deps`: reading a run's checkpoint (or an experiment's fresh model) and looking. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendPreference } from '../backend/select';
import type { Batches } from '../data/batches';
import { pixelBeliefs } from '../model/beliefs';
import { gradientMap, type PixelChannel, structuralMap } from '../model/dependency';
import { natsToBitsPerDim } from '../model/heads';
import type { PixelModel } from '../model/model';
import { perClassClasses, sample } from '../model/sampling/index';
import { loadModel } from '../model/serialize';
import { encodeNllMap } from '../runs/nll-map-png';
import { encodeGrid } from '../runs/png';
import { RunFolder, timestamp } from '../runs/run-folder';
import { splitOf } from '../experiment/types';
import { decodeCheckpoint } from '../train/checkpoint';
import { evaluate } from '../train/loop';
import { consoleReporter } from './progress';
import { chooseBackend, modelFor, nllName, prepareData, readExperiment } from './session';

/** The run's best checkpoint (or its latest when no evaluation has run), as a model. */
function modelFromRun(run: RunFolder): { model: PixelModel; which: string; step: number } {
  const found = run.readBestCheckpoint();
  if (!found) throw new Error(`${run.dir} has no checkpoint yet`);
  const checkpoint = decodeCheckpoint(found.bytes, run.checkpointPath(found.kind));
  return { model: loadModel(checkpoint.model), which: found.kind, step: checkpoint.state.step };
}

/**
 * A class of a conditional run, from its index (0 … K − 1) or its name (the class names its data had, saved in
 * run.json; letter case ignored). Every failure says what the classes are.
 */
export function resolveClass(text: string, classes: number, names: readonly string[] | undefined): number {
  const listed = names?.length ? `: ${names.map((n, k) => `${k} ${n}`).join(', ')}` : ` (0 … ${classes - 1}; this run has no class names)`;
  if (/^\d+$/.test(text.trim())) {
    const k = Number(text.trim());
    if (k < classes) return k;
    throw new Error(`--class ${text}: this run's model has ${classes} classes${listed}`);
  }
  const wanted = text.trim().toLowerCase();
  const k = names?.findIndex((n) => n.toLowerCase() === wanted) ?? -1;
  if (k >= 0 && k < classes) return k;
  throw new Error(`--class ${JSON.stringify(text)} is not a class of this run${listed}`);
}

export async function sampleCommand(run: RunFolder, o: { count?: number; temperature?: number; seed?: number; out?: string; backend?: BackendPreference; class?: string; perClass?: number }): Promise<void> {
  const reporter = consoleReporter();
  const { experiment } = readExperiment(run.experimentFile, { backend: o.backend });
  await chooseBackend(experiment.training.backend, reporter);
  const { model, which, step } = modelFromRun(run);
  try {
    if ((o.class !== undefined || o.perClass !== undefined) && model.classes === 0) {
      throw new Error(`${o.class !== undefined ? '--class' : '--per-class'}: this run's model is not class-conditional ("model.conditional" in its experiment)`);
    }
    if (o.class !== undefined && o.perClass !== undefined) throw new Error('--class and --per-class do not go together: one class, or a row of each');
    const names = run.info.classNames;
    const chosen = o.class !== undefined ? resolveClass(o.class, model.classes, names) : null;
    const count = o.perClass !== undefined ? model.classes * o.perClass : (o.count ?? experiment.sampling.count);
    const classes = o.perClass !== undefined ? perClassClasses(model.classes, o.perClass) : chosen !== null ? new Int32Array(count).fill(chosen) : undefined;
    const { height, width, channels } = model.config.image;
    const started = performance.now();
    const images = await sample(model, { count, seed: o.seed ?? experiment.training.seed, temperature: o.temperature ?? experiment.sampling.temperature, classes });
    const png = encodeGrid(images, { count, height, width, channels, levels: model.head.levels, ...(o.perClass !== undefined ? { columns: o.perClass } : {}) });
    const out = o.out ? path.resolve(o.out) : path.join(run.dir, 'samples', `sample-${timestamp()}.png`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, png);
    const what =
      chosen !== null
        ? ` of class ${chosen}${names?.[chosen] ? ` (${names[chosen]})` : ''}`
        : o.perClass !== undefined
          ? `, one row of ${o.perClass} per class (${model.classes} rows${names?.length ? `: ${names.slice(0, model.classes).join(', ')}` : ''})`
          : model.classes > 0
            ? `, image n of class n mod ${model.classes}`
            : '';
    console.log(`${count} samples${what} from the ${which} checkpoint (step ${step}) in ${((performance.now() - started) / 1000).toFixed(1)} s: ${out}`);
  } finally {
    model.dispose();
  }
}

export async function evalCommand(run: RunFolder, o: { json?: boolean; backend?: BackendPreference; map?: number; out?: string }): Promise<void> {
  const reporter = consoleReporter();
  const { experiment, text } = readExperiment(run.experimentFile, { backend: o.backend });
  await chooseBackend(experiment.training.backend, o.json ? { ...reporter, info: () => {} } : reporter);
  const prepared = prepareData(experiment, run.info.experimentFile, text, reporter);
  const { model, which, step } = modelFromRun(run);
  if (o.map !== undefined) {
    try {
      await nllMapCommand(run, model, prepared.batches, o.map, o, `the ${which} checkpoint (step ${step})`);
    } finally {
      model.dispose();
    }
    return;
  }
  const { split } = prepared.batches;
  const validation = split.validation.length ? await evaluate(model, prepared.batches, split.validation.length, undefined, 'validation') : null;
  const result = await evaluate(model, prepared.batches, split.test.length, undefined, 'test');
  const testSplit = splitOf(experiment);
  if (o.json) {
    console.log(JSON.stringify({ checkpoint: which, step, split: 'test', testSplit, testImages: result.images, nats: result.nats, bitsPerDim: result.bitsPerDim, ...(result.conditional ? { conditional: true } : {}), validation: validation && { images: validation.images, nats: validation.nats, bitsPerDim: validation.bitsPerDim } }));
  } else {
    const nll = nllName(result.conditional);
    if (validation) console.log(`validation ${nll} of the ${which} checkpoint (step ${step}): ${validation.nats.toFixed(3)} nats/image, ${validation.bitsPerDim.toFixed(4)} bits/dim over ${validation.images} validation images`);
    console.log(`test ${nll} of the ${which} checkpoint (step ${step}): ${result.nats.toFixed(3)} nats/image, ${result.bitsPerDim.toFixed(4)} bits/dim over ${result.images} test images (${testSplit === 'official' ? 'the official test set' : 'a random split'})`);
  }
  model.dispose();
}

/** One test image's NLL map beside the image, as a PNG; prints the image's NLL. */
async function nllMapCommand(run: RunFolder, model: PixelModel, batches: Batches, index: number, o: { json?: boolean; out?: string }, what: string): Promise<void> {
  const tests = batches.split.test.length;
  if (!Number.isInteger(index) || index < 0 || index >= tests) throw new Error(`--map ${index}: the run has test images 0 … ${tests - 1}`);
  const { height, width, channels } = model.config.image;
  // The test image exactly as evaluation encodes it.
  const image = batches.test(index, 1);
  // A class-conditional model reads the image as of its own class: the map of −log p(x | class).
  const imageClass = model.classes > 0 ? batches.testLabels(index, 1)[0] : undefined;
  const b = await pixelBeliefs(model, image, imageClass);
  const nats = b.nll.reduce((s, v) => s + v, 0);
  const bitsPerDim = natsToBitsPerDim(nats, height * width * channels);
  const out = o.out ? path.resolve(o.out) : path.join(run.dir, 'maps', `nll-test-${index}.png`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, encodeNllMap({ image, nll: b.nll, height, width, channels, levels: model.head.levels }));
  if (o.json) {
    console.log(JSON.stringify({ testImage: index, ...(imageClass !== undefined ? { conditional: true, class: imageClass } : {}), nats, bitsPerDim, maxPixelNats: Math.max(...pixelSums(b.nll, channels)), out }));
  } else {
    const ofClass = imageClass !== undefined ? ` (class ${imageClass}${run.info.classNames?.[imageClass] ? `, ${run.info.classNames[imageClass]}` : ''})` : '';
    console.log(`test image ${index} of ${tests}${ofClass}, ${what}: ${nllName(imageClass !== undefined)} ${nats.toFixed(3)} nats (${bitsPerDim.toFixed(4)} bits/dim); the most surprising pixel ${Math.max(...pixelSums(b.nll, channels)).toFixed(2)} nats`);
    console.log(`map: ${out}`);
  }
}

function pixelSums(nll: Float32Array, channels: number): number[] {
  return Array.from({ length: nll.length / channels }, (_, k) => {
    let s = 0;
    for (let c = 0; c < channels; c++) s += nll[k * channels + c];
    return s;
  });
}

function parsePixel(text: string, model: PixelModel): PixelChannel {
  const parts = text.split(',').map((s) => Number(s.trim()));
  const { height, width, channels } = model.config.image;
  const [i, j, c = 0] = parts;
  if (parts.length < 2 || parts.length > 3 || parts.some((v) => !Number.isInteger(v))) throw new Error(`--pixel must be i,j or i,j,c (integers), got "${text}"`);
  if (i < 0 || i >= height || j < 0 || j >= width || c < 0 || c >= channels) {
    throw new Error(`--pixel ${text} is outside the ${height}×${width} image with ${channels} channel(s) (rows 0–${height - 1}, columns 0–${width - 1}, channels 0–${channels - 1})`);
  }
  return { i, j, c };
}

function nest<T>(flat: ArrayLike<number>, h: number, w: number, c: number, f: (v: number) => T): T[][][] {
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => Array.from({ length: c }, (_, k) => f(flat[(i * w + j) * c + k]))));
}

export async function depsCommand(target: string, isRun: boolean, o: { pixel: string; json?: boolean; backend?: BackendPreference }): Promise<void> {
  const reporter = consoleReporter();
  if (!isRun && !existsSync(target)) throw new Error(`no such experiment file or run folder: ${target}`);
  const run = isRun ? RunFolder.open(target) : null;
  const file = run ? run.experimentFile : target;
  const { experiment, text } = readExperiment(file, { backend: o.backend });
  await chooseBackend(experiment.training.backend, o.json ? { ...reporter, info: () => {} } : reporter);
  const prepared = prepareData(experiment, run ? run.info.experimentFile : file, text, reporter);
  const model = run ? modelFromRun(run).model : modelFor(prepared);
  const p = parsePixel(o.pixel, model);
  const { height: H, width: W, channels: C } = model.config.image;
  const image = prepared.batches.test(0, 1);
  const structural = structuralMap(model, p);
  // A class-conditional model reads the image as of its own class.
  const gradient = await gradientMap(model, image, p, model.classes > 0 ? prepared.batches.testLabels(0, 1)[0] : undefined);
  if (o.json) {
    console.log(JSON.stringify({ model: model.config.type, pixel: [p.i, p.j, p.c], structural: nest(structural, H, W, C, (v) => v), gradient: nest(gradient, H, W, C, (v) => v) }));
  } else {
    const max = Math.max(...gradient, 1e-30);
    const shades = ' .:-=+*#%@';
    console.log(`${model.config.type}: what x[${p.i},${p.j},${p.c}] depends on — left: structurally (# yes, . no, X the pixel); right: |gradient| on the first test image, encoded as evaluation encodes it`);
    for (let i = 0; i < H; i++) {
      let left = '';
      let right = '';
      for (let j = 0; j < W; j++) {
        const cell = Array.from({ length: C }, (_, c) => (i * W + j) * C + c);
        left += i === p.i && j === p.j ? 'X' : cell.some((e) => structural[e]) ? '#' : '.';
        const g = Math.max(...cell.map((e) => gradient[e])) / max;
        right += i === p.i && j === p.j ? 'X' : g > 0 ? shades[Math.max(1, Math.round(g * (shades.length - 1)))] : ' ';
      }
      console.log(`${left}   ${right}`);
    }
  }
  model.dispose();
}
