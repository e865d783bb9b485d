"""The run folder in Pixel Lab's format (src/runs/run-folder.ts), so that the extension and the CLI treat a
twin-trained run as their own: experiment.pixel.json, run.json, metrics.jsonl, checkpoints/, samples/.
Whole files are written to a temporary name and renamed into place; metrics are appended a line at a time."""
import json
import os
import socket
from datetime import datetime, timezone

# How often a live trainer refreshes its heartbeat (src/runs/run-folder.ts: HEARTBEAT_MS).
HEARTBEAT_SECONDS = 5.0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def timestamp() -> str:
    return datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')


def owner() -> dict:
    """This process as the run's trainer: a run whose owner is gone reads as interrupted in Pixel Lab."""
    return {'pid': os.getpid(), 'host': socket.gethostname(), 'heartbeat': now_iso()}


def write_atomic(path: str, data) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb' if isinstance(data, bytes) else 'w', **({} if isinstance(data, bytes) else {'encoding': 'utf8'})) as f:
        f.write(data)
    os.replace(tmp, path)


class RunFolder:
    def __init__(self, folder: str):
        self.dir = os.path.abspath(folder)

    @staticmethod
    def create(parent: str, experiment_text: str, info: dict) -> 'RunFolder':
        os.makedirs(parent, exist_ok=True)
        stamp = timestamp()
        run_id, k = stamp, 2
        while True:  # created exclusively: runs started at once never share a folder
            try:
                os.mkdir(os.path.join(parent, run_id))
                break
            except FileExistsError:
                run_id, k = f'{stamp}-{k}', k + 1
        run = RunFolder(os.path.join(parent, run_id))
        os.makedirs(os.path.join(run.dir, 'checkpoints'))
        os.makedirs(os.path.join(run.dir, 'samples'))
        write_atomic(os.path.join(run.dir, 'experiment.pixel.json'), experiment_text)
        run._write({**info, 'id': run_id, 'status': 'running', 'startedAt': now_iso(), 'step': 0, 'owner': owner()})
        return run

    @staticmethod
    def open(folder: str) -> 'RunFolder':
        if not os.path.isfile(os.path.join(folder, 'run.json')):
            raise ValueError(f'{folder} is not a run folder (it has no run.json)')
        return RunFolder(folder)

    @property
    def info(self) -> dict:
        with open(os.path.join(self.dir, 'run.json'), encoding='utf8') as f:
            return json.load(f)

    def update(self, **patch) -> dict:
        info = {k: v for k, v in {**self.info, **patch}.items() if v is not None or k in ('bestTestNats', 'bestValidationNats', 'bestStep')}
        self._write(info)
        return info

    def heartbeat(self) -> None:
        """The trainer is alive: refresh its heartbeat."""
        info = self.info
        if info.get('owner'):
            self._write({**info, 'owner': {**info['owner'], 'heartbeat': now_iso()}})

    def _write(self, info: dict) -> None:
        write_atomic(os.path.join(self.dir, 'run.json'), json.dumps(info, indent=2, ensure_ascii=False) + '\n')

    @property
    def experiment_file(self) -> str:
        return os.path.join(self.dir, 'experiment.pixel.json')

    @property
    def checkpoints(self) -> str:
        return os.path.join(self.dir, 'checkpoints')

    def append_metrics(self, record: dict) -> None:
        with open(os.path.join(self.dir, 'metrics.jsonl'), 'a', encoding='utf8') as f:
            f.write(json.dumps({**record, 'time': now_iso()}) + '\n')

    def truncate_metrics(self, step: int) -> None:
        """Keep the metrics up to `step` (resuming from a checkpoint older than the last lines)."""
        path = os.path.join(self.dir, 'metrics.jsonl')
        if not os.path.exists(path):
            return
        kept = []
        with open(path, encoding='utf8') as f:
            for line in f:
                try:
                    if json.loads(line)['step'] <= step:
                        kept.append(line if line.endswith('\n') else line + '\n')
                except ValueError:
                    pass  # a line cut short by a crash
        write_atomic(os.path.join(self.dir, 'metrics.jsonl'), ''.join(kept))

    def write_samples(self, step: int, png: bytes) -> str:
        path = os.path.join(self.dir, 'samples', f'step-{step:06d}.png')
        write_atomic(path, png)
        return path
