/** A tiny experiment file in a fresh folder (8×8 MNIST, one PixelCNN block): for tests that start real trainers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function tinyExperimentFile(name: string, steps: number, training: { checkpointEvery?: number; backend?: string } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), `pixel-lab-${name}-`));
  const file = path.join(dir, `${name}.pixel.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      model: { type: 'pixelcnn', layers: 1, hidden: 4, firstKernel: 3, kernel: 3, outputHidden: 4 },
      data: { dataset: 'mnist', limit: 100, height: 8, width: 8 },
      training: { steps, batchSize: 4, evalEvery: 10, evalImages: 8, sampleEvery: 10, checkpointEvery: training.checkpointEvery ?? 10, backend: training.backend ?? 'wasm' },
      sampling: { count: 4 },
    }),
  );
  return file;
}
