/**
 * `pixel-lab export`: what a cluster needs to train an experiment (or continue a run) with the PyTorch twin — the
 * experiment, the run's best weights as safetensors, the twin itself, and the exact torchrun commands — in one
 * folder to copy there. Reads and writes files only: no model is built.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseExperiment } from '../experiment/experiment';
import { savedModelToSafetensors } from '../model/safetensors';
import { packageRoot } from '../runs/package-root';
import { RunFolder } from '../runs/run-folder';
import { decodeCheckpoint } from '../train/checkpoint';

export interface Exported {
  readonly dir: string;
  readonly experiment: string;
  readonly weights: string | null;
  /** The command that trains it on one machine with every GPU (torchrun). */
  readonly command: string;
}

/** Export an experiment file or a run folder (its experiment and best checkpoint) into `out`. */
export function exportForPyTorch(target: string, out?: string): Exported {
  const isRun = existsSync(path.join(target, 'run.json'));
  const run = isRun ? RunFolder.open(target) : null;
  const source = run ? run.experimentFile : path.resolve(target);
  if (!existsSync(source) || statSync(source).isDirectory()) throw new Error(`no such experiment file or run folder: ${target}`);
  const text = readFileSync(source, 'utf8');
  const experiment = parseExperiment(text, run ? run.info.experimentFile : source);
  const dir = path.resolve(out ?? (run ? path.join(run.dir, 'pytorch') : path.join(path.dirname(source), `${experiment.name}-pytorch`)));
  mkdirSync(dir, { recursive: true });

  // The experiment, its data paths made absolute (they were relative to where it lived): copy the data along.
  const base = path.dirname(run ? run.info.experimentFile : source);
  const files = (['path', 'labels', 'test', 'testLabels'] as const).filter((key) => experiment.data[key]);
  const data = files.length ? { ...JSON.parse(text).data, ...Object.fromEntries(files.map((key) => [key, path.resolve(base, experiment.data[key]!)])) } : undefined;
  const file = path.join(dir, `${experiment.name}.pixel.json`);
  writeFileSync(file, `${JSON.stringify({ ...JSON.parse(text), ...(data ? { data } : {}), $schema: undefined }, null, 2)}\n`);

  const best = run?.readBestCheckpoint() ?? null;
  const weights = best ? path.join(dir, 'model.safetensors') : null;
  if (best && weights) writeFileSync(weights, savedModelToSafetensors(decodeCheckpoint(best.bytes, run!.checkpointPath(best.kind)).model));

  // The twin, so the cluster needs only PyTorch (and numpy); and a bundled data set, which the twin finds in data/.
  cpSync(path.join(packageRoot(), 'python', 'pixel_lab'), path.join(dir, 'pixel_lab'), { recursive: true, filter: (f) => !f.includes('__pycache__') });
  cpSync(path.join(packageRoot(), 'src', 'experiment', 'pixel-experiment.schema.json'), path.join(dir, 'pixel_lab', 'pixel-experiment.schema.json'));
  if (experiment.data.dataset !== 'idx' && experiment.data.dataset !== 'folder') {
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    for (const kind of ['images', 'labels']) {
      const bundled = path.join(packageRoot(), 'dist', 'data', `${experiment.data.dataset}-${kind}.idx.gz`);
      if (kind === 'images' || existsSync(bundled)) cpSync(bundled, path.join(dir, 'data', path.basename(bundled)));
    }
  }

  const from = weights ? ` --weights ${path.basename(weights)}` : '';
  const command = `torchrun --nproc_per_node=gpu -m pixel_lab.train ${path.basename(file)} --out runs${from}`;
  writeFileSync(path.join(dir, 'TRAIN.md'), trainMd(experiment.name, path.basename(file), from, command, Boolean(data)));
  return { dir, experiment: file, weights, command };
}

function trainMd(name: string, file: string, from: string, command: string, dataAlong: boolean): string {
  return `# ${name}, for PyTorch

Exported by Pixel Lab. This folder holds the experiment (\`${file}\`)${from ? ', the run\'s best weights (`model.safetensors`)' : ''} and the
PyTorch twin (\`pixel_lab/\`: the same models, masks and parameter names as Pixel Lab's engine). It needs Python 3
with PyTorch (1.13 or newer) and numpy; nothing else.${dataAlong ? '\n\nThe experiment reads its data from absolute paths (`data.path`, and `data.labels`, `data.test`, `data.testLabels` where it has them): copy the files or folder along and fix the paths.' : ''}

On one machine, every GPU (DistributedDataParallel; gloo on CPU, nccl on CUDA; the global batch is split across
the processes):

    cd ${'<this folder>'}
    ${command}

On several machines (run on each; the first one's address as the endpoint):

    torchrun --nnodes=2 --nproc_per_node=gpu --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 --rdzv_id=${name} \\
      -m pixel_lab.train ${file} --out runs${from}

Add \`--amp\` for bfloat16 autocast on CUDA. Stop with Ctrl+C (after the step, saved); continue with
\`--resume runs/<run folder>\` on any number of processes. With Debian's torch 1.13 on Python 3.11, torchrun needs
\`--redirects 1 --tee 1\` to start.

The run folder it writes is Pixel Lab's own (run.json, metrics.jsonl, samples/, checkpoints/ as .ckpt and
.safetensors): copy it beside the experiment in your workspace and it opens in Pixel Lab — curves, samples and the
dependency masks on hover; *Resume Run* continues it there.
`;
}
