/**
 * The host's side of a training run: it prepares the experiment and its images, creates the run folder, hands the
 * work to the panel (whose worker trains), and writes everything the panel reports — metrics, sample grids,
 * checkpoints, the final status — into the run folder. Progress shows as a cancellable notification and in the
 * status bar; cancelling stops the run after the current step, saved.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ExperimentError } from '../experiment/experiment';
import type { BackendPreference, PanelMessage } from '../protocol';
import { RunFolder, runsFolderOf } from '../runs/run-folder';
import type { PixelLabPanel } from './panel';
import { type PreparedExperiment, prepareExperiment, runCurves, runView } from './runs';

interface Active {
  readonly run: RunFolder;
  readonly steps: number;
  readonly name: string;
  ended: (status: string) => void;
  report: (step: number, message: string) => void;
  lastStep: number;
}

export class TrainingController implements vscode.Disposable {
  private active: Active | null = null;
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly panel: PixelLabPanel,
    private readonly log: vscode.OutputChannel,
    private readonly changed: () => void,
  ) {
    this.status.command = 'pixelLab.openPanel';
    this.disposables.push(this.status, panel.onMessage((m) => this.onPanelMessage(m)), panel.onClose(() => this.onPanelClosed()));
  }

  get running(): RunFolder | null {
    return this.active?.run ?? null;
  }

  /** Start a new run of an experiment file. */
  async train(file: string): Promise<void> {
    const text = readFileSync(file, 'utf8');
    const prepared = this.prepare(file, text);
    if (!prepared) return;
    const { experiment } = prepared;
    const run = RunFolder.create(runsFolderOf(file, experiment.name), text, { experiment: experiment.name, experimentFile: file, steps: experiment.training.steps });
    await this.launch(run, prepared, null, experiment.training.backend);
  }

  /** Continue a run from its latest checkpoint. */
  async resume(runDir: string): Promise<void> {
    const run = RunFolder.open(runDir);
    const checkpoint = run.readCheckpoint('latest');
    if (!checkpoint) {
      void vscode.window.showErrorMessage(`${runDir} has no checkpoint to resume from yet.`);
      return;
    }
    const prepared = this.prepare(run.info.experimentFile, readFileSync(run.experimentFile, 'utf8'));
    if (!prepared) return;
    run.truncateMetrics(run.info.step);
    run.update({ status: 'running', error: undefined, endedAt: undefined, resumedAt: [...(run.info.resumedAt ?? []), run.info.step] });
    await this.launch(run, prepared, checkpoint, prepared.experiment.training.backend);
  }

  async stop(): Promise<void> {
    if (!this.active) {
      void vscode.window.showInformationMessage('No run is training.');
      return;
    }
    await this.panel.post({ type: 'stop', runId: this.active.run.dir });
  }

  async show(runDir: string): Promise<void> {
    // The panel's worker holds one model: while it trains, the panel stays with that run (runs can be compared).
    if (this.busyWith(runDir)) return;
    await this.panel.post({ type: 'show', run: runView(RunFolder.open(runDir)) });
  }

  async sample(runDir: string): Promise<void> {
    if (this.busyWith(null)) return;
    const view = runView(RunFolder.open(runDir));
    if (!view.checkpoint) {
      void vscode.window.showErrorMessage('This run has no checkpoint yet: nothing to sample from.');
      return;
    }
    const experiment = JSON.parse(view.experiment) as { sampling: { count: number; temperature: number }; training: { seed: number } };
    await this.panel.post({ type: 'show', run: view });
    await this.panel.post({ type: 'sample', runId: view.runId, count: experiment.sampling.count, temperature: experiment.sampling.temperature, seed: experiment.training.seed, keepRows: 0 });
  }

  async compare(runDirs: string[]): Promise<void> {
    await this.panel.post({ type: 'compare', runs: runDirs.map((d) => runView(RunFolder.open(d), false)) });
  }

  /** True (and the user told why) when a run other than `allowed` is training. */
  private busyWith(allowed: string | null): boolean {
    if (!this.active || this.active.run.dir === allowed) return false;
    void vscode.window.showWarningMessage(`${this.active.name} is training in the Pixel Lab panel: stop it first, or wait until it ends (Compare Runs works meanwhile).`);
    return true;
  }

  private prepare(file: string, text: string): PreparedExperiment | null {
    if (this.busyWith(null)) return null;
    try {
      const prepared = prepareExperiment(file, text, true);
      for (const warning of prepared.warnings) void vscode.window.showWarningMessage(warning);
      return prepared;
    } catch (error) {
      this.reportExperimentError(file, error as Error);
      return null;
    }
  }

  private reportExperimentError(file: string, error: Error): void {
    const first = error instanceof ExperimentError ? error.problems[0] : null;
    const where = first ? `${path.basename(file)}:${first.line}:${first.column}: ${first.message}` : error.message;
    this.log.appendLine(error.message);
    void vscode.window.showErrorMessage(`Cannot train: ${where}`, first ? 'Show' : 'Show Log').then(async (choice) => {
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

  private async launch(run: RunFolder, prepared: PreparedExperiment, checkpoint: Uint8Array | null, backend: BackendPreference): Promise<void> {
    const { experiment } = prepared;
    const steps = experiment.training.steps;
    let finish: (status: string) => void = () => {};
    const done = new Promise<string>((resolve) => (finish = resolve));
    const active: Active = { run, steps, name: experiment.name, ended: finish, report: () => {}, lastStep: run.info.step };
    this.active = active;
    this.changed();
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pixel Lab: training ${experiment.name}`, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => void this.stop());
      let reported = active.lastStep;
      active.report = (step, message) => {
        progress.report({ increment: ((step - reported) / steps) * 100, message });
        reported = step;
      };
      return done;
    });
    this.status.text = `$(pulse) Pixel Lab: ${experiment.name} starting…`;
    this.status.show();
    await this.panel.post({ type: 'train', runId: run.dir, name: experiment.name, experiment: JSON.stringify(experiment), images: prepared.images!, checkpoint, metrics: runCurves(run), backend });
  }

  private onPanelMessage(m: PanelMessage): void {
    const active = this.active;
    if (!active || !('runId' in m) || m.runId !== active.run.dir) return;
    const { run } = active;
    const time = new Date().toISOString();
    switch (m.type) {
      case 'backend':
        run.update({ backend: m.info.name, adapter: m.info.adapter });
        if (m.info.fallbacks.length) this.log.appendLine(`${active.name}: ${m.info.name} (${m.info.fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')})`);
        return;
      case 'step': {
        run.appendMetrics({ step: m.step, split: 'train', nats: m.nats, bitsPerDim: m.bitsPerDim, imagesPerSecond: m.imagesPerSecond, seconds: m.seconds, time });
        const text = `step ${m.step}/${active.steps} · ${m.nats.toFixed(1)} nats · ${run.info.backend ?? ''}`;
        this.status.text = `$(pulse) Pixel Lab: ${text}`;
        active.report(m.step, text);
        return;
      }
      case 'eval':
        run.appendMetrics({ step: m.step, split: 'test', nats: m.nats, bitsPerDim: m.bitsPerDim, seconds: 0, time });
        return;
      case 'samples':
        run.writeSamples(m.step, m.png);
        return;
      case 'checkpoint':
        for (const kind of m.kinds) run.writeCheckpoint(kind, m.bytes);
        run.update({ step: m.step });
        active.lastStep = m.step;
        return;
      case 'ended':
        // On failure the run's step stays at its last good checkpoint, which is what a resume starts from.
        run.update({ status: m.status, endedAt: time, ...(m.status === 'failed' ? { error: m.error } : { step: m.step }) });
        this.finish(m.status === 'failed' ? `${active.name} failed: ${m.error}` : `${active.name} ${m.status} at step ${m.step}.`, m.status === 'failed');
        return;
    }
  }

  /** The panel went away mid-run: what was written stays; say so and offer to resume. */
  private onPanelClosed(): void {
    const active = this.active;
    if (!active) return;
    const message = `The Pixel Lab panel was closed while ${active.name} was training. Everything up to the last checkpoint (step ${active.lastStep}) is saved in ${active.run.dir}.`;
    active.run.update({ status: 'stopped', error: `the panel was closed during training; the last checkpoint is at step ${active.lastStep}`, endedAt: new Date().toISOString(), step: active.lastStep });
    const dir = active.run.dir;
    this.finish(null, false);
    void vscode.window.showWarningMessage(message, 'Resume').then((choice) => {
      if (choice === 'Resume') void this.resume(dir);
    });
  }

  private finish(message: string | null, failed: boolean): void {
    const active = this.active;
    this.active = null;
    this.status.hide();
    active?.ended('done');
    this.changed();
    if (message) void (failed ? vscode.window.showErrorMessage(message) : vscode.window.showInformationMessage(message));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
