/**
 * Training as the user drives it, for the suites: start an experiment from the palette and wait for its first
 * step on screen (failing at once when the panel or a notification shows an error, rather than waiting out the
 * bound), stop it and wait for the run to end, and read the speed a user would see.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { badgeStep, FatalError, type RunOnDisk, VsCode } from './vscode';

export interface Started {
  readonly run: RunOnDisk;
  /** Seconds from the Train command to the first step on screen. */
  readonly firstStepSeconds: number;
  /** When (Date.now()) the first step showed, and which step it was. */
  readonly firstStepAt: number;
  readonly firstStep: number;
  readonly backend: string;
  readonly notice: string;
}

/**
 * Open an experiment file, run *Train Experiment*, and wait until the panel shows a step. `backend`, when given,
 * is the backend the header must name (a different one fails at once, with the header's notice).
 */
export async function trainUntilFirstStep(vs: VsCode, file: string, options: { backend?: string; timeout?: number } = {}): Promise<Started> {
  const before = new Set(vs.runs().map((r) => r.dir));
  await vs.openFile(file);
  await vs.markNotes();
  const logStart = vs.extensionLog().length;
  const name = (JSON.parse(readFileSync(path.join(vs.workspace, file), 'utf8')) as { name?: string }).name ?? path.basename(file, '.pixel.json');
  const t0 = await vs.command('Pixel Lab: Train Experiment');
  const run = await vs.until(`a run folder for ${file}`, async () => {
    await failOnVisibleError(vs, file);
    return vs.runs().find((r) => !before.has(r.dir));
  }, 120_000);
  const panel = await vs.panel();
  let seen = { backend: '', notice: '' };
  const firstStep = await vs.until(`the first step of ${file} on screen`, async () => {
    const h = await vs.header(panel);
    if (h.error) throw new FatalError(`${file}: the panel shows an error: ${h.error} (backend: ${h.backend}; ${h.notice})`);
    await failOnVisibleError(vs, file);
    const panelError = vs.extensionLog().slice(logStart).split('\n').find((l) => /panel error|rejected a message/.test(l));
    if (panelError) throw new FatalError(`${file}: the Pixel Lab log says: ${panelError.trim()}`);
    if (vs.run(run.dir).status === 'failed') throw new FatalError(`${file}: the run failed: ${vs.run(run.dir).error}`);
    // The header names the backend once one is chosen ("wasm · …"; before that "choosing a backend…").
    if (options.backend && /^\w+ · /.test(h.backend) && !h.backend.startsWith(`${options.backend} · `)) {
      throw new FatalError(`${file}: expected the ${options.backend} backend, the header says "${h.backend}" (${h.notice})`);
    }
    seen = { backend: h.backend, notice: h.notice };
    // The step is on screen when the panel shows this run (its title) with a point on its chart; the host writes
    // the same step to metrics.jsonl as it arrives, which tells this run's first step from an earlier run's.
    const trainLines = vs.metrics(run.dir).filter((m) => m.split === 'train').length;
    const trainPoints = Number(((await panel.locator('.chart').getAttribute('data-points')) ?? '0').split('/')[0]);
    if (trainLines === 0 || trainPoints === 0 || !h.title.startsWith(name)) return null;
    return badgeStep(h.status) ?? trainLines;
  }, options.timeout ?? 240_000);
  const firstStepAt = Date.now();
  return { run, firstStepSeconds: (firstStepAt - t0) / 1000, firstStepAt, firstStep, ...seen };
}

/** An error notification since the mark means the start failed: no point waiting. */
async function failOnVisibleError(vs: VsCode, what: string): Promise<void> {
  const error = (await vs.notes()).find((n) => n.severity === 'error' || (n.severity === 'warning' && /stop it first|is training/.test(n.text)));
  if (error) throw new FatalError(`${what}: ${error.severity === 'error' ? 'an error notification' : 'refused'}: ${error.text}`);
}

/** Wait until the panel's badge shows at least `step`; return when it did. */
export async function untilStep(vs: VsCode, step: number, timeout = 240_000): Promise<{ step: number; at: number }> {
  const panel = await vs.panel();
  const seen = await vs.until(`step ${step} on screen`, async () => {
    const h = await vs.header(panel);
    if (h.error) throw new FatalError(`the panel shows an error: ${h.error}`);
    const s = badgeStep(h.status);
    return s !== null && s >= step ? s : null;
  }, timeout);
  return { step: seen, at: Date.now() };
}

/** *Stop Training*, and wait for the run to end on disk; returns its final record. */
export async function stopRun(vs: VsCode, dir: string, timeout = 180_000): Promise<RunOnDisk> {
  await vs.command('Pixel Lab: Stop Training');
  return vs.until(`${path.basename(dir)} to stop`, () => {
    const info = vs.run(dir);
    return info.status !== 'running' ? info : null;
  }, timeout);
}

/**
 * After a test, whatever it left: no run may stay training into the next one. Stop Training first; if the run
 * does not end (a panel that never started, say), close the panel, which ends the run on the host's side.
 */
export async function stopAnyRun(vs: VsCode): Promise<void> {
  // Training shows on disk (run.json) and in the status bar (a run whose folder went away shows only there).
  const ended = async () => vs.runs().every((r) => r.status !== 'running') && !(await vs.pixelLabStatus().catch(() => null));
  if (await ended()) return;
  await vs.command('Pixel Lab: Stop Training', 30_000).catch(() => {});
  if (await vs.until('every run to end', ended, 60_000).catch(() => false)) return;
  if (await vs.panelOrNull()) await vs.closePanel().catch(() => {});
  await vs.until('every run to end after closing the panel', ended, 30_000).catch(() => {});
}

/** The median of a run's per-step training rate (steps/s), from its metrics (the time of the step alone). */
export function medianStepsPerSecond(dir: string, batchSize: number): number | null {
  const rates = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { split: string; imagesPerSecond?: number })
    .filter((m) => m.split === 'train' && m.imagesPerSecond)
    .map((m) => m.imagesPerSecond! / batchSize)
    .sort((a, b) => a - b);
  return rates.length ? rates[Math.floor(rates.length / 2)] : null;
}
