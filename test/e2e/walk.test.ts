/**
 * A model-based walk (issue 11): a seeded random walk over the extension's commands — train, stop, resume, sample,
 * show a run, compare, open the panel, close it, reload the window, delete a run, edit an experiment (a value, or
 * its "name") — on two tiny experiments, in real VS Code. After every action:
 *
 * - the command answered within a bound: a result the user can see (a run folder, the panel showing the run, a
 *   sample grid, a closed panel…) or a message;
 * - at most one run's run.json says `running`, and only while a trainer lives (its metrics grow); with none
 *   running, the status bar shows no training;
 * - the panel is never left in an error state after a command that succeeded, and no error is shown other than a
 *   refusal of what cannot be done now (no checkpoint yet, stop the run first);
 * - the tree matches the run folders on disk: under each experiment, exactly the runs whose run.json names that
 *   experiment file.
 *
 * Seeds: PIXEL_LAB_WALK_SEEDS (comma-separated; default 1,2,3 in CI), actions per walk: PIXEL_LAB_WALK_ACTIONS (default 30).
 * The action log is printed as the walk goes and in the failure, to replay a failing walk by its seed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { stopAnyRun } from './training';
import { FatalError, type RunOnDisk, tinyExperiment, VsCode } from './vscode';

const SEEDS = (process.env.PIXEL_LAB_WALK_SEEDS ?? '1,2,3').split(',').map((s) => Number(s.trim())).filter((s) => Number.isInteger(s));
const ACTIONS = Number(process.env.PIXEL_LAB_WALK_ACTIONS ?? 30);
const FILES = ['walk-a.pixel.json', 'walk-b.pixel.json'];
/** How long a command may take to answer (the machine is slow and shared; generous, never a timing claim). */
const ANSWER = 120_000;
/** A run long enough to be often still training at the next action, short enough to finish sometimes. */
const WALK_STEPS = 1500;
/** Progress notifications (training, loading images) are not an answer: the result or message that follows is. */
const PROGRESS = /^Pixel Lab: (training|loading)/;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Walk {
  readonly vs: VsCode;
  readonly rng: () => number;
  readonly log: string[];
  renames: number;
}

const choose = <T>(w: Walk, xs: readonly T[]): T => xs[Math.floor(w.rng() * xs.length)];

/**
 * The error messages a walk may legitimately meet: refusals of what cannot be done now. Any other error
 * notification is a defect the walk reports.
 */
const EXPECTED_ERRORS = /no checkpoint|nothing to sample|stop it (first|before)|ended before its first/i;

/** An answer is a notification (other than the training progress) or one of the action's own results. */
async function answer(w: Walk, what: string, results: Record<string, () => Promise<boolean> | boolean>, timeout = ANSWER): Promise<{ text: string; failed: boolean }> {
  return w.vs.until(`an answer to ${what}`, async () => {
    const note = (await w.vs.notes()).find((n) => !PROGRESS.test(n.text));
    if (note) return { text: `${note.severity}: ${note.text}`, failed: note.severity !== 'info' };
    for (const [name, check] of Object.entries(results)) if (await check()) return { text: name, failed: false };
    return null;
  }, timeout);
}

const experimentName = (w: Walk, file: string) => (JSON.parse(readFileSync(path.join(w.vs.workspace, file), 'utf8')) as { name: string }).name;
const running = (w: Walk) => w.vs.runs().filter((r) => r.status === 'running');
const sameFile = (a: string | undefined, b: string) => !!a && path.resolve(a) === path.resolve(b);

/** Run a palette command that may open a quick pick; choose a random row when one shows. */
async function commandWithPick(w: Walk, title: string): Promise<string | null> {
  const { vs } = w;
  await vs.command(title);
  const rows = await vs.until(`${title} to show a picker or a message`, async () => {
    const r = await vs.quickPickRows();
    if (r && r.length) return r;
    if (r && r.length === 0) {
      // An empty picker must say why it is empty.
      const words = `${await vs.page.locator('.quick-input-widget').textContent()} ${await vs.page.locator('.quick-input-box input').getAttribute('placeholder')}`;
      if (!/no .*run|nothing/i.test(words)) throw new FatalError(`${title} showed an empty picker with no words ("${words.trim()}")`);
    }
    if ((await vs.notes()).some((n) => !PROGRESS.test(n.text))) return [] as string[];
    return null;
  }, ANSWER);
  if (rows.length === 0) return null;
  const row = choose(w, rows);
  await vs.pickIndex(rows.indexOf(row));
  return row;
}

