"""Training an experiment with PyTorch, on one device or many (DistributedDataParallel), into a Pixel Lab run
folder that the extension and the `pixel-lab` CLI open as their own.

  PYTHONPATH=python torchrun --nproc_per_node=N -m pixel_lab.train EXPERIMENT.pixel.json [--out DIR] [--steps S]
  PYTHONPATH=python torchrun --nproc_per_node=N -m pixel_lab.train --resume RUN [--steps S]
  (multi-node: torchrun's --nnodes / --rdzv_* flags; one process: python3 -m pixel_lab.train …)

The global batch (training.batchSize) is split evenly across the ranks: rank r takes images r·B/N … (r+1)·B/N − 1
of the batch the TS trainer would take at that step, and DDP averages the gradients, so N ranks take the steps
one rank would take on the whole batch. Backend: nccl on GPUs, gloo on CPUs. Rank 0 evaluates, samples and
writes the run folder (metrics.jsonl with the TS trainer's fields, samples/step-NNNNNN.png, checkpoints as
safetensors and as the TS engine's .ckpt). SIGINT / SIGTERM stop every rank after the current step, saved.
"""
import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time

import torch
import torch.distributed as dist

from . import create_model
from .checkpoint import load_checkpoint, save_checkpoint
from .data import Batches, load_dataset, split_of
from .experiment import conditional_classes, model_config_of, read_experiment
from .heads import nats_to_bits_per_dim
from .optim import create_optimizer
from .png import encode_png, grid_pixels
from .run_folder import HEARTBEAT_SECONDS, RunFolder, now_iso, owner
from .safetensors_io import load_weights, read_file
from .sampling import sample


def parse_args(argv):
    p = argparse.ArgumentParser(prog='pixel_lab.train', description=__doc__.split('\n\n')[0])
    p.add_argument('experiment', nargs='?', help='the *.pixel.json experiment (omit with --resume)')
    p.add_argument('--out', help='folder the run folder is created in (default: runs/<name>/ beside the experiment)')
    p.add_argument('--resume', metavar='RUN', help='continue a run folder from its latest checkpoint')
    p.add_argument('--steps', type=int, help='train to this many steps instead of training.steps')
    p.add_argument('--weights', metavar='FILE', help='start from these weights (a Pixel Lab model as safetensors, e.g. exported from a run)')
    p.add_argument('--amp', action='store_true', help='bfloat16 autocast on CUDA')
    args = p.parse_args(argv)
    if bool(args.experiment) == bool(args.resume):
        p.error('give an experiment file, or --resume RUN')
    return args


