// The last step of scripts/gpu-check.sh: one JSON line per model from the WebGPU bench's lines and PyTorch's.
//   node gpu-check-join.mjs webgpu.jsonl torch.jsonl
import { readFileSync } from 'node:fs';

const lines = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
const [webgpuFile, torchFile] = process.argv.slice(2);
const webgpu = lines(webgpuFile);
const torch = lines(torchFile);
const TORCH_NAME = { pixelcnn: 'pixelcnn', 'row-lstm': 'rowlstm', 'diagonal-bilstm': 'diagbilstm' };
const environment = webgpu.find((l) => l.bench === 'environment') ?? {};
const software = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i.test(environment.adapter ?? '');

for (const w of webgpu.filter((l) => l.bench === 'train')) {
  const t = torch.find((l) => l.train === TORCH_NAME[w.model]);
  const notGpu = [];
  if (software) notGpu.push(`WebGPU ran on a software adapter (${environment.adapter})`);
  if (t && t.device === 'cpu') notGpu.push('PyTorch ran on the CPU (no CUDA)');
  console.log(
    JSON.stringify({
      check: 'gpu',
      model: w.model,
      batch: w.batch,
      webgpu_ms: w.median_ms,
      torch_ms: t ? t.median_ms : null,
      ratio: t && w.median_ms ? Math.round((w.median_ms / t.median_ms) * 100) / 100 : null,
      target_ratio: 2,
      dispatches_per_step: w.dispatches_per_step,
      adapter: environment.adapter,
      torch_device: t ? t.device : null,
      torch_version: t ? t.torch : null,
      ...(t ? {} : { torch_skipped: TORCH_NAME[w.model] ? 'no PyTorch line (see the error above)' : 'no PyTorch reference for this model' }),
      ...(notGpu.length ? { not_a_gpu_figure: notGpu.join('; ') } : {}),
    }),
  );
}
if (!webgpu.some((l) => l.bench === 'train')) {
  console.log(JSON.stringify({ check: 'gpu', error: 'the WebGPU bench printed no training line' }));
  process.exitCode = 1;
}
