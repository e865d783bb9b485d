// Builds the bundles with esbuild:
//   dist/extension.js  the VS Code extension host (CommonJS, `vscode` external, no TF.js)
//   dist/cli.cjs       `pixel-lab`, the headless trainer (Node), also behind `npm run bench`
// and copies the experiment schema beside them; the bundled datasets are converted by build-data.mjs.
// The Node bundles take TF.js's ES modules (mainFields module first) so that one copy of tfjs-core — and one
// kernel and gradient registry — serves every backend.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
  // `import.meta.url` is only read where `require` is missing (ES modules); CommonJS bundles have `require`.
  logOverride: { 'empty-import-meta': 'silent' },
};

await Promise.all([
  build({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: true }),
  build({ ...node, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.cjs' }),
]);
mkdirSync('dist', { recursive: true });
copyFileSync('src/experiment/pixel-experiment.schema.json', 'dist/pixel-experiment.schema.json');
await import('./build-data.mjs');
