/**
 * The PyTorch twin computes what the TS engine computes. For every model × both heads × 1 and 3 channels (and the
 * variants without residuals and with the Row LSTM reading the image itself), the TS engine on the cpu backend
 * builds a model, writes its weights as safetensors with a batch of images and its logits and NLL; the twin loads
 * them (python/pixel_lab/equivalence.py) and must give the same logits and NLL within 1e-4 relative, and the
 * support of its autograd Jacobian must be exactly the TS structural dependency field. Its parameters come in the
 * TS engine's creation order too (the order of the optimiser slots in a TS checkpoint). Class-conditional models
 * likewise, each image of its own class.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeadConfig, type ModelConfig, MODEL_TYPES } from '../../src/model/config';
import { nllNats } from '../../src/model/heads';
import { createModel } from '../../src/model/index';
import { encodeSafetensors, saveSafetensorsModel, type SafeTensor } from '../../src/model/safetensors';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';
import { runTwin, TORCH } from './torch-support';

/** Images per case: the Jacobian support is their union, so that a ReLU off for one image hides no real path. */
const IMAGES = 8;

interface Case {
  readonly name: string;
  readonly config: ModelConfig;
}

const heads: [string, HeadConfig][] = [
  ['bernoulli', BERNOULLI],
  ['categorical', CATEGORICAL],
];
const CASES: Case[] = [
  ...MODEL_TYPES.flatMap((type) =>
    heads.flatMap(([headName, head]) =>
      ([1, 3] as const).map((channels) => ({ name: `${type}-${headName}-${channels}ch`, config: smallConfig(type, channels, head, { image: { height: 6, width: 5, channels } }) })),
    ),
  ),
  { name: 'pixelcnn-plain-3ch', config: smallConfig('pixelcnn', 3, CATEGORICAL, { residual: false, outputHidden: 0 }) },
  { name: 'row-lstm-reads-image-3ch', config: smallConfig('row-lstm', 3, CATEGORICAL, { firstKernel: 0 }) },
  { name: 'diagonal-bilstm-plain-1ch', config: smallConfig('diagonal-bilstm', 1, BERNOULLI, { residual: false }) },
  // Class-conditional: the same embeddings under the same names, each image of its own class.
  ...MODEL_TYPES.map((type) => ({ name: `${type}-conditional-3ch`, config: smallConfig(type, 3, CATEGORICAL, { classes: 3, image: { height: 6, width: 5, channels: 3 } }) })),
  { name: 'pixelcnn-conditional-plain-1ch', config: smallConfig('pixelcnn', 1, BERNOULLI, { classes: 4, residual: false }) },
  { name: 'row-lstm-conditional-reads-image-1ch', config: smallConfig('row-lstm', 1, BERNOULLI, { classes: 2, firstKernel: 0 }) },
];

/** Write one case: the model as safetensors, and the images, TS logits, NLL and structural field beside it. */
async function writeCase(dir: string, c: Case): Promise<void> {
  const model = createModel(c.config);
  try {
    randomizeWeights(model, 5);
    const { height: H, width: W, channels: C } = c.config.image;
    const images = randomImages(c.config, IMAGES, 17);
    const x = tf.tensor4d(images, [IMAGES, H, W, C]);
    const classes = c.config.classes ? Int32Array.from({ length: IMAGES }, (_, n) => (n * 7 + 1) % c.config.classes!) : undefined;
    const logits = model.logits(x, classes);
    const nll = nllNats(model.head, logits, x);
    const field = model.field();
    const D = H * W * C;
    const map = new Uint8Array(D * D);
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let ch = 0; ch < C; ch++) map.set(field.dependencies(i, j, ch), ((i * W + j) * C + ch) * D);
    const io = new Map<string, SafeTensor>([
      ['images', { dtype: 'F32', shape: [IMAGES, H, W, C], data: images }],
      ['logits', { dtype: 'F32', shape: logits.shape, data: (await logits.data()) as Float32Array }],
      ['nll', { dtype: 'F32', shape: [IMAGES], data: (await nll.data()) as Float32Array }],
      ['field', { dtype: 'U8', shape: [H, W, C, H, W, C], data: map }],
      ...(classes ? [['classes', { dtype: 'I32', shape: [IMAGES], data: classes }] as [string, SafeTensor]] : []),
    ]);
    tf.dispose([x, logits, nll]);
    mkdirSync(path.join(dir, c.name));
    writeFileSync(path.join(dir, c.name, 'model.safetensors'), await saveSafetensorsModel(model));
    writeFileSync(path.join(dir, c.name, 'io.safetensors'), encodeSafetensors(io));
  } finally {
    model.dispose();
  }
}

interface TwinResult {
  case: string;
  sameParameterOrder: boolean;
  logitsShape: number[];
  tsLogitsShape: number[];
  logitsError: number | null;
  nllError: number;
  fieldEntries: number;
  fieldDependencies: number;
  fieldMismatches: number;
  fieldLeaks: number;
}

describe.skipIf(!TORCH.python)('the PyTorch twin gives the TS engine’s logits, NLL and dependency field', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-equivalence-'));
  const results = new Map<string, TwinResult>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const c of CASES) await writeCase(dir, c);
    const out = runTwin('equivalence', [dir]).stdout;
    for (const line of out.trim().split('\n')) {
      const r = JSON.parse(line) as TwinResult;
      results.set(r.case, r);
    }
    const worst = (f: (r: TwinResult) => number) => Math.max(...[...results.values()].map(f)).toExponential(1);
    console.info(`twin vs TS over ${results.size} cases: worst logit error ${worst((r) => r.logitsError ?? Infinity)}, worst NLL error ${worst((r) => r.nllError)}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(CASES.map((c) => [c.name]))('%s', (name) => {
    const r = results.get(name);
    expect(r, `the twin reported nothing for ${name}`).toBeDefined();
    expect(r!.sameParameterOrder).toBe(true);
    expect(r!.logitsShape).toEqual(r!.tsLogitsShape);
    expect(r!.logitsError).toBeLessThan(1e-4);
    expect(r!.nllError).toBeLessThan(1e-4);
    // A field with no dependency would make the comparison empty.
    expect(r!.fieldDependencies).toBeGreaterThan(0);
    expect({ leaks: r!.fieldLeaks, mismatches: r!.fieldMismatches }).toEqual({ leaks: 0, mismatches: 0 });
  });
});
