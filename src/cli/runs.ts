/** `pixel-lab runs`: the runs of an experiment (or of a folder of runs), with the status a reader should believe. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { effectiveStatus, type RunInfo, RunFolder, runsFolderOf } from '../runs/run-folder';
import { bestSummary } from './summary';
import { readExperiment } from './session';

/** The folder an argument names: a folder of runs as it is, an experiment file's runs/<name>/. */
function runsParent(target: string): string {
  if (!existsSync(target)) throw new Error(`no such experiment file or folder: ${target}`);
  if (statSync(target).isDirectory()) return path.resolve(target);
  return runsFolderOf(target, readExperiment(target).experiment.name);
}

/** The run folders directly in `parent` (or `parent` itself when it is one), oldest first. */
export function runFoldersIn(parent: string): RunFolder[] {
  if (existsSync(path.join(parent, 'run.json'))) return [RunFolder.open(parent)];
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(parent, d.name, 'run.json')))
    .map((d) => d.name)
    .sort()
    .map((name) => RunFolder.open(path.join(parent, name)));
}

export function runsCommand(target: string, o: { json?: boolean }): void {
  const parent = runsParent(target);
  const rows = runFoldersIn(parent).map((run) => {
    const info: RunInfo = run.info;
    return { id: info.id, dir: run.dir, status: effectiveStatus(info), step: info.step, steps: info.steps, bestStep: info.bestStep ?? null, bestValidationNats: info.bestValidationNats ?? null, bestTestNats: info.bestTestNats ?? null, error: info.error, ...(info.conditional ? { conditional: true } : {}) };
  });
  if (o.json) {
    console.log(JSON.stringify(rows));
    return;
  }
  if (!rows.length) {
    console.log(`no runs in ${parent}`);
    return;
  }
  const width = Math.max(...rows.map((r) => r.id.length));
  for (const r of rows) {
    const best = bestSummary(r) || 'no evaluation yet';
    console.log(`${r.id.padEnd(width)}  ${r.status.padEnd(11)}  ${`${r.step}/${r.steps}`.padEnd(13)}  ${best}${r.error ? `  (${r.error})` : ''}`);
  }
}
