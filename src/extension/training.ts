/**
 * The host's side of a training run: it prepares the experiment and its images, creates the run folder, hands the
 * work to the panel (whose worker trains), and writes everything the panel reports — metrics, sample grids,
 * checkpoints, the final status — into the run folder. Progress shows as a cancellable notification and in the
 * status bar; cancelling stops the run after the current step, saved.
 *
 * Every way a run can end goes through one place (`end`): the panel's own report, a message the panel rejected, a
 * worker that died, a panel that never took the run or never reported a step, a write that failed, the panel
 * closed, the window reloaded. It always clears the active run, the status bar and the notification, writes the
 * status and its reason into run.json when it can, and tells the user — so no run is left "running" with nothing
 * running, and the extension never stays busy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { ExperimentError } from '../experiment/experiment';
import type { BackendPreference, PanelMessage, RunStatus } from '../protocol';
import { conditionalInfo, effectiveStatus, HEARTBEAT_MS, RunFolder, runsFolderOf } from '../runs/run-folder';
import { RunFollower } from './follow';
import { HostRun, hostCommand, type HostTrainer } from './host-run';
import type { PixelLabPanel } from './panel';
import { type PreparedExperiment, prepareExperimentOffThread, runCurves, runDataset, runView } from './runs';

/** How long the panel may take to accept a run, and (by default) to report its first step. */
const ACCEPT_MS = 30_000;
const FIRST_STEP_SECONDS = 300;
/** A day: a longer delay would overflow Node's timers (which then fire at once). */
const MAX_FIRST_STEP_SECONDS = 86_400;

interface Active {
  readonly run: RunFolder;
  readonly file: string;
  readonly steps: number;
  readonly name: string;
  /** Step of the last checkpoint written: what a resume starts from. */
  lastCheckpoint: number;
  /** Step last reported by the panel. */
  step: number;
  backend: string;
  /** Whether the panel has taken the run, and reported a step of it. */
  started: boolean;
  stepped: boolean;
  stopping: boolean;
  readonly timers: NodeJS.Timeout[];
  settle: () => void;
  report: (step: number, message: string) => void;
}

export class TrainingController implements vscode.Disposable {
  private active: Active | null = null;
  /** A run training on this machine in a child process (see trainOnHost). */
  private hostRun: HostRun | null = null;
  /** Runs on view that train elsewhere, followed from their files. */
  private followers: RunFollower[] = [];
  /** The experiment whose images are being loaded, before its run starts. */
  private loading: string | null = null;
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private lastTreeRefresh = 0;

  constructor(
    private readonly panel: PixelLabPanel,
    private readonly log: vscode.OutputChannel,
    private readonly changed: () => void,
    /** The extension's folder (for the CLI bundle and the PyTorch twin it ships). */
    private readonly extensionRoot = path.join(__dirname, '..'),
  ) {
    this.status.command = 'pixelLab.openPanel';
    this.disposables.push(this.status, panel.onMessage((m) => this.onPanelMessage(m)), panel.onClose(() => this.onPanelClosed()));
  }

  get running(): RunFolder | null {
    return this.active?.run ?? null;
  }

  /** The step a run in training has reached (newer than its run.json, which is written at checkpoints). */
  liveStep(dir: string): number | null {
    return this.active && this.active.run.dir === dir ? this.active.step : null;
  }

  /** Start a new run of an experiment file. */
  async train(file: string, backendOverride?: BackendPreference): Promise<void> {
    const text = readFileSync(file, 'utf8');
    const prepared = await this.prepare(file, text);
    if (!prepared) return;
    const { experiment } = prepared;
    const run = RunFolder.create(runsFolderOf(file, experiment.name), text, { experiment: experiment.name, experimentFile: path.resolve(file), steps: experiment.training.steps, ...conditionalInfo(experiment.model.conditional ? experiment.model.classes : undefined, prepared.classNames) });
    await this.launch(run, file, prepared, null, backendOverride ?? experiment.training.backend);
  }

  /** Continue a run from its latest checkpoint. */
  async resume(runDir: string): Promise<void> {
    const run = RunFolder.open(runDir);
    const checkpoint = run.readCheckpoint('latest');
    if (!checkpoint) {
      void vscode.window.showErrorMessage(`${path.basename(runDir)} has no checkpoint to resume from: it ended before its first one. Train the experiment again instead.`);
      return;
    }
    const prepared = await this.prepare(run.info.experimentFile, readFileSync(run.experimentFile, 'utf8'));
    if (!prepared) return;
    run.truncateMetrics(run.info.step);
    run.update({ error: undefined, endedAt: undefined, resumedAt: [...(run.info.resumedAt ?? []), run.info.step] });
    run.claim();
    await this.launch(run, run.info.experimentFile, prepared, checkpoint, prepared.experiment.training.backend);
  }