class Distributed:
    """Rank, world size and device; a process group when launched by torchrun with more than one process."""

    def __init__(self):
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        local = int(os.environ.get('LOCAL_RANK', '0'))
        self.device = torch.device(f'cuda:{local}' if torch.cuda.is_available() else 'cpu')
        if self.device.type == 'cuda':
            torch.cuda.set_device(self.device)
        self.backend = 'nccl' if self.device.type == 'cuda' else 'gloo'
        if self.world > 1:
            dist.init_process_group(self.backend)

    def agree(self, loss: float, stop: bool) -> tuple:
        """The batch's mean loss over the ranks, and whether any rank was asked to stop: one all-reduce."""
        if self.world == 1:
            return loss, stop
        t = torch.tensor([loss, 1.0 if stop else 0.0], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t[0].item() / self.world, t[1].item() > 0

    def describe(self) -> str:
        if self.device.type == 'cuda':
            what = torch.cuda.get_device_name(self.device)
        else:
            what = f'CPU, {torch.get_num_threads()} thread(s) each'
        return f'PyTorch {torch.__version__}, {self.world} × {what} ({self.backend if self.world > 1 else "one process"})'


def start_from_weights(model, file: str) -> None:
    """Load a model's weights (a model file or a checkpoint, as safetensors); its architecture must be this one."""
    tensors, metadata = read_file(file)
    theirs = json.loads(metadata.get('config', 'null')) or {}
    differ = sorted(k for k in set(theirs) | set(model.config) if k != 'seed' and theirs.get(k) != model.config.get(k))
    if differ:
        raise ValueError(f'{file} holds a model of another architecture (it differs in {", ".join(differ)})')
    load_weights(model, {k: v for k, v in tensors.items() if not k.startswith('optimizer/')})


@torch.no_grad()
def evaluate(model, batches: Batches, images: int, device, batch_size: int = 64, split: str = 'test') -> dict:
    """Mean NLL over the first `images` images of the test (or validation) set (nats per image and bits/dim), as the
    TS trainer measures it; a class-conditional model's is the conditional NLL, each image with its own label."""
    total = min(images, len(batches.validation_indices if split == 'validation' else batches.test_indices))
    if total == 0:
        raise ValueError(f'there are no {split} images to evaluate on')
    nats = 0.0
    for start in range(0, total, batch_size):
        size = min(batch_size, total - start)
        x = torch.from_numpy(batches.held_out(split, start, size)).to(device)
        classes = torch.from_numpy(batches.held_out_labels(split, start, size)).to(device) if model.classes else None
        nats += model.nll_nats(x, classes=classes).double().sum().item()
    nats /= total
    return {'nats': nats, 'bitsPerDim': nats_to_bits_per_dim(nats, model.dims), 'images': total, **({'conditional': True} if model.classes else {})}


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    d = Distributed()
    run = None
    try:
        if args.resume:
            run = RunFolder.open(args.resume)
            experiment, text = read_experiment(run.experiment_file)
            experiment_file = run.info['experimentFile']
        else:
            experiment, text = read_experiment(args.experiment)
            experiment_file = os.path.abspath(args.experiment)
        training = experiment['training']
        steps = args.steps or training['steps']
        batch = training['batchSize']
        if batch % d.world:
            raise ValueError(f'training.batchSize {batch} does not split evenly over {d.world} ranks')
        share = slice(d.rank * batch // d.world, (d.rank + 1) * batch // d.world)
        dataset = load_dataset(experiment, experiment_file)
        images = dataset.images
        batches = Batches(dataset, experiment)
        data = experiment['data']
        source = f"the {data['dataset']} data at {data.get('path')}" if data['dataset'] in ('idx', 'folder') else f"the {data['dataset']} images"
        classes = conditional_classes(experiment, dataset.labels, dataset.class_names, source)
        model = create_model(model_config_of(experiment, images.shape[1:], classes)).to(d.device)
        optimizer = create_optimizer(training['optimizer'], model.parameters(), training['learningRate'])
        state = {'step': 0, 'bestTestNats': None, 'bestStep': None, 'bestValidationNats': None}
        if args.weights:
            start_from_weights(model, args.weights)
        if run:
            # The newer of the twin's checkpoint and the TS engine's (the panel or the CLI may have trained on).
            found = [f for f in (os.path.join(run.checkpoints, n) for n in ('latest.safetensors', 'latest.ckpt')) if os.path.isfile(f)]
            if not found:
                raise ValueError(f'{run.dir} has no checkpoint to resume from (checkpoints/latest.safetensors or latest.ckpt)')
            state = load_checkpoint(max(found, key=os.path.getmtime), model, optimizer)
        if d.rank == 0:
            which = 'the official test set' if split_of(experiment) == 'official' else f"a random split, seed {experiment['data']['seed']}"
            print(f'data: {len(images)} images; {len(batches.train_indices)} for training, {len(batches.validation_indices)} for validation, '
                  f"{len(batches.test_indices)} for testing ({which}){f'; conditional on {classes} classes' if classes else ''}", flush=True)
            print(f'backend: {d.describe()}', flush=True)
            if run:
                run.truncate_metrics(state['step'])
                info = run.info
                run.update(status='running', error=None, endedAt=None, step=state['step'], steps=steps, backend='pytorch',
                           adapter=d.describe(), resumedAt=[*info.get('resumedAt', []), state['step']], owner=owner())
                print(f"resuming {run.dir} at step {state['step']} of {steps}", flush=True)
            else:
                parent = args.out or os.path.join(os.path.dirname(experiment_file), 'runs', experiment['name'])
                # A conditional model's run.json fields, as src/runs/run-folder.ts conditionalInfo writes them.
                conditional = {'conditional': True, 'classes': classes, **({'classNames': list(dataset.class_names)} if dataset.class_names else {})} if classes else {}
                run = RunFolder.create(parent, text, {'experiment': experiment['name'], 'experimentFile': experiment_file,
                                                      'steps': steps, 'backend': 'pytorch', 'adapter': d.describe(), **conditional})
                print(f'run folder: {run.dir}', flush=True)
        outcome = train_loop(d, model, optimizer, batches, experiment, steps, share, state, run if d.rank == 0 else None, args.amp)
        if d.rank == 0:
            run.update(status=outcome, step=state['step'], endedAt=now_iso(), owner=None)
        return 0
    except Exception as error:
        if d.rank == 0 and run is not None:
            run.update(status='failed', error=f'training failed: {error}', endedAt=now_iso(), owner=None)
        print(f'error: {error}', file=sys.stderr, flush=True)
        return 1
    finally:
        if d.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def train_loop(d: Distributed, model, optimizer, batches: Batches, experiment: dict, steps: int, share: slice, state: dict,
               run, amp: bool) -> str:
    """Steps from state['step'] + 1 to `steps`, updating `state`; 'finished' or 'stopped'. `run` only on rank 0."""
    training, sampling = experiment['training'], experiment['sampling']
    batch, dims = training['batchSize'], model.dims
    ddp_devices = [d.device.index] if d.device.type == 'cuda' else None
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ddp_devices) if d.world > 1 else model
    stop = {'asked': False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.update(asked=True))
    amp = amp and d.device.type == 'cuda'
    autocast = torch.autocast('cuda', dtype=torch.bfloat16) if amp else contextlib.nullcontext()
    seconds = 0.0
    levels = model.head.levels
    # A class-conditional model: its NLL is −log p(x | class), so flagged in metrics.jsonl and named in words.
    flag = {'conditional': True} if model.classes else {}
    nll = 'conditional NLL' if model.classes else 'NLL'
    beat = time.monotonic()
    for step in range(state['step'] + 1, steps + 1):
        began = time.perf_counter()
        x = torch.from_numpy(batches.train(step - 1, batch, share)).to(d.device)
        classes = torch.from_numpy(batches.train_labels(step - 1, batch, share)).to(d.device) if model.classes else None
        with autocast:
            logits = net(x, classes)
        # Mean NLL per dimension: the quantity the TS trainer minimises. DDP averages the ranks' gradients.
        loss = -model.head.log_probs(logits.float(), x).sum((1, 2, 3)).mean() / dims
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value, asked = d.agree(loss.item(), stop['asked'])
        if not math.isfinite(value):
            raise ValueError(f'the training loss became {value} at step {step}: training diverged (try a lower learning rate); the last good checkpoint is kept')
        if d.device.type == 'cuda':
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - began
        seconds += elapsed
        state['step'] = step
        last = step == steps
        stopping = not last and asked
        if run is None:
            if stopping:
                return 'stopped'
            continue
        if time.monotonic() - beat > HEARTBEAT_SECONDS:
            run.heartbeat()
            beat = time.monotonic()
        nats = value * dims
        run.append_metrics({'step': step, 'split': 'train', **flag, 'nats': nats, 'bitsPerDim': nats_to_bits_per_dim(nats, dims),
                            'imagesPerSecond': batch / elapsed, 'seconds': seconds})
        print(f'step {step}/{steps}: {nats:.2f} nats/image, {batch / elapsed:.1f} images/s', flush=True)
        model.eval()
        improved = False
        if step % training['evalEvery'] == 0 or last:
            # The validation set chooses the best checkpoint; the test set is only reported (as src/train/loop.ts).
            validation = evaluate(model, batches, training['evalImages'], d.device, split='validation') if len(batches.validation_indices) else None
            result = evaluate(model, batches, training['evalImages'], d.device, split='test')
            # A checkpoint from before validation sets keeps choosing by test NLL until it has a validation NLL to beat.
            legacy = 'bestValidationNats' not in state and state.get('bestTestNats') is not None
            if validation and not legacy:
                improved = state.get('bestValidationNats') is None or validation['nats'] < state['bestValidationNats']
            else:
                improved = state['bestTestNats'] is None or result['nats'] < state['bestTestNats']
            if improved:
                state.update(bestTestNats=result['nats'], bestValidationNats=validation['nats'] if validation else None, bestStep=step)
            for split, r in (('validation', validation), ('test', result)):
                if r is None:
                    continue
                run.append_metrics({'step': step, 'split': split, **flag, 'nats': r['nats'], 'bitsPerDim': r['bitsPerDim'], 'seconds': 0})
                decides = split == 'validation' or validation is None
                print(f"step {step}: {split} {nll} {r['nats']:.2f} nats/image, {r['bitsPerDim']:.4f} bits/dim ({r['images']} images)"
                      f"{', best so far' if improved and decides else ''}", flush=True)
        if step % training['sampleEvery'] == 0 or last:
            images = sample(model, sampling['count'], training['seed'] + step, sampling['temperature'])
            print(f'step {step}: samples {run.write_samples(step, encode_png(grid_pixels(images.numpy(), levels)))}', flush=True)
        model.train()
        if step % training['checkpointEvery'] == 0 or last or improved or stopping:
            save_checkpoint(run.checkpoints, ['latest', 'best'] if improved else ['latest'], model, optimizer,
                            training['optimizer'], training['learningRate'], state)
            run.update(step=step, bestTestNats=state['bestTestNats'], bestValidationNats=state.get('bestValidationNats'), bestStep=state['bestStep'])
        if stopping:
            return 'stopped'
    return 'finished'


if __name__ == '__main__':
    sys.exit(main())
