/**
 * The last step of scripts/gpu-check.sh: WebGPU bench lines and PyTorch lines joined into one line per model,
 * with the ratio, and a software adapter or a CPU PyTorch flagged as not a GPU figure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const JOIN = path.join(__dirname, '..', '..', 'scripts', 'gpu-check-join.mjs');

function join(adapter: string, torchDevice: string): Record<string, unknown>[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpu-check-'));
  const webgpu = [
    { bench: 'environment', backend: 'webgpu', adapter },
    { bench: 'train', model: 'row-lstm', batch: 2, dispatches_per_step: 121, median_ms: 30 },
    { bench: 'train', model: 'gated-pixelcnn', batch: 2, dispatches_per_step: 395, median_ms: 50 },
  ];
  const torch = [{ train: 'rowlstm', torch: '2.5.0', batch: 2, device: torchDevice, median_ms: 20 }];
  writeFileSync(path.join(dir, 'w.jsonl'), webgpu.map((l) => JSON.stringify(l)).join('\n'));
  writeFileSync(path.join(dir, 't.jsonl'), torch.map((l) => JSON.stringify(l)).join('\n'));
  const out = execFileSync(process.execPath, [JOIN, path.join(dir, 'w.jsonl'), path.join(dir, 't.jsonl')], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => JSON.parse(l));
}

describe('gpu-check join', () => {
  it('prints both times and their ratio per model, on a GPU', () => {
    const [row, gated] = join('nvidia, ampere', 'NVIDIA H200');
    expect(row).toMatchObject({ model: 'row-lstm', webgpu_ms: 30, torch_ms: 20, ratio: 1.5, target_ratio: 2, torch_device: 'NVIDIA H200' });
    expect(row.not_a_gpu_figure).toBeUndefined();
    expect(gated).toMatchObject({ model: 'gated-pixelcnn', torch_ms: null, ratio: null, torch_skipped: 'no PyTorch reference for this model' });
  });

  it('says when a figure is not a GPU figure', () => {
    const [row] = join('SwiftShader driver 5.0.0, google, swiftshader', 'cpu');
    expect(row.not_a_gpu_figure).toMatch(/software adapter.*PyTorch ran on the CPU/);
  });
});
