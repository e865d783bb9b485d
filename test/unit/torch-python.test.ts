/** The twin's own unit tests (python/tests: masks, skew, safetensors, causality by autograd, the data generator,
 *  PNG), run with Python's unittest so that `npm test` covers them. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON_ROOT, TORCH } from './torch-support';

describe.skipIf(!TORCH.python)('the twin’s Python unit tests', () => {
  it('pass', () => {
    const r = spawnSync(TORCH.python!, ['-m', 'unittest', 'discover', '-s', path.join(PYTHON_ROOT, 'tests')], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      timeout: 120_000,
    });
    expect(r.stderr).toMatch(/\nOK\s*$/);
    expect(r.status).toBe(0);
  });
});
