/** The Pixel Lab view: experiments in the workspace, and under each its runs with their status. */
import path from 'node:path';
import * as vscode from 'vscode';
import type { RunStatus } from '../protocol';
import { experimentName, findRuns, groupRuns, type RunEntry } from './runs';

export class ExperimentItem extends vscode.TreeItem {
  constructor(readonly file: string) {
    super(experimentName(file), vscode.TreeItemCollapsibleState.Expanded);
    this.contextValue = 'experiment';
    this.iconPath = new vscode.ThemeIcon('beaker');
    this.resourceUri = vscode.Uri.file(file);
    this.description = vscode.workspace.asRelativePath(file);
    this.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(file)] };
  }
}

const ICONS: Record<RunStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('loading~spin'),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('debug-pause'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  interrupted: new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('testing.iconQueued')),
};

export class RunItem extends vscode.TreeItem {
  constructor(readonly dir: string, status: RunStatus, step: number, steps: number, best: number | null | undefined, error?: string) {
    super(path.basename(dir), vscode.TreeItemCollapsibleState.None);
    this.contextValue = `run-${status}`;
    this.iconPath = ICONS[status];
    this.description = `${status} · ${step}/${steps}${best != null ? ` · ${best.toFixed(1)} nats` : ''}`;
    const why = status === 'interrupted' && !error ? 'its trainer stopped without ending it (VS Code or the process was closed or killed); resume it from its last checkpoint' : error;
    this.tooltip = why ? `${status}: ${why}` : `${status} at step ${step} of ${steps}`;
    this.command = { command: 'pixelLab.showRun', title: 'Show', arguments: [this] };
  }
}

type Item = ExperimentItem | RunItem;

export class ExperimentsTree implements vscode.TreeDataProvider<Item> {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;

  /** `liveStep`: the step a run in training has reached, newer than its run.json. */
  constructor(private readonly liveStep: (dir: string) => number | null = () => null) {}

  refresh(): void {
    this.emitter.fire();
  }

  getTreeItem(item: Item): vscode.TreeItem {
    return item;
  }

  /** The runs of each experiment file, as of the last listing of the experiments. */
  private groups = new Map<string, RunEntry[]>();

  async getChildren(item?: Item): Promise<Item[]> {
    if (!item) {
      const files = (await vscode.workspace.findFiles('**/*.pixel.json', '**/{node_modules,runs}/**')).map((f) => f.fsPath);
      // Runs are found workspace-wide and grouped by the experiment file they record, wherever they sit.
      const runs = (vscode.workspace.workspaceFolders ?? []).flatMap((f) => findRuns(f.uri.fsPath));
      this.groups = groupRuns(runs, files);
      return files.map((f) => new ExperimentItem(f)).sort((a, b) => String(a.label).localeCompare(String(b.label)));
    }
    if (item instanceof ExperimentItem) {
      return (this.groups.get(path.resolve(item.file)) ?? []).map((r) => new RunItem(r.dir, r.status, this.liveStep(r.dir) ?? r.info.step, r.info.steps, r.info.bestTestNats, r.info.error));
    }
    return [];
  }

  /** Every run of every experiment, for pickers. */
  async allRuns(): Promise<{ label: string; description: string; dir: string; status: RunStatus }[]> {
    const experiments = (await this.getChildren()) as ExperimentItem[];
    return experiments.flatMap((e) =>
      (this.groups.get(path.resolve(e.file)) ?? []).map((r) => ({ label: `${experimentName(e.file)} · ${path.basename(r.dir)}`, description: `${r.status} · step ${this.liveStep(r.dir) ?? r.info.step}`, dir: r.dir, status: r.status })),
    );
  }
}
