/** Running the PyTorch twin (python/pixel_lab) from the tests: which python has torch, and how to call it. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const PYTHON_ROOT = path.resolve(__dirname, '../../python');

/** The first of $PIXEL_LAB_PYTHON, python3, /usr/bin/python3 that imports torch; null (and why) when none does. */
function findTorchPython(): { python: string | null; why: string } {
  const candidates = [process.env.PIXEL_LAB_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return { python, why: '' };
  }
  return { python: null, why: `no Python with torch and numpy (tried ${candidates.join(', ')}): apt-get install -y python3-torch` };
}

export const TORCH = findTorchPython();
if (!TORCH.python) console.warn(`skipping the PyTorch twin's tests: ${TORCH.why}`);

/** Run `python3 -m pixel_lab.<module> …args` with the twin on the path; throws with its stderr when it fails. */
export function runTwin(module: string, args: string[], options: { env?: Record<string, string>; timeout?: number } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(TORCH.python!, ['-m', `pixel_lab.${module}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: PYTHON_ROOT, OMP_NUM_THREADS: '1', ...options.env },
    timeout: options.timeout ?? 240_000,
  });
  if (r.status !== 0) throw new Error(`pixel_lab.${module} exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  return r;
}

/** Run a Python snippet with the twin importable; returns its stdout. */
export function runPython(code: string): string {
  const r = spawnSync(TORCH.python!, ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_ROOT, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`python exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  return r.stdout;
}