/** Watch the panel's captions (sample grid status) for a change, from now on. */
async function watchCaptions(w: Walk): Promise<() => Promise<string[]>> {
  const frame = await w.vs.panelOrNull();
  if (!frame) return async () => [];
  await frame.evaluate(() => {
    const win = window as unknown as { __captions: string[] };
    win.__captions = [];
    const el = document.querySelector('.card .caption');
    if (el) new MutationObserver(() => win.__captions.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
  });
  return async () => (frame.isDetached() ? [] : frame.evaluate(() => (window as unknown as { __captions: string[] }).__captions));
}

interface Action {
  readonly name: string;
  readonly weight: number;
  applicable(w: Walk): Promise<boolean> | boolean;
  /** Do it, wait for its answer, and say what happened. */
  run(w: Walk): Promise<{ text: string; failed: boolean }>;
}

const ACTIONS_LIST: Action[] = [
  {
    name: 'train',
    weight: 3,
    applicable: () => true,
    async run(w) {
      const file = choose(w, FILES);
      const before = new Set(w.vs.runs().map((r) => r.dir));
      await w.vs.openFile(file);
      await w.vs.markNotes();
      await w.vs.command('Pixel Lab: Train Experiment');
      const a = await answer(w, `Train ${file}`, { 'a new run folder': () => w.vs.runs().some((r) => !before.has(r.dir)) });
      return { text: `${file} → ${a.text}`, failed: a.failed };
    },
  },
  {
    name: 'stop',
    weight: 2,
    applicable: () => true,
    async run(w) {
      const was = running(w).map((r) => r.dir);
      await w.vs.markNotes();
      await w.vs.command('Pixel Lab: Stop Training');
      return answer(w, 'Stop Training', { 'the run ended': () => was.length > 0 && was.every((d) => !existsSync(d) || w.vs.run(d).status !== 'running') });
    },
  },
  {
    name: 'resume',
    weight: 2,
    applicable: () => true,
    async run(w) {
      await w.vs.markNotes();
      const row = await commandWithPick(w, 'Pixel Lab: Resume Run');
      if (row === null) return answer(w, 'Resume Run', {});
      const id = row.split(' · ').pop()!;
      const a = await answer(w, `Resume ${row}`, { 'the run trains again': () => w.vs.runs().some((r) => r.id === id && r.status === 'running') });
      return { text: `${row} → ${a.text}`, failed: a.failed };
    },
  },
  {
    name: 'sample',
    weight: 2,
    applicable: () => true,
    async run(w) {
      await w.vs.markNotes();
      const captions = await watchCaptions(w);
      const row = await commandWithPick(w, 'Pixel Lab: Sample from Run');
      if (row === null) return answer(w, 'Sample from Run', {});
      const a = await answer(w, `Sample from ${row}`, {
        'new samples': async () => (await captions()).some((c) => /new samples/.test(c)) || (await panelCaption(w)).includes('new samples'),
        'the panel shows an error': async () => (await w.vs.panelOrNull()) !== null && (await w.vs.header()).status === 'error',
      });
      return { text: `${row} → ${a.text}`, failed: a.failed || a.text === 'the panel shows an error' };
    },
  },
  {
    name: 'show',
    weight: 2,
    applicable: (w) => w.vs.runs().length > 0,
    async run(w) {
      const rows = [...(await w.vs.treeRuns()).values()].flat();
      if (rows.length === 0) return { text: 'no run rows in the tree to show', failed: false };
      const row = choose(w, rows);
      await w.vs.markNotes();
      await w.vs.clickTreeRow(row.label);
      const a = await answer(w, `Show ${row.label}`, { 'the panel shows the run': async () => (await w.vs.panelOrNull()) !== null && (await w.vs.header()).title.endsWith(` · ${row.label}`) });
      return { text: `${row.label} → ${a.text}`, failed: a.failed };
    },
  },
  {
    name: 'compare',
    weight: 1,
    applicable: () => true,
    async run(w) {
      const { vs } = w;
      await vs.markNotes();
      await vs.command('Pixel Lab: Compare Runs');
      const rows = await vs.until('Compare Runs to show a picker or a message', async () => {
        const r = await vs.quickPickRows();
        if (r && r.length) return r;
        if (r && r.length === 0) {
          const words = `${await vs.page.locator('.quick-input-widget').textContent()} ${await vs.page.locator('.quick-input-box input').getAttribute('placeholder')}`;
          if (!/no .*run|nothing/i.test(words)) throw new FatalError(`Compare Runs showed an empty picker with no words ("${words.trim()}")`);
          return [] as string[];
        }
        return (await vs.notes()).some((n) => !PROGRESS.test(n.text)) ? ([] as string[]) : null;
      }, ANSWER);
      if (rows.length === 0) {
        await vs.page.keyboard.press('Escape');
        return answer(w, 'Compare Runs (no runs)', { 'an empty picker that says so': () => true });
      }
      // A random, non-empty choice of runs.
      const chosen = rows.map((_, k) => k).filter(() => w.rng() < 0.6);
      if (chosen.length === 0) chosen.push(Math.floor(w.rng() * rows.length));
      await vs.pickMany(chosen);
      const a = await answer(w, `Compare ${chosen.length} runs`, { 'the comparison': async () => (await vs.panelOrNull()) !== null && (await vs.header()).title === `Comparing ${chosen.length} run${chosen.length === 1 ? "" : "s"}` });
      return { text: `${chosen.length} of ${rows.length} runs → ${a.text}`, failed: a.failed };
    },
  },
  {
    name: 'open panel',
    weight: 1,
    applicable: () => true,
    async run(w) {
      await w.vs.markNotes();
      await w.vs.command('Pixel Lab: Open Panel');
      return answer(w, 'Open Panel', { 'the panel': async () => (await w.vs.panelOrNull()) !== null });
    },
  },
  {
    name: 'close panel',
    weight: 1,
    applicable: async (w) => (await w.vs.panelOrNull()) !== null,
    async run(w) {
      const was = running(w).map((r) => r.dir);
      await w.vs.markNotes();
      await w.vs.closePanel();
      if (was.length === 0) return { text: 'closed (nothing training)', failed: false };
      const a = await answer(w, 'closing the panel mid-run', {});
      const after = was.map((d) => w.vs.run(d).status);
      return { text: `closed mid-run → ${a.text}; the run is ${after.join(', ')}`, failed: false };
    },
  },
  {
    name: 'reload window',
    weight: 1,
    applicable: () => true,
    async run(w) {
      await w.vs.reload();
      await w.vs.markNotes();
      return { text: 'reloaded', failed: false };
    },
  },
  {
    name: 'delete run',
    weight: 1,
    applicable: (w) => w.vs.runs().length > 0,
    async run(w) {
      const { vs } = w;
      const rows = [...(await vs.treeRuns()).values()].flat();
      if (rows.length === 0) return { text: 'no run rows in the tree to delete', failed: false };
      const row = choose(w, rows);
      const onDisk = vs.runs().find((r) => r.id === row.label);
      const menu = await vs.contextMenu(row.label);
      if (!menu.includes('Delete Run')) {
        await vs.page.keyboard.press('Escape');
        if (onDisk && onDisk.status !== 'running') throw new FatalError(`the ${onDisk.status} run ${row.label} (tree: ${row.description}) offers no Delete Run (menu: ${menu.join(', ')})`);
        return { text: `${row.label} (${row.description}): no Delete in its menu while it trains`, failed: false };
      }
      await vs.page.keyboard.press('Escape');
      await vs.markNotes();
      // The menu sometimes drops the keys that choose its entry (nothing happens, no dialog): choose again then —
      // safe, as nothing is deleted before the dialog is answered.
      await vs.until(`the Delete dialog for ${row.label}`, async () => {
        await vs.contextMenuChoose(row.label, 'Delete Run');
        return vs.page.locator('.monaco-dialog-box').waitFor({ timeout: 5000 }).then(() => true, () => false);
      }, 40_000);
      await vs.dialog('Delete');
      const a = await answer(w, `Delete ${row.label}`, { 'the folder is gone': () => !onDisk || !existsSync(onDisk.dir) });
      return { text: `${row.label} → ${a.text}`, failed: a.failed };
    },
  },
  {
    name: 'edit experiment',
    weight: 1,
    applicable: () => true,
    async run(w) {
      const { vs, page } = { vs: w.vs, page: w.vs.page };
      const file = choose(w, FILES);
      const full = path.join(vs.workspace, file);
      const lines = readFileSync(full, 'utf8').split('\n');
      const rename = w.rng() < 0.35;
      const index = lines.findIndex((l) => (rename ? /^\s*"name":/ : /^\s*"learningRate":/).test(l));
      const comma = lines[index].trimEnd().endsWith(',') ? ',' : '';
      const replacement = rename ? `"name": "${file.replace('.pixel.json', '')}-r${++w.renames}"${comma}` : `"learningRate": ${choose(w, [0.001, 0.002, 0.003, 0.0005])}${comma}`;
      await vs.openFile(file);
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type(String(index + 1));
      await page.keyboard.press('Enter');
      await page.keyboard.press('End');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.press('Backspace');
      await page.keyboard.type(replacement);
      await page.keyboard.press('Control+S');
      await vs.until(`${file} saved`, () => readFileSync(full, 'utf8').split('\n')[index].trim() === replacement, ANSWER);
      return { text: `${file}: ${replacement}`, failed: false };
    },
  },
];

async function panelCaption(w: Walk): Promise<string> {
  const frame = await w.vs.panelOrNull();
  return frame ? ((await frame.locator('.card .caption').first().textContent().catch(() => '')) ?? '') : '';
}

/** The invariants, checked after every action. */
async function checkInvariants(w: Walk, succeeded: boolean): Promise<void> {
  const { vs } = w;
  // At most one run is running, and only while its trainer lives (its metrics grow, or it ends).
  const live = running(w);
  if (live.length > 1) throw new Error(`${live.length} runs say "running": ${live.map((r) => r.id).join(', ')}`);
  if (live.length === 1) {
    const [run] = live;
    const lines = vs.metricsLines(run.dir);
    await vs.until(`the running run ${run.id} to show a living trainer (metrics growing, or the run ending)`, () => !existsSync(run.dir) || vs.metricsLines(run.dir) > lines || vs.run(run.dir).status !== 'running', 90_000);
  } else {
    await vs.until('no training in the status bar when no run is running', async () => !(await vs.pixelLabStatus()) || running(w).length > 0, 30_000);
  }
  // The panel is not left in an error state after a command that succeeded.
  if (succeeded && (await vs.panelOrNull())) {
    const h = await vs.header();
    if (h.status === 'error') throw new Error(`the panel shows an error after a successful command: ${h.error}`);
  }
  // The tree matches the run folders on disk.
  await vs.until('the tree to match the run folders on disk', async () => {
    const tree = await vs.treeRuns();
    const disk = vs.runs();
    for (const file of FILES) {
      const label = experimentName(w, file);
      const rows = tree.get(label);
      if (!rows) throw new Error(`the tree has no experiment ${label} (it has ${[...tree.keys()].join(', ')})`);
      const want = disk.filter((r) => sameFile(r.experimentFile, path.join(vs.workspace, file))).map((r) => r.id).sort();
      const got = rows.map((r) => r.label).sort();
      if (want.join() !== got.join()) throw new Error(`under ${label} the tree lists [${got.join(', ')}], the disk holds [${want.join(', ')}]`);
      for (const row of rows) {
        const run = disk.find((r) => r.id === row.label) as RunOnDisk;
        const shown = row.description.split(' ')[0];
        if (shown !== run.status && !(shown === 'interrupted' && run.status !== 'finished')) throw new Error(`the tree says ${row.label} is ${shown}, its run.json says ${run.status}`);
      }
    }
    return true;
  }, 60_000);
}

async function walk(seed: number): Promise<void> {
  const vs = await VsCode.start({ prefix: `walk-${seed}`, files: { [FILES[0]]: tinyExperiment('walk-a', { steps: WALK_STEPS }), [FILES[1]]: tinyExperiment('walk-b', { steps: WALK_STEPS }) } });
  const w: Walk = { vs, rng: mulberry32(seed), log: [], renames: 0 };
  const say = (line: string) => {
    w.log.push(line);
    console.log(`walk ${seed}: ${line}`);
  };
  try {
    await vs.openWindow();
    await vs.showTree();
    for (let k = 1; k <= ACTIONS; k++) {
      const candidates: Action[] = [];
      for (const a of ACTIONS_LIST) if (await a.applicable(w)) candidates.push(...Array<Action>(a.weight).fill(a));
      const action = choose(w, candidates);
      const started = Date.now();
      say(`#${k} ${action.name} …`);
      const result = await action.run(w);
      say(`#${k} ${action.name}: ${result.text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      const unexpected = (await vs.notes()).find((n) => n.severity === 'error' && !EXPECTED_ERRORS.test(n.text));
      if (unexpected) throw new Error(`an error the command should not have met: ${unexpected.text}`);
      await checkInvariants(w, !result.failed);
      await vs.page.keyboard.press('Escape');
    }
    await vs.screenshot('end');
  } catch (error) {
    await vs.screenshot('failure');
    throw new Error(`walk ${seed} failed at its last action: ${(error as Error).message}\nreplay: PIXEL_LAB_WALK_SEEDS=${seed} PIXEL_LAB_WALK_ACTIONS=${ACTIONS}\n${w.log.join('\n')}`);
  } finally {
    await stopAnyRun(vs).catch(() => {});
    await vs.close();
  }
}

describe('a seeded random walk over every command', () => {
  for (const seed of SEEDS) {
    it(`walk ${seed}: ${ACTIONS} actions, invariants after each`, async () => {
      await walk(seed);
    }, 3_600_000);
  }
});