  /**
   * Train on this machine in a child process (the CLI, or the PyTorch twin) instead of in the panel; the panel
   * follows the run from its files.
   */
  async trainOnHost(file: string, trainer: HostTrainer): Promise<void> {
    if (this.hostRun) {
      void vscode.window.showWarningMessage(`A run is already training on this machine (process ${this.hostRun.pid}): stop it first.`);
      return;
    }
    const root = this.extensionRoot;
    const python = vscode.workspace.getConfiguration('pixelLab').get<string>('python', 'python3');
    const name = path.basename(file).replace(/\.pixel\.json$/, '');
    const who = trainer === 'cli' ? 'pixel-lab' : 'PyTorch';
    let settle: () => void = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 49);
    status.text = `$(loading~spin) Pixel Lab: ${name} starting on this machine (${who})…`;
    status.command = 'pixelLab.openPanel';
    status.show();
    this.log.appendLine(`${name}: training on this machine with ${who}`);
    const host: HostRun = new HostRun(trainer, file, hostCommand(trainer, file, root, python), {
      onRun: (run) => {
        status.text = `$(loading~spin) Pixel Lab: ${name} training on this machine (${who})`;
        this.changed();
        void this.show(run.dir).catch((e: Error) => this.log.appendLine(`showing ${run.dir}: ${e.message}`));
      },
      onLine: (line) => this.log.appendLine(`${name} (${who}): ${line}`),
      onExit: ({ status: ended, reason }) => {
        this.hostRun = null;
        status.dispose();
        settle();
        this.changed();
        if (ended === 'failed') {
          void vscode.window.showErrorMessage(`Pixel Lab: ${name} failed on this machine: ${reason ?? 'see the log'}`, 'Show Log').then((c) => c && this.log.show());
        } else {
          void vscode.window.showInformationMessage(`Pixel Lab: ${name} ${ended} on this machine (${who}).`);
        }
      },
    });
    this.hostRun = host;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pixel Lab: training ${name} on this machine (${who})`, cancellable: true }, (_progress, token) => {
      token.onCancellationRequested(() => host.stop());
      return done;
    });
  }

  async stop(): Promise<void> {
    if (!this.active && this.hostRun) {
      this.hostRun.stop();
      void vscode.window.showInformationMessage('Stopping the run on this machine after its current step…');
      return;
    }
    const active = this.active;
    const elsewhere = this.followers.map((f) => f.run.info).find((i) => i.status === 'running' && i.owner?.host === hostname());
    if (!active && elsewhere?.owner) {
      // A run on view that a process of this machine trains (pixel-lab in a terminal, torchrun): ask it to stop.
      process.kill(elsewhere.owner.pid, 'SIGINT');
      void vscode.window.showInformationMessage(`Asked process ${elsewhere.owner.pid} to stop ${elsewhere.experiment} after its current step.`);
      return;
    }
    if (!active) {
      void vscode.window.showInformationMessage('No run is training.');
      return;
    }
    active.stopping = true;
    this.status.text = `$(loading~spin) Pixel Lab: ${active.name} stopping after step ${active.step + 1}…`;
    await this.panel.post({ type: 'stop', runId: active.run.dir });
  }

  async show(runDir: string): Promise<void> {
    // The panel's worker holds one model: while it trains, the panel stays with that run (runs can be compared).
    if (this.busyWith(runDir)) return;
    const run = RunFolder.open(runDir);
    // Following starts before the run is read, so no line written in between is missed (the panel drops repeats).
    this.follow(effectiveStatus(run.info) === 'running' && run.dir !== this.active?.run.dir ? [run] : []);
    const view = await runView(run);
    if (this.busyWith(runDir)) return; // a run started meanwhile
    await this.panel.post({ type: 'show', run: view });
    await this.panel.post({ type: 'dataset', runId: run.dir, ...(await runDataset(run)) });
  }

  /**
   * Follow runs training elsewhere (a terminal, torchrun, another window) from their files; stop following others.
   */
  private follow(runs: RunFolder[]): void {
    for (const f of this.followers) f.close();
    this.followers = runs.map(
      (run) =>
        new RunFollower(run, (news) => {
          void this.panel.post({ type: 'news', runId: run.dir, ...news }).catch(() => {});
          if (news.status !== 'running') this.changed();
        }),
    );
  }

  async sample(runDir: string): Promise<void> {
    if (this.busyWith(null)) return;
    const view = await runView(RunFolder.open(runDir));
    if (this.busyWith(null)) return;
    if (!view.checkpoint) {
      void vscode.window.showErrorMessage('This run has no checkpoint yet: nothing to sample from.');
      return;
    }
    const experiment = JSON.parse(view.experiment) as { sampling: { count: number; temperature: number }; training: { seed: number } };
    vscode.window.setStatusBarMessage(`$(loading~spin) Pixel Lab: sampling from ${view.name}…`, 5000);
    await this.panel.post({ type: 'sample', run: view, count: experiment.sampling.count, temperature: experiment.sampling.temperature, seed: experiment.training.seed, keepRows: 0 });
    await this.panel.post({ type: 'dataset', runId: view.runId, ...(await runDataset(RunFolder.open(runDir))) });
  }

  async compare(runDirs: string[]): Promise<void> {
    const views = await Promise.all(runDirs.map((d) => runView(RunFolder.open(d), false)));
    await this.panel.post({ type: 'compare', runs: views });
    this.follow(views.filter((v) => v.status === 'running' && v.runId !== this.active?.run.dir).map((v) => RunFolder.open(v.runId)));
  }

  /** True (and the user told why) when a run other than `allowed` is training. */
  private busyWith(allowed: string | null): boolean {
    if (!this.active || this.active.run.dir === allowed) return false;
    void vscode.window.showWarningMessage(`${this.active.name} is training in the Pixel Lab panel: stop it first, or wait until it ends (Compare Runs works meanwhile).`);
    return true;
  }

  /** The experiment checked and its images loaded (off the host's thread, with progress; cancellable). */
  private async prepare(file: string, text: string): Promise<PreparedExperiment | null> {
    if (this.busyWith(null)) return null;
    if (this.loading) {
      void vscode.window.showWarningMessage(`Pixel Lab is still loading the images of ${path.basename(this.loading)}: wait, or cancel that first.`);
      return null;
    }
    this.loading = file;
    try {
      const prepared = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Pixel Lab: loading the images of ${path.basename(file)}`, cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          const onProgress = (done: number, total: number) => {
            progress.report({ increment: ((done - reported) / total) * 100, message: `${done} of ${total}` });
            reported = done;
          };
          return prepareExperimentOffThread(file, text, { signal: abort.signal, onProgress });
        },
      );
      for (const warning of prepared.warnings) void vscode.window.showWarningMessage(warning);
      return prepared;
    } catch (error) {
      if ((error as Error).name === 'AbortError') void vscode.window.showInformationMessage('Pixel Lab: loading cancelled; nothing was started.');
      else this.reportExperimentError(file, error as Error);
      return null;
    } finally {
      this.loading = null;
    }
  }

  private reportExperimentError(file: string, error: Error): void {
    const problems = error instanceof ExperimentError ? error.problems : [];
    const first = problems[0];
    const where = (p: (typeof problems)[number]) => `${path.basename(file)}:${p.line}:${p.column}: ${p.message}`;
    const text = problems.length > 1 ? `${where(first)} (and ${problems.length - 1} more: see the Problems view or the log)` : first ? where(first) : error.message;
    this.log.appendLine(problems.length ? problems.map(where).join('\n') : error.message);
    void vscode.window.showErrorMessage(`Cannot train: ${text}`, first ? 'Show' : 'Show Log').then(async (choice) => {
      if (choice === 'Show' && first) {
        const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
        const position = new vscode.Position(first.line - 1, first.column - 1);
        editor.selection = new vscode.Selection(position, position);
        editor.revealRange(new vscode.Range(position, position));
      } else if (choice === 'Show Log') {
        this.log.show();
      }
    });
  }

  private async launch(run: RunFolder, file: string, prepared: PreparedExperiment, checkpoint: Uint8Array | null, backend: BackendPreference): Promise<void> {
    const { experiment } = prepared;
    this.follow([]);
    const steps = experiment.training.steps;
    let settle: () => void = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    const active: Active = { run, file, steps, name: experiment.name, lastCheckpoint: run.info.step, step: run.info.step, backend: '', started: false, stepped: false, stopping: false, timers: [], settle, report: () => {} };
    this.active = active;
    this.changed();
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pixel Lab: training ${experiment.name}`, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => void this.stop());
      let reported = active.step;
      active.report = (step, message) => {
        progress.report({ increment: ((step - reported) / steps) * 100, message });
        reported = step;
      };
      return done;
    });
    this.status.text = `$(loading~spin) Pixel Lab: ${experiment.name} starting…`;
    this.status.show();
    // The trainer (this window) proves it lives; a run whose heartbeat stops reads as interrupted.
    active.timers.push(
      setInterval(() => {
        try {
          run.heartbeat();
        } catch (error) {
          this.fail(active, `its run folder can no longer be written (${(error as Error).message}); was it deleted or moved?`);
        }
      }, HEARTBEAT_MS),
    );
    active.timers.push(
      setTimeout(() => {
        if (this.active === active && !active.started) this.fail(active, `the Pixel Lab panel did not take the run within ${ACCEPT_MS / 1000} s`);
      }, ACCEPT_MS),
    );
    try {
      await this.panel.post({ type: 'train', runId: run.dir, name: experiment.name, experiment: JSON.stringify(experiment), images: prepared.images!, ...(prepared.labels ? { labels: prepared.labels } : {}), ...(prepared.classNames ? { classNames: [...prepared.classNames] } : {}), checkpoint, metrics: runCurves(run), backend });
    } catch (error) {
      this.end(active, 'failed', `the run could not be handed to the panel: ${(error as Error).message}`);
    }
  }

  /** Fail the active run from the host's side: the panel drops it at once (a fresh worker) and shows why. */
  private fail(active: Active, reason: string): void {
    if (this.active !== active) return;
    void this.panel.post({ type: 'abandon', runId: active.run.dir, reason }).catch(() => {});
    this.end(active, 'failed', reason);
  }

  /** Run a write into the run folder; a failure fails the run with what went wrong (a full disk, a deleted folder). */
  private write(active: Active, what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.fail(active, `could not write ${what} (${(error as Error).message})`);
    }
  }

  private onPanelMessage(m: PanelMessage): void {
    const active = this.active;
    if (m.type === 'problem') {
      this.log.appendLine(`panel: ${m.message}`);
      void vscode.window.showErrorMessage(`Pixel Lab: ${m.message}`, 'Show Log').then((c) => c && this.log.show());
      return;
    }
    if (m.type === 'sampled') {
      vscode.window.setStatusBarMessage(`Pixel Lab: drew ${m.count} samples`, 5000);
      return;
    }
    if (m.type === 'rejected') {
      this.log.appendLine(`the panel ${m.reason}`);
      // A run's dataset images or news of a run followed elsewhere are extras: their loss is logged, not a failure.
      if (m.messageType === 'dataset' || m.messageType === 'news') return;
      if (active && (m.runId === active.run.dir || (m.messageType === 'train' && !active.backend))) this.fail(active, `the panel ${m.reason}`);
      else void vscode.window.showErrorMessage(`Pixel Lab: the panel ${m.reason}`);
      return;
    }
    if (!active || !('runId' in m) || m.runId !== active.run.dir) return;
    const { run } = active;
    const time = new Date().toISOString();
    switch (m.type) {
      case 'started': {
        active.started = true;
        // From now on the panel owns the run: its first step must come within the bound (backend, data, step).
        const setting = Number(vscode.workspace.getConfiguration('pixelLab').get<number>('firstStepTimeoutSeconds', FIRST_STEP_SECONDS));
        const seconds = Number.isFinite(setting) ? Math.min(Math.max(setting, 0.1), MAX_FIRST_STEP_SECONDS) : FIRST_STEP_SECONDS;
        active.timers.push(
          setTimeout(() => {
            if (this.active === active && !active.stepped) {
              this.fail(active, `the panel reported no training step within ${seconds} s (setting pixelLab.firstStepTimeoutSeconds); the backend may be far too slow for this model`);
            }
          }, seconds * 1000),
        );
        return;
      }
      case 'backend':
        active.backend = m.info.name;
        this.write(active, 'run.json', () => run.update({ backend: m.info.name, adapter: m.info.adapter }));
        if (m.info.fallbacks.length) this.log.appendLine(`${active.name}: ${m.info.name} (${m.info.fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')})`);
        return;
      case 'step': {
        active.step = m.step;
        active.stepped = true;
        this.write(active, 'metrics.jsonl', () => run.appendMetrics({ step: m.step, split: 'train', nats: m.nats, bitsPerDim: m.bitsPerDim, imagesPerSecond: m.imagesPerSecond, seconds: m.seconds, time, ...(m.conditional ? { conditional: true } : {}) }));
        const text = `step ${m.step}/${active.steps} · ${m.nats.toFixed(1)} nats · ${active.backend}`;
        if (!active.stopping) this.status.text = `$(loading~spin) Pixel Lab: ${active.name} ${text}`;
        active.report(m.step, text);
        if (Date.now() - this.lastTreeRefresh > 1000) {
          this.lastTreeRefresh = Date.now();
          this.changed();
        }
        return;
      }
      case 'eval':
        this.write(active, 'metrics.jsonl', () => run.appendMetrics({ step: m.step, split: m.split ?? 'test', nats: m.nats, bitsPerDim: m.bitsPerDim, seconds: 0, time, ...(m.conditional ? { conditional: true } : {}) }));
        return;
      case 'samples':
        this.write(active, 'a sample grid', () => run.writeSamples(m.step, m.png));
        return;
      case 'checkpoint':
        this.write(active, 'a checkpoint', () => {
          for (const kind of m.kinds) run.writeCheckpoint(kind, m.bytes);
          run.update({ step: m.step });
        });
        if (this.active === active) active.lastCheckpoint = m.step;
        return;
      case 'ended':
        this.end(active, m.status, m.error, m.status === 'failed' ? undefined : m.step);
        return;
    }
  }

  /** The panel went away mid-run: what was written stays; say so and offer to resume. */
  private onPanelClosed(): void {
    const active = this.active;
    if (!active) return;
    if (active.lastCheckpoint > 0) this.end(active, 'stopped', `the panel was closed during training; everything up to the last checkpoint (step ${active.lastCheckpoint}) is saved`, active.lastCheckpoint);
    else this.end(active, 'stopped', 'the panel was closed before the first checkpoint was written: nothing of this run can be resumed', 0);
  }

  /**
   * End the active run, whatever happened: the one way out. On failure the run's step stays at its last checkpoint,
   * which is what a resume starts from.
   */
  private end(active: Active, status: Exclude<RunStatus, 'running'>, reason?: string, step?: number): void {
    if (this.active !== active) return;
    this.active = null;
    for (const timer of active.timers) clearTimeout(timer);
    this.status.hide();
    active.settle();
    let writeError: string | null = null;
    try {
      active.run.update({ status, endedAt: new Date().toISOString(), owner: undefined, ...(reason && status !== 'finished' ? { error: reason } : { error: undefined }), ...(step !== undefined ? { step } : {}) });
    } catch (error) {
      writeError = (error as Error).message;
      this.log.appendLine(`${active.name}: could not record the end of the run in run.json: ${writeError}`);
    }
    this.changed();
    const dir = active.run.dir;
    const kept = active.lastCheckpoint > 0 && existsSync(active.run.checkpointPath('latest'));
    const saved = kept ? ` The last checkpoint (step ${active.lastCheckpoint}) is kept.` : '';
    const unrecorded = writeError ? ` (This could not be recorded in run.json: ${writeError}.)` : '';
    if (status === 'failed') {
      this.log.appendLine(`${active.name} failed: ${reason}`);
      const actions = ['Show Log', 'Retry on wasm', ...(kept && !writeError ? ['Resume'] : [])];
      void vscode.window.showErrorMessage(`Pixel Lab: ${active.name} failed: ${reason}.${saved}${unrecorded}`, ...actions).then((choice) => {
        if (choice === 'Show Log') this.log.show();
        else if (choice === 'Retry on wasm') void this.train(active.file, 'wasm').catch((e: Error) => void vscode.window.showErrorMessage(`Pixel Lab: ${e.message}`));
        else if (choice === 'Resume') void this.resume(dir).catch((e: Error) => void vscode.window.showErrorMessage(`Pixel Lab: ${e.message}`));
      });
    } else if (reason) {
      void vscode.window.showWarningMessage(`Pixel Lab: ${active.name} ${status}: ${reason}.${unrecorded}`, ...(active.lastCheckpoint > 0 ? ['Resume'] : [])).then((choice) => {
        if (choice === 'Resume') void this.resume(dir).catch((e: Error) => void vscode.window.showErrorMessage(`Pixel Lab: ${e.message}`));
      });
    } else {
      void vscode.window.showInformationMessage(`Pixel Lab: ${active.name} ${status} at step ${step ?? active.step}.${unrecorded}`);
    }
  }

  /** The window is closing or reloading: the run in training stops with it, recorded as interrupted (resumable). */
  dispose(): void {
    const active = this.active;
    if (active) {
      this.active = null;
      for (const timer of active.timers) clearTimeout(timer);
      try {
        active.run.update({ status: 'interrupted', owner: undefined, endedAt: new Date().toISOString(), step: active.lastCheckpoint, error: `VS Code closed or reloaded the window during training; the last checkpoint is at step ${active.lastCheckpoint}` });
      } catch {
        // nothing more can be done on the way out; the stale heartbeat marks it interrupted anyway
      }
    }
    for (const f of this.followers) f.close();
    this.hostRun?.stop();
    for (const d of this.disposables) d.dispose();
  }
}
