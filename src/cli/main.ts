/**
 * `pixel-lab`: the headless trainer.
 *   train <experiment> [--steps N] [--backend B] [--out DIR]    a new run
 *   resume <run>                                                continue from the latest checkpoint
 *   runs <experiment|folder> [--json]                           the runs, with "interrupted" for a dead trainer
 *   sample <run> [--count N] [--temperature T] [--out FILE.png] a sample grid from the best checkpoint
 *     [--class K|NAME] [--per-class N]                          by class (class-conditional runs)
 *   eval <run> [--map N [--out FILE.png]]                       test NLL of the best checkpoint; one test image's NLL map
 *   deps <experiment|run> --pixel i,j[,c] [--json]              structural and gradient dependency maps
 *   bench                                                       speed against the PyTorch reference
 * Exit code 0 only on success (a run stopped by Ctrl+C or SIGTERM is one: it can be resumed); errors are one line
 * on stderr (an experiment's problems, one line each), never a stack trace.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_ORDER, type BackendPreference } from '../backend/select';
import { ExperimentError } from '../experiment/experiment';
import { RunFolder } from '../runs/run-folder';
import { depsCommand, evalCommand, sampleCommand } from './inspect';
import { consoleReporter } from './progress';
import { runsCommand } from './runs';
import { bestSummary } from './summary';
import { resumeRun, type SessionResult, startRun } from './session';
import { stopOnSignals } from './signals';

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const nonNegativeInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be an integer ≥ 0`);
  return n;
};
const positiveNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const backendOption = () => new Option('--backend <backend>', 'where to train (default: the experiment\'s, normally auto)').choices(['auto', ...BACKEND_ORDER]);

function finish(result: SessionResult): void {
  const { run, status } = result;
  const files = [
    `run folder:  ${run.dir}`,
    `metrics:     ${path.join(run.dir, 'metrics.jsonl')}`,
    `checkpoints: ${run.checkpointPath('latest')}${existsSync(run.checkpointPath('best')) ? `, ${run.checkpointPath('best')}` : ''}`,
    ...(run.sampleFiles().length ? [`samples:     ${run.sampleFiles().slice(-1)[0]}`] : []),
  ];
  const best = bestSummary({ ...result.state, conditional: run.info.conditional });
  console.log(`${status} at step ${result.state.step}${best ? `; ${best}` : ''}`);
  files.forEach((f) => console.log(f));
  if (status === 'stopped') console.log(`continue with: pixel-lab resume ${run.dir}`);
  if (status === 'failed') throw new Error(result.error);
}

export function program(): Command {
  const cli = new Command('pixel-lab').description('Train and inspect PixelCNN, Row LSTM, Diagonal BiLSTM and Gated PixelCNN.').showHelpAfterError();
  cli
    .command('train')
    .description('train an experiment (a *.pixel.json file) in a new run folder')
    .argument('<experiment>', 'the experiment file')
    .option('--steps <n>', 'train for this many steps instead', positiveInt('--steps'))
    .addOption(backendOption())
    .option('--out <dir>', 'folder to create the run in (default: runs/<experiment name> beside the experiment)')
    .action(async (file: string, o: { steps?: number; backend?: BackendPreference; out?: string }) => {
      if (!existsSync(file)) throw new Error(`no such experiment file: ${file}`);
      const interrupts = stopOnSignals();
      finish(await startRun(file, o.out, o, consoleReporter(), interrupts.requested, interrupts.track));
    });
  cli
    .command('resume')
    .description('continue a run from its latest checkpoint')
    .argument('<run>', 'the run folder')
    .option('--steps <n>', 'train up to this many steps in all', positiveInt('--steps'))
    .addOption(backendOption())
    .action(async (dir: string, o: { steps?: number; backend?: BackendPreference }) => {
      const interrupts = stopOnSignals();
      finish(await resumeRun(dir, o, consoleReporter(), interrupts.requested, interrupts.track));
    });
  cli
    .command('runs')
    .description('list the runs of an experiment (or in a folder of runs): id, status, step, and the best checkpoint\'s step, validation NLL and test NLL')
    .argument('<target>', 'an experiment file, or a folder that holds run folders')
    .option('--json', 'print one JSON array')
    .action((target: string, o: { json?: boolean }) => runsCommand(target, o));
  cli
    .command('sample')
    .description('draw a grid of samples from a run\'s best checkpoint')
    .argument('<run>', 'the run folder')
    .option('--count <n>', 'images to draw (default: the experiment\'s)', positiveInt('--count'))
    .option('--temperature <t>', 'divide the logits by this (default: the experiment\'s)', positiveNumber('--temperature'))
    .option('--seed <n>', 'random seed', positiveInt('--seed'))
    .option('--out <file.png>', 'where to write the grid (default: in the run\'s samples folder)')
    .option('--class <k|name>', 'a class-conditional run: every image of this class, by index or by name')
    .option('--per-class <n>', 'a class-conditional run: n images of each class, one row per class', positiveInt('--per-class'))
    .addOption(backendOption())
    .action(async (dir: string, o) => sampleCommand(RunFolder.open(dir), o));
  cli
    .command('eval')
    .description('the validation and test NLL of a run\'s best checkpoint, in nats per image and bits/dim; with --map, one test image\'s NLL map')
    .argument('<run>', 'the run folder')
    .option('--map <index>', 'instead: test image INDEX (0-based, encoded as evaluation encodes it) beside the heat map of −log p(x_ij | x_<ij) at every pixel, as a PNG; prints its NLL', nonNegativeInt('--map'))
    .option('--out <file.png>', 'with --map: where to write the PNG (default: maps/nll-test-INDEX.png in the run folder)')
    .option('--json', 'print JSON')
    .addOption(backendOption())
    .action(async (dir: string, o) => evalCommand(RunFolder.open(dir), o));
  cli
    .command('export')
    .description('what a cluster needs to train with PyTorch: the experiment, the run\'s best weights as safetensors, the twin, the torchrun command')
    .argument('<target>', 'an experiment file, or a run folder (its experiment and best checkpoint)')
    .option('--out <dir>', 'the folder to write (default: pytorch/ in the run folder, or <name>-pytorch beside the experiment)')
    .action(async (target: string, o: { out?: string }) => {
      const { exportForPyTorch } = await import('./export');
      const done = exportForPyTorch(target, o.out);
      console.log(`exported to ${done.dir}`);
      console.log(`experiment:  ${done.experiment}`);
      if (done.weights) console.log(`weights:     ${done.weights}`);
      console.log(`train with:  cd ${done.dir} && ${done.command}`);
      console.log(`(see ${path.join(done.dir, 'TRAIN.md')} for several machines)`);
    });
  cli
    .command('deps')
    .description('which inputs one output depends on: the structural map (from the masks) and the gradient map (from the weights)')
    .argument('<target>', 'an experiment file (fresh weights) or a run folder (its best checkpoint)')
    .requiredOption('--pixel <i,j[,c]>', 'the output pixel (row, column) and channel (default 0)')
    .option('--json', 'print {"structural": …, "gradient": …} as H×W×C nested arrays')
    .addOption(backendOption())
    .action(async (target: string, o) => depsCommand(target, existsSync(target) && statSync(target).isDirectory(), o));
  cli
    .command('bench')
    .description('training and sampling speed on wasm, beside the PyTorch reference run back to back')
    .option('--models <list>', 'comma-separated models (default: all)')
    .option('--steps <n>', 'timed steps per model (≥ 10)', positiveInt('--steps'))
    .option('--no-torch', 'skip the PyTorch reference')
    .option('--no-sampling', 'skip the sampling benchmark')
    .option('--no-train', 'skip the training benchmark')
    .option('--no-hover', 'skip the hover benchmark (gradient maps of the shipped examples, before and after cropping)')
    .option('--quality', 'instead: train each model for the same steps (default 500) on Fashion-MNIST binarised at 0.5, report test NLL on the official test file beside ms/step')
    .option('--twin', 'with --quality: the PyTorch twin\'s column too, or fail (default: when a Python with torch is found)')
    .option('--no-twin', 'with --quality: no PyTorch twin column')
    .option('--test-images <n>', 'with --quality: score the first N official test images (default 10000)', positiveInt('--test-images'))
    .option('--data <dir>', 'with --quality: the folder of train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz (default /usr/share/datasets/fashion-mnist)')
    .option('--by-kernel', 'with --backend webgpu: each training step\'s dispatches by TF.js kernel too (counted on one more step)')
    .addOption(new Option('--backend <backend>', 'webgpu: GPU dispatches and submits per step and per sampled pixel (Dawn)').choices(['wasm', 'webgpu']))
    .action(async (o: { models?: string; steps?: number; torch: boolean; sampling: boolean; train: boolean; hover: boolean; quality?: boolean; backend?: string; byKernel?: boolean; twin?: boolean; testImages?: number; data?: string }) => {
      const { useWasmInNode, useWebGPUInNode } = await import('../backend/node');
      if (o.backend === 'webgpu' && !o.quality) {
        await useWebGPUInNode();
        const { runWebGPUBench } = await import('../bench/webgpu');
        return runWebGPUBench({ models: o.models?.split(','), steps: o.steps, sampling: o.sampling, byKernel: o.byKernel });
      }
      await useWasmInNode();
      if (o.quality) {
        const { runQualityBench } = await import('../bench/quality');
        await runQualityBench({ models: o.models?.split(','), steps: o.steps, twin: o.twin, testImages: o.testImages, dataDir: o.data });
      } else {
        const { runSpeedBench } = await import('../bench/speed');
        await runSpeedBench({ models: o.models?.split(','), steps: o.steps, torch: o.torch, sampling: o.sampling, train: o.train, hover: o.hover });
      }
    });
  return cli;
}

/** An error as the one line the CLI prints (an experiment's problems keep one line each). */
export function errorLines(error: unknown): string[] {
  if (error instanceof ExperimentError) return error.message.split('\n').filter((line) => line.trim());
  const message = error instanceof Error ? error.message : String(error);
  return [`pixel-lab: ${message.split('\n').find((line) => line.trim())?.trim() ?? 'failed with no message'}`];
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (error) {
    for (const line of errorLines(error)) process.stderr.write(`${line}\n`);
    return 1;
  }
}
