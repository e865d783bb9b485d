/**
 * `pixel-lab export` (issue 13 §4): a run's experiment, its best weights as safetensors, the twin and the torchrun
 * command, in one folder that trains with nothing but PyTorch — tried for real: the folder is moved away from the
 * repository and the twin trains from it, starting from the exported weights, and writes a run Pixel Lab opens.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportForPyTorch } from '../../src/cli/export';
import { type Reporter, startRun } from '../../src/cli/session';
import { loadSafetensorsModel } from '../../src/model/safetensors';
import { RunFolder } from '../../src/runs/run-folder';
import { decodeCheckpoint, restoreModel } from '../../src/train/checkpoint';
import { useBackend } from '../support/engine';
import { TORCH } from './torch-support';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tiny-mnist.pixel.json');
const quiet: Reporter = { info: () => {}, warn: () => {}, step: () => {}, done: () => {} };

beforeAll(() => useBackend('wasm'));

describe('pixel-lab export', () => {
  it('writes the experiment, the best weights as safetensors (the same model), the twin and the command', async () => {
    const { run } = await startRun(FIXTURE, mkdtempSync(path.join(tmpdir(), 'pixel-lab-export-')), {}, quiet, () => false);
    const done = exportForPyTorch(run.dir);
    expect(done.dir).toBe(path.join(run.dir, 'pytorch'));
    expect(JSON.parse(readFileSync(done.experiment, 'utf8'))).toMatchObject({ name: 'tiny-mnist', model: { type: 'pixelcnn' } });
    expect(existsSync(path.join(done.dir, 'pixel_lab', 'train.py'))).toBe(true);
    expect(existsSync(path.join(done.dir, 'data', 'mnist-images.idx.gz'))).toBe(true);
    expect(done.command).toBe('torchrun --nproc_per_node=gpu -m pixel_lab.train tiny-mnist.pixel.json --out runs --weights model.safetensors');
    expect(readFileSync(path.join(done.dir, 'TRAIN.md'), 'utf8')).toContain('--rdzv_endpoint=HOST:29500');

    // The weights are the run's best model, value for value.
    const best = run.readBestCheckpoint()!;
    const fromCheckpoint = restoreModel(decodeCheckpoint(best.bytes));
    const fromExport = loadSafetensorsModel(new Uint8Array(readFileSync(done.weights!)));
    const x = tf.cast(tf.greater(tf.randomUniform([2, 12, 12, 1]), 0.5), 'float32') as tf.Tensor4D;
    const [a, b] = await Promise.all([fromCheckpoint.logits(x).data(), fromExport.logits(x).data()]);
    expect(Array.from(b)).toEqual(Array.from(a));
    for (const t of [x]) t.dispose();
    fromCheckpoint.dispose();
    fromExport.dispose();
  });

  it.skipIf(!TORCH.python)('trains with the twin from the exported folder alone, and the run opens in Pixel Lab', async () => {
    const { run } = await startRun(FIXTURE, mkdtempSync(path.join(tmpdir(), 'pixel-lab-export-')), {}, quiet, () => false);
    const away = path.join(mkdtempSync(path.join(tmpdir(), 'pixel-lab-cluster-')), 'job');
    cpSync(exportForPyTorch(run.dir).dir, away, { recursive: true });
    const r = spawnSync(TORCH.python!, ['-m', 'pixel_lab.train', 'tiny-mnist.pixel.json', '--out', 'runs', '--weights', 'model.safetensors', '--steps', '3'], {
      cwd: away,
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: away, OMP_NUM_THREADS: '1' },
      timeout: 240_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const folder = /run folder: (.+)/.exec(r.stdout)![1].trim();
    expect(RunFolder.open(folder).info).toMatchObject({ status: 'finished', step: 3, backend: 'pytorch' });
  });
});

describe.skipIf(!TORCH.python)('the twin on the minimal colour experiment', () => {
  it('takes the engine\'s colour defaults (18 and 33 features) and trains', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixel-lab-twin-colour-'));
    const file = path.join(dir, 'colour.pixel.json');
    writeFileSync(file, JSON.stringify({ model: { type: 'pixelcnn' }, data: { dataset: 'emoji', height: 8, width: 8, limit: 40 }, training: { steps: 2, batchSize: 4, evalImages: 4 }, sampling: { count: 4 } }));
    const r = spawnSync(TORCH.python!, ['-m', 'pixel_lab.train', file], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(__dirname, '..', '..', 'python'), OMP_NUM_THREADS: '1' }, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const folder = /run folder: (.+)/.exec(r.stdout)![1].trim();
    const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(path.join(folder, 'checkpoints', 'latest.ckpt'))));
    expect(ckpt.model.config).toMatchObject({ hidden: 18, outputHidden: 33, image: { channels: 3 } });
  });
});
