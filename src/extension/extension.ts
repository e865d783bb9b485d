/**
 * Pixel Lab's extension host: commands, the experiments view, the panel and its serializer. The host never imports
 * TF.js — models train in the panel's worker — and it is the only writer of files, always inside a run folder.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { RunFolder } from '../runs/run-folder';
import { newExperimentText } from './new-experiment';
import { PANEL_TYPE, PixelLabPanel } from './panel';
import { runCli } from './host-run';
import { findRuns, markInterruptedRuns, retargetRuns } from './runs';
import { TrainingController } from './training';
import { ExperimentItem, ExperimentsTree, RunItem } from './tree';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Pixel Lab');
  const panel = new PixelLabPanel(context.extensionUri, log);
  // eslint-disable-next-line prefer-const
  let training: TrainingController;
  const tree = new ExperimentsTree((dir) => training?.liveStep(dir) ?? null);
  training = new TrainingController(panel, log, () => tree.refresh(), context.extensionUri.fsPath);
  // Runs whose trainer died (a window reloaded or closed mid-run, a killed CLI) are recorded as interrupted.
  const sweep = () => {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const dir of markInterruptedRuns(findRuns(folder.uri.fsPath))) log.appendLine(`${dir}: its trainer is gone; marked interrupted (resume it from its last checkpoint)`);
    }
  };
  try {
    sweep();
  } catch (error) {
    log.appendLine(`looking for interrupted runs: ${(error as Error).message}`);
  }
  const watcher = vscode.workspace.createFileSystemWatcher('**/{*.pixel.json,run.json}');
  context.subscriptions.push(log, training, watcher, vscode.window.registerTreeDataProvider('pixelLab.experiments', tree));
  for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) context.subscriptions.push(event(() => tree.refresh()));
  // Runs belong to their experiment file: when it (or its folder) is renamed or moved in VS Code, its runs follow it.
  context.subscriptions.push(
    vscode.workspace.onDidRenameFiles((e) => {
      const runs = (vscode.workspace.workspaceFolders ?? []).flatMap((f) => findRuns(f.uri.fsPath));
      for (const { oldUri, newUri } of e.files) {
        // An experiment file, or a folder holding some: the runs that recorded the old path record the new one.
        try {
          retargetRuns(runs, oldUri.fsPath, newUri.fsPath);
        } catch (error) {
          log.appendLine(`following ${oldUri.fsPath} → ${newUri.fsPath}: ${(error as Error).message}`);
        }
      }
      tree.refresh();
    }),
  );

  const pickExperiment = async (item?: ExperimentItem | vscode.Uri): Promise<string | undefined> => {
    if (item instanceof ExperimentItem) return item.file;
    if (item instanceof vscode.Uri) return item.fsPath;
    const active = vscode.window.activeTextEditor?.document;
    if (active?.fileName.endsWith('.pixel.json')) {
      if (active.isDirty) await active.save();
      return active.fileName;
    }
    const files = await vscode.workspace.findFiles('**/*.pixel.json', '**/{node_modules,runs}/**');
    if (files.length === 0) {
      void vscode.window.showInformationMessage('No *.pixel.json experiment in this workspace. Create one with "Pixel Lab: New Experiment".');
      return undefined;
    }
    const choice = await vscode.window.showQuickPick(files.map((f) => ({ label: vscode.workspace.asRelativePath(f), file: f.fsPath })), { placeHolder: 'Experiment to train' });
    return choice?.file;
  };
  const pickRun = async (item: RunItem | undefined, placeHolder: string, filter: (status: string) => boolean = () => true): Promise<string | undefined> => {
    if (item instanceof RunItem) return item.dir;
    const runs = (await tree.allRuns()).filter((r) => filter(r.status));
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('No matching runs yet: train an experiment first.');
      return undefined;
    }
    return (await vscode.window.showQuickPick(runs, { placeHolder }))?.dir;
  };

  const command = (id: string, run: (...args: never[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          await run(...args);
        } catch (error) {
          log.appendLine(`${id}: ${(error as Error).stack ?? error}`);
          void vscode.window.showErrorMessage(`Pixel Lab: ${(error as Error).message}`);
        }
      }),
    );

  /** Where to train: the panel (this window's GPU), or this machine's pixel-lab / PyTorch in a child process. */
  const TRAIN_ON = [
    { label: 'In the panel', description: 'WebGPU on this window\'s GPU, else WebGL or wasm', value: 'panel' },
    { label: 'On this machine with pixel-lab', description: 'the Node CLI: WebGPU through Dawn where there is a GPU, else wasm', value: 'cli' },
    { label: 'On this machine with PyTorch', description: 'the PyTorch twin (python3 -m pixel_lab.train; CUDA where there is one)', value: 'pytorch' },
  ] as const;
  type TrainOn = (typeof TRAIN_ON)[number]['value'];
  const trainWhere = async (file: string, where: TrainOn) => (where === 'panel' ? training.train(file) : training.trainOnHost(file, where));
  const askWhere = async (): Promise<TrainOn | undefined> => {
    const last = context.workspaceState.get<TrainOn>('pixelLab.lastTrainOn', 'panel');
    const items = [...TRAIN_ON].sort((a, b) => (a.value === last ? -1 : b.value === last ? 1 : 0));
    const chosen = (await vscode.window.showQuickPick(items, { placeHolder: 'Where should this run train? (setting pixelLab.trainOn makes a choice the default)' }))?.value;
    if (chosen) await context.workspaceState.update('pixelLab.lastTrainOn', chosen);
    return chosen;
  };
  command('pixelLab.trainExperiment', async (item?: ExperimentItem | vscode.Uri) => {
    const file = await pickExperiment(item);
    if (!file) return;
    const setting = vscode.workspace.getConfiguration('pixelLab').get<TrainOn | 'ask'>('trainOn', 'panel');
    const where = setting === 'ask' ? await askWhere() : setting;
    if (where) await trainWhere(file, where);
  });
  command('pixelLab.trainExperimentOn', async (item?: ExperimentItem | vscode.Uri) => {
    const file = await pickExperiment(item);
    const where = file && (await askWhere());
    if (file && where) await trainWhere(file, where);
  });
  command('pixelLab.stopTraining', () => training.stop());
  command('pixelLab.resumeRun', async (item?: RunItem) => {
    const dir = await pickRun(item, 'Run to resume', (s) => s === 'stopped' || s === 'failed' || s === 'interrupted');
    if (dir) await training.resume(dir);
  });
  command('pixelLab.sampleFromRun', async (item?: RunItem) => {
    const dir = await pickRun(item, 'Run to sample from');
    if (dir) await training.sample(dir);
  });
  command('pixelLab.showRun', async (item?: RunItem) => {
    const dir = await pickRun(item, 'Run to show');
    if (dir) await training.show(dir);
  });
  command('pixelLab.openPanel', async () => {
    const running = training.running;
    // Back to the run in training (from a comparison, say); its curves so far come from disk, the rest live.
    if (running) await training.show(running.dir);
    else {
      const latest = (await tree.allRuns())[0];
      if (latest) await training.show(latest.dir);
      else {
        await panel.open();
        void vscode.window.showInformationMessage('No runs yet: train an experiment to see it in the panel.');
      }
    }
  });
  command('pixelLab.compareRuns', async () => {
    const runs = await tree.allRuns();
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('No runs to compare yet: train an experiment first.');
      return;
    }
    const chosen = await vscode.window.showQuickPick(runs, { canPickMany: true, placeHolder: 'Runs to compare (their loss curves, overlaid)' });
    if (chosen?.length) await training.compare(chosen.map((c) => c.dir));
  });
  command('pixelLab.newExperiment', async () => {
    const examples = path.join(context.extensionUri.fsPath, 'examples');
    const templates = readdirSync(examples).filter((f) => f.endsWith('.pixel.json'));
    const template = await vscode.window.showQuickPick(templates.map((f) => ({ label: f.replace('.pixel.json', ''), file: f })), { placeHolder: 'Start from which example?' });
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!template || !folder) {
      if (!folder) void vscode.window.showErrorMessage('Open a folder first: the experiment file is created in it.');
      return;
    }
    const name = await vscode.window.showInputBox({ prompt: 'Experiment file name', value: template.label, validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(v) ? null : 'a letter or digit first, then letters, digits, ".", "-" and "_" (at most 100)') });
    if (!name) return;
    const target = path.join(folder.uri.fsPath, `${name}.pixel.json`);
    if (existsSync(target)) {
      void vscode.window.showErrorMessage(`${target} already exists.`);
      return;
    }
    // Named after its file (so two experiments made from one example never share runs), with no "$schema" line
    // pointing at a file the workspace does not have (the extension gives the schema to every *.pixel.json).
    writeFileSync(target, newExperimentText(readFileSync(path.join(examples, template.file), 'utf8'), name), { flag: 'wx' });
    await vscode.window.showTextDocument(vscode.Uri.file(target));
    tree.refresh();
  });
  command('pixelLab.exportForPyTorch', async (item?: RunItem | ExperimentItem) => {
    const target = item instanceof ExperimentItem ? item.file : await pickRun(item, 'Run to export for PyTorch (its experiment and best weights)');
    if (!target) return;
    const name = item instanceof ExperimentItem ? path.basename(target).replace(/\.pixel\.json$/, '') : `${path.basename(path.dirname(target))}-${path.basename(target)}`;
    const where = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Export Here', title: 'Folder to export into (a folder for the cluster is made in it)', defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    if (!where?.[0]) return;
    const out = path.join(where[0].fsPath, `${name}-pytorch`);
    const result = await runCli(context.extensionUri.fsPath, ['export', target, '--out', out]);
    if (result.code !== 0) {
      log.appendLine(result.stderr);
      void vscode.window.showErrorMessage(`Pixel Lab: the export failed: ${result.stderr.trim().split('\n').at(-1) ?? 'see the log'}`);
      return;
    }
    log.appendLine(result.stdout);
    const train = /^train with:\s+(.+)$/m.exec(result.stdout)?.[1] ?? '';
    const choice = await vscode.window.showInformationMessage(`Exported to ${out}. Train there with: ${train}`, 'Copy Command', 'Open TRAIN.md');
    if (choice === 'Copy Command') await vscode.env.clipboard.writeText(train);
    if (choice === 'Open TRAIN.md') await vscode.window.showTextDocument(vscode.Uri.file(path.join(out, 'TRAIN.md')));
  });
  command('pixelLab.revealRun', async (item?: RunItem) => {
    const dir = await pickRun(item, 'Run to reveal');
    if (dir) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(path.join(dir, 'run.json')));
  });
  command('pixelLab.deleteRun', async (item?: RunItem) => {
    const dir = await pickRun(item, 'Run to delete', (s) => s !== 'running');
    if (!dir) return;
    if (training.running?.dir === dir) {
      void vscode.window.showErrorMessage('This run is training: stop it before deleting it.');
      return;
    }
    const choice = await vscode.window.showWarningMessage(`Delete the run folder ${dir}, with its checkpoints and samples?`, { modal: true }, 'Delete');
    if (choice !== 'Delete') return;
    RunFolder.open(dir); // refuses anything that is not a run folder
    rmSync(dir, { recursive: true });
    tree.refresh();
  });
  command('pixelLab.refresh', () => tree.refresh());

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, {
      async deserializeWebviewPanel(webview: vscode.WebviewPanel, state: unknown) {
        if (!panel.adopt(webview)) return;
        const runId = (state as { runId?: unknown } | undefined)?.runId;
        // Not awaited: VS Code shows the restored page only once this returns, and showing waits for that page.
        if (typeof runId === 'string' && existsSync(path.join(runId, 'run.json'))) void training.show(runId).catch((e: Error) => log.appendLine(`restoring the panel: ${e.message}`));
      },
    }),
  );
  log.appendLine(`Pixel Lab ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {}
