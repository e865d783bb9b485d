/**
 * `pixel-lab`: the headless trainer.
 *   train <experiment> [--steps N] [--backend B] [--out DIR]    a new run
 *   resume <run>                                                continue from the latest checkpoint
 *   sample <run> [--count N] [--temperature T] [--out FILE.png] a sample grid from the best checkpoint
 *   eval <run>                                                  test NLL of the best checkpoint
 *   deps <experiment|run> --pixel i,j[,c] [--json]              structural and gradient dependency maps
 *   bench                                                       speed against the PyTorch reference
 * Exit code 0 only on success; errors are one line on stderr (an experiment's problems, one line each).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_ORDER, type BackendPreference } from '../backend/select';
import { ExperimentError } from '../experiment/experiment';
import { RunFolder } from '../runs/run-folder';
import { depsCommand, evalCommand, sampleCommand } from './inspect';
import { consoleReporter } from './progress';
import { resumeRun, type SessionResult, startRun } from './session';

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const positiveNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const backendOption = () => new Option('--backend <backend>', 'where to train (default: the experiment\'s, normally auto)').choices(['auto', ...BACKEND_ORDER]);

/** Ctrl+C stops after the current step, with a checkpoint; a second Ctrl+C quits at once. */
function stopOnInterrupt(): () => boolean {
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nstopping after this step (Ctrl+C again to quit now)…\n');
  });
  return () => stopping;
}

function finish(result: SessionResult): void {
  const { run, status } = result;
  const files = [
    `run folder:  ${run.dir}`,
    `metrics:     ${path.join(run.dir, 'metrics.jsonl')}`,
    `checkpoints: ${run.checkpointPath('latest')}${existsSync(run.checkpointPath('best')) ? `, ${run.checkpointPath('best')}` : ''}`,
    ...(run.sampleFiles().length ? [`samples:     ${run.sampleFiles().slice(-1)[0]}`] : []),
  ];
  console.log(`${status === 'finished' ? 'finished' : status} at step ${result.state.step}${result.state.bestTestNats !== null ? `; best test NLL ${result.state.bestTestNats.toFixed(2)} nats/image at step ${result.state.bestStep}` : ''}`);
  files.forEach((f) => console.log(f));
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
      finish(await startRun(file, o.out, o, consoleReporter(), stopOnInterrupt()));
    });
  cli
    .command('resume')
    .description('continue a run from its latest checkpoint')
    .argument('<run>', 'the run folder')
    .option('--steps <n>', 'train up to this many steps in all', positiveInt('--steps'))
    .addOption(backendOption())
    .action(async (dir: string, o: { steps?: number; backend?: BackendPreference }) => {
      finish(await resumeRun(dir, o, consoleReporter(), stopOnInterrupt()));
    });
  cli
    .command('sample')
    .description('draw a grid of samples from a run\'s best checkpoint')
    .argument('<run>', 'the run folder')
    .option('--count <n>', 'images to draw (default: the experiment\'s)', positiveInt('--count'))
    .option('--temperature <t>', 'divide the logits by this (default: the experiment\'s)', positiveNumber('--temperature'))
    .option('--seed <n>', 'random seed', positiveInt('--seed'))
    .option('--out <file.png>', 'where to write the grid (default: in the run\'s samples folder)')
    .addOption(backendOption())
    .action(async (dir: string, o) => sampleCommand(RunFolder.open(dir), o));
  cli
    .command('eval')
    .description('the test NLL of a run\'s best checkpoint, in nats per image and bits/dim')
    .argument('<run>', 'the run folder')
    .option('--json', 'print JSON')
    .addOption(backendOption())
    .action(async (dir: string, o) => evalCommand(RunFolder.open(dir), o));
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
    .option('--quality', 'instead: train each model for the same steps on binarised MNIST, report test NLL beside ms/step')
    .addOption(new Option('--backend <backend>', 'webgpu: GPU dispatches and submits per step and per sampled pixel (Dawn)').choices(['wasm', 'webgpu']))
    .action(async (o: { models?: string; steps?: number; torch: boolean; sampling: boolean; quality?: boolean; backend?: string }) => {
      const { useWasmInNode, useWebGPUInNode } = await import('../backend/node');
      if (o.backend === 'webgpu' && !o.quality) {
        await useWebGPUInNode();
        const { runWebGPUBench } = await import('../bench/webgpu');
        return runWebGPUBench({ models: o.models?.split(','), steps: o.steps, sampling: o.sampling });
      }
      await useWasmInNode();
      if (o.quality) {
        const { runQualityBench } = await import('../bench/quality');
        await runQualityBench({ models: o.models?.split(','), steps: o.steps });
      } else {
        const { runSpeedBench } = await import('../bench/speed');
        await runSpeedBench({ models: o.models?.split(','), steps: o.steps, torch: o.torch, sampling: o.sampling });
      }
    });
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof ExperimentError) {
      for (const line of error.message.split('\n')) process.stderr.write(`${line}\n`);
    } else {
      process.stderr.write(`pixel-lab: ${(error as Error).message.split('\n')[0]}\n`);
    }
    return 1;
  }
}
