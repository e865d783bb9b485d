/**
 * The PyTorch twin (python/pixel_lab) as the benches use it: which Python has torch, and training an experiment
 * with `python3 -m pixel_lab.train` into a Pixel Lab run folder (its TS-format checkpoint opens in this engine).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../runs/package-root';

export interface TorchPython {
  readonly python: string | null;
  /** Why none was found, in words ('' when one was). */
  readonly why: string;
}

/** The first of $PIXEL_LAB_PYTHON, python3, /usr/bin/python3 that imports torch and numpy. */
export function findTorchPython(): TorchPython {
  const candidates = [process.env.PIXEL_LAB_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return { python, why: '' };
  }
  return { python: null, why: `no Python with torch and numpy (tried ${candidates.join(', ')}): apt-get install -y python3-torch, or set PIXEL_LAB_PYTHON` };
}

export function twinRoot(): string {
  return path.join(packageRoot(), 'python');
}

export interface TwinRun {
  /** The run folder the twin wrote. */
  readonly dir: string;
  /** Its final model in the TS engine's checkpoint format. */
  readonly checkpoint: string;
  /** Training time per step as the twin measured it (steps only: no evaluation, sampling or saving). */
  readonly msPerStep: number;
  readonly adapter: string;
}

/**
 * Train `experimentFile` with the twin for `steps` steps into a run folder under `outDir`. One thread
 * (OMP_NUM_THREADS=1) unless the caller's environment sets OMP_NUM_THREADS. Fails with the twin's last words.
 */
export async function trainWithTwin(python: string, experimentFile: string, outDir: string, steps: number): Promise<TwinRun> {
  const env = { ...process.env, PYTHONPATH: twinRoot(), OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' };
  const child = spawn(python, ['-m', 'pixel_lab.train', experimentFile, '--out', outDir, '--steps', String(steps)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? signal ?? 'unknown'));
  });
  const tail = (s: string) => s.trim().split('\n').slice(-8).join('\n');
  if (code !== 0) throw new Error(`the PyTorch twin (${python} -m pixel_lab.train) exited with ${code}:\n${tail(stderr) || tail(stdout)}`);
  const dir = /^run folder: (.+)$/m.exec(stdout)?.[1]?.trim();
  if (!dir || !existsSync(dir)) throw new Error(`the PyTorch twin did not say which run folder it wrote:\n${tail(stdout)}`);
  const checkpoint = path.join(dir, 'checkpoints', 'latest.ckpt');
  if (!existsSync(checkpoint)) throw new Error(`the PyTorch twin's run ${dir} has no checkpoints/latest.ckpt`);
  const trainRows = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { step: number; split: string; seconds: number })
    .filter((row) => row.split === 'train');
  const last = trainRows[trainRows.length - 1];
  if (!last || last.step !== steps) throw new Error(`the PyTorch twin's run ${dir} ended at step ${last?.step ?? 0}, not ${steps}`);
  const adapter = /^backend: (.+)$/m.exec(stdout)?.[1]?.trim() ?? 'PyTorch';
  return { dir, checkpoint, msPerStep: (last.seconds * 1000) / steps, adapter };
}
