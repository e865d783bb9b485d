/**
 * `pixel-lab bench --quality`: each model trained for the same budget of steps on binarised MNIST (28×28, the
 * paper's setting, small widths so it fits a laptop CPU), then test NLL in nats per image beside ms per step. The
 * paper's claims, made visible: PixelCNN fastest per step, Row LSTM next, Diagonal BiLSTM slowest and best.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Batches, splitImages } from '../data/batches';
import { loadImages } from '../data/node-load';
import { imageShape, modelConfigOf, parseExperiment } from '../experiment/experiment';
import type { ModelType } from '../model/config';
import { createModel } from '../model/index';
import { createOptimizer } from '../train/checkpoint';
import { evaluate } from '../train/loop';
import { trainStep } from '../train/step';

const MODELS: Record<ModelType, object> = {
  pixelcnn: { type: 'pixelcnn', layers: 4, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 },
  'row-lstm': { type: 'row-lstm', layers: 2, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 },
  'diagonal-bilstm': { type: 'diagonal-bilstm', layers: 2, hidden: 16, firstKernel: 7, residual: true, outputHidden: 32 },
  'gated-pixelcnn': { type: 'gated-pixelcnn', layers: 4, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 },
};

export async function runQualityBench(options: { steps?: number; models?: string[]; testImages?: number } = {}): Promise<void> {
  const steps = options.steps ?? 500;
  const testImages = options.testImages ?? 1000;
  const names = (options.models ?? Object.keys(MODELS)) as ModelType[];
  const rows: { model: string; msPerStep: number; testNats: number; bitsPerDim: number; seconds: number }[] = [];
  for (const name of names) {
    if (!MODELS[name]) throw new Error(`unknown model '${name}'`);
    const text = JSON.stringify({
      name: `quality-${name}`,
      model: MODELS[name],
      data: { dataset: 'mnist', levels: 2, binarize: 'stochastic', testFraction: 0.1 },
      training: { steps, batchSize: 16, optimizer: 'adam', learningRate: 0.002, seed: 1 },
    });
    const experiment = parseExperiment(text, `quality-${name}.pixel.json`);
    const { set } = loadImages(experiment, 'quality.pixel.json', text);
    const batches = new Batches(set, splitImages(set.count, 0.1, 0), { levels: 2, binarize: 'stochastic', threshold: 0.5 }, 1);
    const model = createModel(modelConfigOf(experiment, imageShape(experiment, set)));
    const optimizer = createOptimizer('adam', 0.002);
    const started = performance.now();
    for (let s = 0; s < steps; s++) {
      const x = tf.tensor4d(batches.train(s, 16), [16, 28, 28, 1]);
      await trainStep(model, optimizer, x);
      x.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    const result = await evaluate(model, batches, testImages);
    const row = { model: name, msPerStep: Math.round((seconds * 1000) / steps), testNats: Math.round(result.nats * 100) / 100, bitsPerDim: Math.round(result.bitsPerDim * 1e4) / 1e4, seconds: Math.round(seconds) };
    rows.push(row);
    console.log(JSON.stringify({ bench: 'quality', steps, batch: 16, testImages: result.images, backend: tf.getBackend(), ...row }));
    model.dispose();
    optimizer.dispose();
  }
  console.log(`\n| model | ms/step | test NLL (nats/image) after ${steps} steps |\n| --- | ---: | ---: |`);
  for (const r of rows) console.log(`| ${r.model} | ${r.msPerStep} | ${r.testNats.toFixed(2)} |`);
}
