/** Experiment files: defaults, and every kind of mistake reported with its line, column and what was expected. */
import { describe, expect, it } from 'vitest';
import { ExperimentError, imageShape, modelConfigOf, parseExperiment } from '../../src/experiment/experiment';

function problems(text: string): { line: number; column: number; message: string; path: string }[] {
  try {
    parseExperiment(text, 'bad.pixel.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentError);
    return (error as ExperimentError).problems.map(({ line, column, message, path }) => ({ line, column, message, path }));
  }
  throw new Error('expected the experiment to be refused');
}

describe('parseExperiment', () => {
  it('fills every default and yields the model configuration', () => {
    const e = parseExperiment('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "mnist" } }', 'runs/mnist-pixelcnn.pixel.json');
    expect(e.name).toBe('mnist-pixelcnn');
    expect(e.model).toEqual({ type: 'pixelcnn', layers: 4, hidden: 16, firstKernel: 7, kernel: 3, residual: true, outputHidden: 32 });
    expect(e.training).toMatchObject({ steps: 1000, batchSize: 16, optimizer: 'adam', learningRate: 0.001, backend: 'auto' });
    expect(e.sampling).toEqual({ count: 16, temperature: 1 });
    expect(e.data).toMatchObject({ levels: 2, binarize: 'stochastic', testFraction: 0.1 });
    const config = modelConfigOf(e, imageShape(e));
    expect(config.image).toEqual({ height: 28, width: 28, channels: 1 });
    expect(config.head).toEqual({ kind: 'bernoulli' });
    const colour = parseExperiment('{ "model": { "type": "gated-pixelcnn", "hidden": 12, "outputHidden": 24 }, "data": { "dataset": "emoji", "levels": 8, "height": 16, "width": 16 } }', 'e.pixel.json');
    expect(modelConfigOf(colour, imageShape(colour))).toMatchObject({ image: { height: 16, width: 16, channels: 3 }, head: { kind: 'categorical', levels: 8 } });
  });

  it('points at JSON syntax errors', () => {
    expect(problems('{\n  "model": { "type": "pixelcnn" }\n  "data": {}\n}')).toEqual([
      { line: 3, column: 3, path: '', message: 'JSON syntax: a comma is expected between entries' },
    ]);
    expect(problems('')[0].message).toMatch(/empty/);
    expect(problems('{ // note\n "model": {} }')[0].message).toMatch(/comments are not allowed/);
  });

  it('names unknown keys, wrong types, out-of-range values and bad choices, each where it is', () => {
    const text = [
      '{',
      '  "model": { "type": "pixelcn", "hidden": "16", "layerz": 3 },',
      '  "data": { "dataset": "mnist", "levels": 1000 },',
      '  "training": { "learningRate": 0 }',
      '}',
    ].join('\n');
    expect(problems(text)).toEqual([
      { line: 2, column: 22, path: 'model.type', message: 'model.type must be one of "pixelcnn", "row-lstm", "diagonal-bilstm", "gated-pixelcnn"; got "pixelcn"' },
      { line: 2, column: 43, path: 'model.hidden', message: 'model.hidden must be an integer, got "16"' },
      { line: 2, column: 49, path: 'model.layerz', message: 'unknown key "layerz" in model; expected one of: type, layers, hidden, firstKernel, kernel, residual, outputHidden' },
      { line: 3, column: 43, path: 'data.levels', message: 'data.levels must be ≤ 256, got 1000' },
      { line: 4, column: 33, path: 'training.learningRate', message: 'training.learningRate must be > 0, got 0' },
    ]);
  });

  it('asks for what is missing: the dataset, and a path for idx and folder datasets', () => {
    expect(problems('{ "model": { "type": "row-lstm" } }')).toEqual([{ line: 1, column: 1, path: '', message: 'the experiment is missing "data"' }]);
    expect(problems('{ "model": { "type": "row-lstm" }, "data": { "dataset": "idx" } }')[0].message).toBe(
      'data is missing "path" (the file or folder to read, for idx and folder datasets)',
    );
  });

  it('checks the model against the images: RGB needs features in multiples of 3', () => {
    const found = problems('{ "model": { "type": "pixelcnn", "hidden": 16 },\n  "data": { "dataset": "emoji" } }');
    expect(found).toEqual([
      { line: 1, column: 44, path: 'model.hidden', message: 'model.hidden must be a multiple of 3 for RGB images (one group per colour), got 16' },
      // Not in the file (a default): the model object is pointed at.
      { line: 1, column: 12, path: 'model.outputHidden', message: 'model.outputHidden must be a multiple of 3 for RGB images (one group per colour), got 32' },
    ]);
  });
});
