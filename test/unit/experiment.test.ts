/** Experiment files: defaults, and every kind of mistake reported with its line, column and what was expected. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx';
import { TRAINING_MEMORY_LIMIT, trainingMemory } from '../../src/experiment/estimate';
import { ExperimentError, imageShape, modelConfigOf, parseExperiment } from '../../src/experiment/experiment';
import { configProblems } from '../../src/model/config';
import { RunFolder } from '../../src/runs/run-folder';

const ROOT = path.resolve(__dirname, '../..');

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
      { line: 2, column: 49, path: 'model.layerz', message: 'unknown key "layerz" in model; expected one of: type, layers, hidden, firstKernel, kernel, residual, outputHidden, conditional, classes' },
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
    const found = problems('{ "model": { "type": "pixelcnn", "hidden": 16, "outputHidden": 32 },\n  "data": { "dataset": "emoji" } }');
    expect(found).toEqual([
      { line: 1, column: 44, path: 'model.hidden', message: 'model.hidden must be a multiple of 3 for RGB images (one group per colour), got 16' },
      { line: 1, column: 64, path: 'model.outputHidden', message: 'model.outputHidden must be a multiple of 3 for RGB images (one group per colour), got 32' },
    ]);
  });
});

describe('defaults that follow the images', () => {
  it('gives colour images features in multiples of 3 (18 and 33) and grey ones 16 and 32', () => {
    const colour = parseExperiment('{"model": {"type": "pixelcnn"}, "data": {"dataset": "emoji"}}', 'c.pixel.json');
    expect(colour.model).toMatchObject({ hidden: 18, outputHidden: 33 });
    expect(configProblems(modelConfigOf(colour, imageShape(colour)))).toEqual([]);
    const grey = parseExperiment('{"model": {"type": "row-lstm"}, "data": {"dataset": "emoji", "channels": 1}}', 'g.pixel.json');
    expect(grey.model).toMatchObject({ hidden: 16, outputHidden: 32 });
    // What the file says is kept.
    expect(parseExperiment('{"model": {"type": "pixelcnn", "hidden": 24}, "data": {"dataset": "emoji"}}', 'k.pixel.json').model).toMatchObject({ hidden: 24, outputHidden: 33 });
  });
});

describe('IDX files: the header says how many channels', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-experiment-'));
  const rgb = encodeIdx([3, 4, 4, 3], new Uint8Array(3 * 4 * 4 * 3));
  writeFileSync(path.join(dir, 'rgb.idx'), rgb);
  writeFileSync(path.join(dir, 'rgb.idx.gz'), gzipSync(rgb));
  writeFileSync(path.join(dir, 'grey.idx'), encodeIdx([3, 4, 4], new Uint8Array(3 * 4 * 4)));
  writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  const file = path.join(dir, 'e.pixel.json');
  const text = (data: string) => `{\n  "model": { "type": "pixelcnn", "hidden": 8 },\n  "data": ${data}\n}`;

  it.each([['rgb.idx'], ['rgb.idx.gz']])('%s: "hidden": 8 on RGB images is refused at the hidden field', (name) => {
    try {
      parseExperiment(text(`{ "dataset": "idx", "path": "${name}" }`), file);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ExperimentError);
      expect((error as ExperimentError).problems.map(({ line, column, path: p }) => ({ line, column, path: p }))).toEqual([{ line: 2, column: 44, path: 'model.hidden' }]);
      expect((error as ExperimentError).message).toBe(`${file}:2:44: model.hidden must be a multiple of 3 for RGB images (one group per colour), got 8`);
    }
  });

  it('accepts the same model on grey images, or with the channels set to 1, and names a file that is no IDX file', () => {
    expect(parseExperiment(text('{ "dataset": "idx", "path": "grey.idx" }'), file).model.hidden).toBe(8);
    expect(parseExperiment(text('{ "dataset": "idx", "path": "rgb.idx", "channels": 1 }'), file).model.hidden).toBe(8);
    // Defaults follow the header too.
    expect(parseExperiment('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "idx", "path": "rgb.idx.gz" } }', file).model).toMatchObject({ hidden: 18, outputHidden: 33 });
    try {
      parseExperiment(text('{ "dataset": "idx", "path": "passwd" }'), file);
      throw new Error('accepted');
    } catch (error) {
      expect((error as ExperimentError).problems).toMatchObject([{ line: 3, column: 39, path: 'data.path' }]);
      expect((error as ExperimentError).problems[0].message).toMatch(/passwd is not an IDX file/);
    }
  });
});

describe('memory', () => {
  it('refuses the largest model the schema allows, with the estimate, at model.hidden', () => {
    const largest = '{\n  "model": { "type": "pixelcnn", "layers": 64, "hidden": 512, "kernel": 15 },\n  "data": { "dataset": "mnist", "height": 128, "width": 128 }\n}';
    const found = problems(largest);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 2, column: 58, path: 'model.hidden' });
    expect(found[0].message).toMatch(/^model\.hidden: this model needs about [\d,]+ GiB to train at batch 16 on 128×128 images \(limit 3 GiB\): lower hidden, layers, the image size or the batch$/);
    // Where hidden is not written, the model object is pointed at.
    expect(problems('{ "model": { "type": "diagonal-bilstm", "layers": 40 }, "data": { "dataset": "emoji", "height": 64, "width": 64 } }')[0]).toMatchObject({ column: 12, path: 'model.hidden' });
  });

  it.each(readdirSync(path.join(ROOT, 'examples')).map((f) => [f]))('the shipped %s fits', (name) => {
    const e = parseExperiment(readFileSync(path.join(ROOT, 'examples', name), 'utf8'), name);
    expect(trainingMemory(modelConfigOf(e, imageShape(e)), e.training.batchSize).bytes).toBeLessThan(TRAINING_MEMORY_LIMIT);
  });
});

describe('every problem at once, with its position', () => {
  it('lists schema problems and what the whole experiment shows together', () => {
    const text = [
      '{',
      '  "name": "../../elsewhere/x",',
      '  "model": { "type": "pixelcnn", "hidden": 16, "layerz": 1 },',
      '  "data": { "dataset": "emoji", "levels": 1000 }',
      '}',
    ].join('\n');
    expect(problems(text)).toEqual([
      { line: 2, column: 11, path: 'name', message: `name must be a plain folder name: letters, digits, '.', '-', '_' (starting with a letter or digit, at most 100 characters), got "../../elsewhere/x"` },
      { line: 3, column: 44, path: 'model.hidden', message: 'model.hidden must be a multiple of 3 for RGB images (one group per colour), got 16' },
      { line: 3, column: 48, path: 'model.layerz', message: 'unknown key "layerz" in model; expected one of: type, layers, hidden, firstKernel, kernel, residual, outputHidden, conditional, classes' },
      { line: 4, column: 43, path: 'data.levels', message: 'data.levels must be ≤ 256, got 1000' },
    ]);
  });

  it('accepts plain folder names only', () => {
    for (const name of ['mnist-run.2', 'A_b', '7']) expect(parseExperiment(`{"name": "${name}", "model": {"type": "pixelcnn"}, "data": {"dataset": "mnist"}}`, 'n.pixel.json').name).toBe(name);
    for (const name of ['', '.hidden', 'a/b', 'a\\\\b', '..', 'x'.repeat(101), 'naïve', 'a b']) {
      expect(problems(`{"name": "${name}", "model": {"type": "pixelcnn"}, "data": {"dataset": "mnist"}}`)).toMatchObject([{ line: 1, column: 10, path: 'name' }]);
    }
  });
});

describe('hardening', () => {
  const minimal = '{\n  "model": { "type": "pixelcnn" },\n  "data": { "dataset": "mnist" }\n}';

  it('accepts a UTF-8 byte order mark, and counts columns as editors do (without it)', () => {
    expect(parseExperiment(`\ufeff${minimal}`, 'bom.pixel.json').model.type).toBe('pixelcnn');
    expect(problems('\ufeff{ "model": { "type": "pixelcnn", "hidden": 0 }, "data": { "dataset": "mnist" } }')).toMatchObject([{ line: 1, column: 44, path: 'model.hidden' }]);
  });

  it('refuses JSON nested 100,000 deep cleanly, at the line and column where it gets too deep', () => {
    const deep = `{\n  "model": ${'['.repeat(100_000)}${']'.repeat(100_000)},\n  "data": { "dataset": "mnist" }\n}`;
    expect(problems(deep)).toEqual([{ line: 2, column: 43, path: '', message: 'JSON nested more than 32 levels deep here; an experiment is an object of objects' }]);
    expect(problems('['.repeat(100_000))[0]).toMatchObject({ line: 1, column: 33 });
    // Brackets inside strings do not count.
    expect(parseExperiment(`{"description": "${'[{'.repeat(1000)}", "model": {"type": "pixelcnn"}, "data": {"dataset": "mnist"}}`, 's.pixel.json').description).toHaveLength(2000);
  });
});

describe('one line per problem', () => {
  it('writes line breaks inside keys and paths as escapes (found by fuzzing); a device is no data file', () => {
    const found = problems('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "mnist" }, "train\\ng": 1 }');
    expect(found).toEqual([{ line: 1, column: 68, path: 'train\ng', message: 'unknown key "train\\ng" in the experiment; expected one of: $schema, name, description, model, data, training, sampling' }]);
    // (and a device is no data file: reading /dev/stdin would block)
    expect(problems('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "idx", "path": "/dev/stdin" } }')[0].message).toBe('data.path: no such file: /dev/stdin');
    const missing = problems('{ "model": { "type": "pixelcnn" }, "data": { "dataset": "idx", "path": "a\\nb.idx" } }');
    expect(missing[0].message).toMatch(/^data\.path: no such file: .*a\\nb\.idx$/);
  });
});

describe("a run folder's snapshot", () => {
  it('reads its data paths relative to the experiment it was copied from (resume, sample, eval, deps)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-snapshot-'));
    writeFileSync(path.join(dir, 'rgb.idx'), encodeIdx([3, 4, 4, 3], new Uint8Array(3 * 4 * 4 * 3)));
    const file = path.join(dir, 'e.pixel.json');
    const text = '{ "model": { "type": "pixelcnn" }, "data": { "dataset": "idx", "path": "rgb.idx" } }';
    writeFileSync(file, text);
    const run = RunFolder.create(path.join(dir, 'runs', 'e'), text, { experiment: 'e', experimentFile: file, steps: 1 });
    expect(parseExperiment(readFileSync(run.experimentFile, 'utf8'), run.experimentFile).model).toMatchObject({ hidden: 18, outputHidden: 33 });
  });
});
