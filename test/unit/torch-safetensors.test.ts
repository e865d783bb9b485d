/**
 * Weights as safetensors: the layout round-trips, a model saved and loaded computes the same logits, damaged
 * files are refused with a message naming the problem, and a model written by the PyTorch twin (its own weights,
 * its own writer) loads into the TS engine and gives the twin's logits — and, built from the same configuration and
 * seed, has the TS engine's initial weights exactly, and samples the TS engine's images for the same seed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/model/index';
import { decodeSafetensors, encodeSafetensors, loadSafetensorsModel, savedModelToSafetensors, saveSafetensorsModel, type SafeTensor } from '../../src/model/safetensors';
import { saveModel } from '../../src/model/serialize';
import { sample } from '../../src/model/sampling/index';
import { BERNOULLI, CATEGORICAL, randomImages, randomizeWeights, smallConfig, useBackend } from '../support/engine';
import { runPython, TORCH } from './torch-support';

beforeAll(() => useBackend('cpu'));

describe('the safetensors layout', () => {
  it('round-trips names, dtypes, shapes, values and metadata, with the data 8-byte aligned', () => {
    const tensors = new Map<string, SafeTensor>([
      ['a/kernel', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3, 4e-8, 5, -6]) }],
      ['labels', { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 7, 255]) }],
      ['steps', { dtype: 'I32', shape: [2], data: Int32Array.from([-1, 2 ** 30]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { config: '{"x":1}' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header['a/kernel']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(bytes.length).toBe(8 + headerLength + 24 + 3 + 8);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ config: '{"x":1}' });
    for (const [name, t] of tensors) {
      expect(back.tensors.get(name)!.dtype).toBe(t.dtype);
      expect(back.tensors.get(name)!.shape).toEqual(t.shape);
      expect([...back.tensors.get(name)!.data]).toEqual([...t.data]);
    }
  });

  it('refuses truncated and foreign files, naming the problem', () => {
    const bytes = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [4], data: new Float32Array(4) }]]));
    expect(() => decodeSafetensors(bytes.subarray(0, 5), 'x.safetensors')).toThrow(/x.safetensors is too short/);
    expect(() => decodeSafetensors(bytes.subarray(0, 20), 'x.safetensors')).toThrow(/x.safetensors is truncated/);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'x.safetensors')).toThrow(/tensor w \(F32 \[4\]\) does not fit/);
    expect(() => loadSafetensorsModel(bytes, 'x.safetensors')).toThrow(/x.safetensors is not a Pixel Lab model/);
  });
});

describe('a model as safetensors', () => {
  it('loads back with the same logits, refuses weights of another architecture, and converts from a checkpoint', async () => {
    const config = smallConfig('row-lstm', 3, CATEGORICAL);
    const model = createModel(config);
    const bytes = await saveSafetensorsModel(model);
    const loaded = loadSafetensorsModel(bytes);
    const x = tf.tensor4d(randomImages(config, 2, 3), [2, 7, 7, 3]);
    const [a, b] = [model.logits(x), loaded.logits(x)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    const { tensors, metadata } = decodeSafetensors(bytes);
    const bigger = createModel({ ...config, hidden: 6 });
    expect(() => loadSafetensorsModel(encodeSafetensors(tensors, { ...metadata, config: JSON.stringify(bigger.config) }))).toThrow(/has shape \[.*\], the architecture needs/);
    // A checkpoint's saved model converts without building it, to the same bytes.
    expect(savedModelToSafetensors(await saveModel(model))).toEqual(bytes);
    tf.dispose([x, a, b]);
    [model, loaded, bigger].forEach((m) => m.dispose());
  });
});

describe.skipIf(!TORCH.python)('a model written by the PyTorch twin', () => {
  it.each([
    ['row-lstm', CATEGORICAL, 3],
    ['pixelcnn', BERNOULLI, 1],
  ] as const)('samples the TS engine’s images for the same weights and seed (%s)', async (type, head, channels) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-twin-'));
    try {
      const config = smallConfig(type, channels, head, { image: { height: 5, width: 4, channels } });
      const model = createModel(config);
      randomizeWeights(model, 4);
      writeFileSync(path.join(dir, 'model.safetensors'), await saveSafetensorsModel(model));
      const ts = await sample(model, { count: 3, seed: 12, temperature: 0.9, method: 'naive' });
      model.dispose();
      const twin = JSON.parse(
        runPython(`
import json
from pixel_lab.safetensors_io import load_model
from pixel_lab.sampling import sample
print(json.dumps(sample(load_model('${dir}/model.safetensors'), 3, 12, 0.9).flatten().tolist()))
`),
      );
      expect(twin).toEqual(Array.from(ts));
      expect(new Set(twin).size).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads into the TS engine and gives the twin’s logits; a fresh model has the TS engine’s initial weights', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-twin-'));
    try {
      const config = smallConfig('gated-pixelcnn', 3, CATEGORICAL, { seed: 3 });
      const images = randomImages(config, 2, 9);
      runPython(`
import json, torch
from pixel_lab import create_model
from pixel_lab.safetensors_io import save_model, write_file
model = create_model(json.loads('${JSON.stringify(config)}'))
x = torch.tensor(${JSON.stringify(Array.from(images))}).reshape(2, 7, 7, 3)
save_model(model, '${dir}/model.safetensors')
with torch.no_grad():
    write_file('${dir}/logits.safetensors', {'logits': model(x)})
`);
      const model = loadSafetensorsModel(new Uint8Array(readFileSync(path.join(dir, 'model.safetensors'))));
      expect(model.config).toEqual(config);
      const twin = decodeSafetensors(new Uint8Array(readFileSync(path.join(dir, 'logits.safetensors')))).tensors.get('logits')!;
      const x = tf.tensor4d(images, [2, 7, 7, 3]);
      const ours = model.logits(x);
      expect(ours.shape).toEqual(twin.shape);
      const values = await ours.data();
      const worst = Math.max(...Array.from(values, (v, k) => Math.abs(v - twin.data[k]) / Math.max(1, Math.abs(twin.data[k]))));
      expect(worst).toBeLessThan(1e-4);
      // The same configuration and seed give the same initial weights in both engines, value for value.
      const fresh = createModel(config);
      for (const [name, v] of fresh.params.named()) {
        expect(Array.from(await model.params.named().find(([n]) => n === name)![1].data()), name).toEqual(Array.from(await v.data()));
      }
      tf.dispose([x, ours]);
      model.dispose();
      fresh.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
