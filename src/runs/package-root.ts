import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The folder of Pixel Lab's package.json, found upwards from this module (bundled in dist/ or run from src/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'pixel-lab') return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the pixel-lab package folder');
    dir = parent;
  }
}
