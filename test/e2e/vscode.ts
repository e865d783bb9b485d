/**
 * The end-to-end harness: one real VS Code (code-server) on a workspace, driven in headless Chromium as a user
 * would — the command palette, quick picks, input boxes, notifications and their buttons, modal dialogs, the Pixel
 * Lab tree and its context menu, the panel's page — plus what the tests read on disk (run folders) and the
 * extension's own log. Nothing here knows the product's internals: it clicks and reads what a user sees.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Frame, type Page } from 'playwright-core';
import { type CodeServer, startCodeServer } from './code-server';

export const ROOT = path.join(__dirname, '..', '..');
export const OUTPUT = path.join(ROOT, 'test-output');
export const VSIX = path.join(ROOT, 'dist', 'pixel-lab.vsix');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A notification as the user saw it (toasts are recorded as they appear, so one that hides is not missed). */
export interface Note {
  readonly text: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly buttons: string[];
}

/** A row of the Pixel Lab view: depth 1 an experiment, depth 2 a run. */
export interface TreeRow {
  readonly label: string;
  readonly description: string;
  readonly depth: number;
}

/** A run folder on disk as the tests read it. */
export interface RunOnDisk {
  readonly dir: string;
  readonly id: string;
  readonly status: string;
  readonly step: number;
  readonly experimentFile?: string;
  readonly error?: string;
  readonly backend?: string;
  /** Its trainer while it trains: pid, host, heartbeat. */
  readonly owner?: { readonly pid: number; readonly host: string; readonly heartbeat: string };
}

// Installed in every page load: records each notification toast's text, severity and buttons as it appears.
function recordNotifications(): void {
  const w = window as unknown as { __notes: { el: Element; text: string; severity: string; buttons: string[] }[] };
  w.__notes = [];
  const scan = () => {
    for (const item of document.querySelectorAll('.notification-list-item')) {
      const message = item.querySelector('.notification-list-item-message');
      if (!message) continue;
      const icon = item.querySelector('.notification-list-item-icon');
      const cls = icon?.className ?? '';
      const severity = /error/.test(cls) ? 'error' : /warning/.test(cls) ? 'warning' : 'info';
      const buttons = [...item.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => b.textContent?.trim() ?? '');
      const known = w.__notes.find((n) => n.el === item);
      const text = message.textContent?.trim() ?? '';
      if (known) {
        if (text) known.text = text;
        if (buttons.length) known.buttons = buttons;
      } else if (text) {
        w.__notes.push({ el: item, text, severity, buttons });
      }
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, characterData: true });
}

export interface StartOptions {
  /** Files to put in the workspace before VS Code opens it (relative path → contents). */
  readonly files?: Record<string, string | Uint8Array>;
  /** Folders to copy into the workspace (relative target → source). */
  readonly copy?: Record<string, string>;
  /** The prefix of this suite's screenshots (test-output/e2e-<prefix>-NN-name.png). */
  readonly prefix: string;
}

export class VsCode {
  private shot = 0;
  private noteMark = 0;

  private constructor(
    readonly server: CodeServer,
    readonly browser: Browser,
    readonly page: Page,
    readonly workspace: string,
    private readonly prefix: string,
  ) {}

  /** A fresh workspace, code-server with the packaged extension, and a browser window on it (not yet opened). */
  static async start(options: StartOptions): Promise<VsCode> {
    if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package`);
    mkdirSync(OUTPUT, { recursive: true });
    for (const old of readdirSync(OUTPUT).filter((f) => f.startsWith(`e2e-${options.prefix}-`))) rmSync(path.join(OUTPUT, old));
    const workspace = mkdtempSync(path.join(tmpdir(), 'pixel-lab-workspace-'));
    for (const [target, source] of Object.entries(options.copy ?? {})) cpSync(source, path.join(workspace, target), { recursive: true });
    for (const [file, text] of Object.entries(options.files ?? {})) {
      mkdirSync(path.dirname(path.join(workspace, file)), { recursive: true });
      writeFileSync(path.join(workspace, file), text);
    }
    const server = await startCodeServer(VSIX, workspace);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    await page.addInitScript(recordNotifications);
    return new VsCode(server, browser, page, workspace, options.prefix);
  }

  async close(): Promise<void> {
    await this.browser?.close().catch(() => {});
    await this.server?.stop();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Waiting and evidence

  async screenshot(name: string): Promise<string> {
    const file = path.join(OUTPUT, `e2e-${this.prefix}-${String(++this.shot).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-').slice(0, 60)}.png`);
    await this.page.screenshot({ path: file }).catch(() => {});
    return file;
  }

  /** Poll until `probe` gives something truthy; on timeout, a screenshot and an error naming what was awaited. */
  async until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeout = 60_000): Promise<T> {
    const end = Date.now() + timeout;
    let lastError: unknown = null;
    for (;;) {
      try {
        const value = await probe();
        if (value) return value;
        lastError = null;
      } catch (error) {
        if (error instanceof FatalError) throw error;
        lastError = error;
      }
      if (Date.now() > end) {
        await this.screenshot(`timeout-${what}`);
        const tail = this.extensionLog().split('\n').slice(-15).join('\n');
        throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}\nPixel Lab log (tail):\n${tail}`);
      }
      await sleep(400);
    }
  }

  /** Everything the extension wrote to its "Pixel Lab" output channel in this server's lifetime. */
  extensionLog(): string {
    const logs = path.join(this.server.userData, 'logs');
    const found: string[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/Pixel Lab\.log$/.test(entry.name)) found.push(full);
      }
    };
    walk(logs);
    return found
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
  }

  // ------------------------------------------------------------------------------------------------------------
  // The window

  async openWindow(): Promise<void> {
    this.noteMark = 0;
    await this.page.goto(`${this.server.url}/?folder=${encodeURIComponent(this.workspace)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  }

  async reload(): Promise<void> {
    const loaded = this.page.waitForEvent('load', { timeout: 90_000 }).catch(() => {});
    await this.command('Developer: Reload Window');
    this.noteMark = 0;
    await loaded;
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  }

  /**
   * Run a command from the palette; it shows up a few seconds after the window loads, so retry until it does.
   * Returns when (Date.now()) the command was chosen.
   */
  async command(title: string, timeout = 90_000): Promise<number> {
    const { page } = this;
    let chosenAt = 0;
    await this.until(`the command "${title}"`, async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const box = page.locator('.quick-input-widget .quick-input-box input');
      await box.waitFor({ timeout: 5000 });
      await box.fill(`>${title}`);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ timeout: 4000 });
      // The list may still hold rows of a wider match: take the row that is exactly the command.
      const labels = await page.locator('.quick-input-list .monaco-list-row .label-name').allTextContents();
      if (!labels.some((l) => l.trim() === title)) return false;
      await page.mouse.move(1, 400); // no hover tooltip over the row
      await page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escape(title)}$`) }) }).first().click();
      chosenAt = Date.now();
      return true;
    }, timeout);
    // The palette goes away (a picker the command opens may take its place): wait until it is not the palette.
    await this.until(`the palette to close after "${title}"`, async () => !(await this.paletteShowing()), 30_000);
    return chosenAt;
  }

  private async paletteShowing(): Promise<boolean> {
    const box = this.page.locator('.quick-input-widget .quick-input-box input');
    if (!(await this.page.locator('.quick-input-widget').isVisible().catch(() => false))) return false;
    return ((await box.inputValue().catch(() => '')) ?? '').startsWith('>');
  }

  /** Open a workspace file in an editor (Quick Open), and wait until its tab is the active one. */
  async openFile(relative: string): Promise<void> {
    const { page } = this;
    const base = path.basename(relative);
    await this.until(`${relative} open in an editor`, async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      const box = page.locator('.quick-input-widget .quick-input-box input');
      await box.waitFor({ timeout: 5000 });
      await box.fill(relative);
      // The row named exactly so (Enter would take whichever row has the focus, perhaps a recent other file).
      const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escape(base)}$`) }) }).first();
      await row.waitFor({ timeout: 5000 });
      await page.mouse.move(1, 400);
      await row.click();
      await page.locator('.tab.active', { hasText: base }).waitFor({ timeout: 5000 });
      return true;
    });
  }

  /** Whether a quick pick (or input box) is showing, and its rows' labels. */
  async quickPickRows(): Promise<string[] | null> {
    const widget = this.page.locator('.quick-input-widget');
    if (!(await widget.isVisible().catch(() => false)) || (await this.paletteShowing())) return null;
    return (await this.page.locator('.quick-input-list .monaco-list-row .label-name').allTextContents()).map((t) => t.trim());
  }

  /**
   * Choose the quick pick's row at `index` with the keyboard (a hover tooltip can cover a row from the mouse): the
   * first row has the focus; Down moves it.
   */
  async pickIndex(index: number): Promise<void> {
    const { page } = this;
    await page.mouse.move(1, 400);
    await page.locator('.quick-input-widget .quick-input-box input').focus();
    for (let k = 0; k < index; k++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
  }

  /** Wait for a quick pick and choose the first row whose text matches. */
  async pick(match: string | RegExp, timeout = 30_000): Promise<void> {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: match }).first();
    await this.until(`a quick pick row matching ${match}`, async () => (await row.isVisible()) || null, timeout);
    await this.page.mouse.move(1, 400);
    await row.click();
  }

  /** In a multi-select quick pick: tick the rows given by index, each click checked on the "N Selected" badge; OK. */
  async pickMany(indices: readonly number[], timeout = 30_000): Promise<void> {
    const { page } = this;
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await this.until('a multi-select quick pick', async () => (await rows.count()) > Math.max(...indices), timeout);
    const selected = async () => Number(/(\d+)/.exec((await page.locator('.quick-input-widget .quick-input-count .monaco-count-badge').first().textContent().catch(() => '')) ?? '')?.[1] ?? 0);
    for (const k of indices) {
      const want = (await selected()) + 1;
      await this.until(`row ${k + 1} ticked`, async () => {
        if ((await selected()) >= want) return true;
        const row = rows.nth(k);
        const box = row.locator('.quick-input-list-checkbox, .monaco-custom-toggle, input[type=checkbox]').first();
        await ((await box.count()) ? box : row).click();
        await sleep(600);
        return (await selected()) >= want;
      }, 20_000);
    }
    await page.locator('.quick-input-widget .quick-input-action .monaco-button', { hasText: /^OK$/ }).first().click();
  }

  /** Type into the input box that is showing and accept. */
  async input(text: string): Promise<void> {
    const box = this.page.locator('.quick-input-widget .quick-input-box input');
    await box.waitFor({ timeout: 30_000 });
    await box.fill(text);
    await this.page.keyboard.press('Enter');
  }

  // ------------------------------------------------------------------------------------------------------------
  // Notifications and dialogs

  /** The notifications seen since the window loaded (or since `markNotes`). */
  async notes(all = false): Promise<Note[]> {
    const list = (await this.page.evaluate(() => ((window as unknown as { __notes?: { text: string; severity: string; buttons: string[] }[] }).__notes ?? []).map(({ text, severity, buttons }) => ({ text, severity, buttons })))) as Note[];
    return all ? list : list.slice(this.noteMark);
  }

  /** Forget the notifications seen so far: `notes()` and `note()` look only at later ones. */
  async markNotes(): Promise<void> {
    this.noteMark = (await this.notes(true)).length;
  }

  /** Wait for a notification (since the mark) whose text matches. */
  async note(match: RegExp, timeout = 60_000, severity?: Note['severity']): Promise<Note> {
    return this.until(`a notification matching ${match}${severity ? ` (${severity})` : ''}`, async () => (await this.notes()).find((n) => match.test(n.text) && (!severity || n.severity === severity)), timeout);
  }

  /** Click a button of the visible notification toast whose text matches. */
  async clickNotification(match: RegExp, button: string, timeout = 30_000): Promise<void> {
    const { page } = this;
    await this.until(`the "${button}" button of a notification matching ${match}`, async () => {
      const toast = page.locator('.notification-toast', { hasText: match }).first();
      if (!(await toast.isVisible())) {
        // Hidden into the notification centre: show it there.
        await this.command('Notifications: Show Notifications', 10_000).catch(() => {});
      }
      const item = page.locator('.notification-list-item', { hasText: match }).first();
      const b = item.locator('.notification-list-item-buttons-container .monaco-button', { hasText: button }).first();
      if (!(await b.isVisible())) return false;
      await b.click();
      return true;
    }, timeout);
  }

  /** Close every notification toast (so that later screenshots and clicks are not covered). */
  async clearNotifications(): Promise<void> {
    await this.command('Notifications: Clear All Notifications', 20_000).catch(() => {});
  }

  /** Whether a progress notification (a toast with a progress bar) matching the text is on screen. */
  async progressShowing(match: RegExp): Promise<boolean> {
    return this.page.locator('.notification-toast', { hasText: match }).first().isVisible().catch(() => false);
  }

  /** Answer a modal dialog with the button named. */
  async dialog(button: string, timeout = 30_000): Promise<string> {
    const box = this.page.locator('.monaco-dialog-box');
    await this.until('a dialog', async () => box.isVisible(), timeout);
    const message = ((await box.innerText()) ?? '').trim();
    await box.locator('.monaco-button', { hasText: new RegExp(`^${escape(button)}$`) }).first().click();
    return message;
  }

  /** The status bar items' texts. */
  async statusBar(): Promise<string[]> {
    return (await this.page.locator('.statusbar-item').allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  async pixelLabStatus(): Promise<string | null> {
    return (await this.statusBar()).find((t) => t.includes('Pixel Lab:')) ?? null;
  }

  // ------------------------------------------------------------------------------------------------------------
  // The Pixel Lab view

  /** Show the Pixel Lab view in the side bar. */
  async showTree(): Promise<void> {
    const pane = this.treePane();
    if (await pane.isVisible().catch(() => false)) return;
    await this.command('Pixel Lab: Focus on Experiments View');
    await this.until('the Pixel Lab view', async () => pane.isVisible());
  }

  private treePane() {
    return this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: /Experiments/i }) }).first();
  }

  /** The rows of the Pixel Lab view, in order. */
  async tree(): Promise<TreeRow[]> {
    await this.showTree();
    const rows = this.treePane().locator('.monaco-list-row');
    const out: TreeRow[] = [];
    for (let k = 0; k < (await rows.count()); k++) {
      const row = rows.nth(k);
      out.push({
        label: ((await row.locator('.label-name').first().textContent()) ?? '').trim(),
        description: ((await row.locator('.label-description').first().textContent().catch(() => '')) ?? '').trim(),
        depth: Number((await row.getAttribute('aria-level')) ?? '0'),
      });
    }
    return out;
  }

  /** The runs listed under each experiment of the view: experiment label → run rows. */
  async treeRuns(): Promise<Map<string, TreeRow[]>> {
    const groups = new Map<string, TreeRow[]>();
    let current: TreeRow[] | null = null;
    for (const row of await this.tree()) {
      if (row.depth === 1) groups.set(row.label, (current = []));
      else if (row.depth === 2 && current) current.push(row);
    }
    return groups;
  }

  private treeRow(label: string) {
    return this.treePane().locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: new RegExp(`^${escape(label)}$`) }) }).first();
  }

  /** Click a row of the view (a run row shows the run). */
  async clickTreeRow(label: string): Promise<void> {
    await this.showTree();
    await this.treeRow(label).click();
  }

  /** The entries of a row's context menu. */
  async contextMenu(label: string): Promise<string[]> {
    await this.showTree();
    await this.page.keyboard.press('Escape');
    const menu = this.page.locator('.context-view .monaco-menu');
    // A right-click just after a menu closed can be taken as closing it: click again until the menu shows.
    await this.until(`the context menu of ${label}`, async () => {
      await this.treeRow(label).click({ button: 'right' });
      return menu.waitFor({ timeout: 3000 }).then(() => true, () => false);
    }, 30_000);
    return (await menu.locator('.action-item .action-label').allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  /** Choose an entry of a row's context menu. */
  async contextMenuChoose(label: string, entry: string): Promise<void> {
    const entries = await this.contextMenu(label);
    if (!entries.includes(entry)) throw new Error(`the context menu of ${label} has no "${entry}" (it has: ${entries.join(', ')})`);
    // With the keyboard, as the menu takes it reliably: Down to the entry (separators are skipped), Enter.
    for (let k = 0; k <= entries.indexOf(entry); k++) await this.page.keyboard.press('ArrowDown');
    await this.page.keyboard.press('Enter');
  }

  // ------------------------------------------------------------------------------------------------------------
  // The panel

  /** The panel's page (the inner frame of the webview holding the app), or null when none is open. */
  async panelOrNull(): Promise<Frame | null> {
    for (const frame of this.page.frames()) {
      if (frame.isDetached()) continue;
      if (await frame.locator('#app .bar').count().catch(() => 0)) return frame;
    }
    return null;
  }

  async panel(timeout = 60_000): Promise<Frame> {
    return this.until('the Pixel Lab panel', () => this.panelOrNull(), timeout);
  }

  /** The panel's header as a user reads it: title, status badge, backend, and the notices under it. */
  async header(frame?: Frame): Promise<{ title: string; status: string; backend: string; notice: string; error: string }> {
    const f = frame ?? (await this.panel());
    const text = async (selector: string) => ((await f.locator(selector).first().textContent().catch(() => '')) ?? '').trim();
    const visibleText = async (selector: string) => ((await f.locator(selector).first().isVisible().catch(() => false)) ? await text(selector) : '');
    return {
      title: await text('#app .bar h1'),
      status: await text('#app .bar > :nth-child(2)'),
      backend: await text('#app .bar .backend'),
      notice: await visibleText('.notice:not(.error)'),
      error: await visibleText('.notice.error'),
    };
  }

  /**
   * Hover pixel (i, j) of the first sample on view; wait until the inspector names it; return the caption's
   * `data-leaks` (how many later pixels the mask shows it depending on: "0" when the model is causal).
   */
  async hoverSample(i: number, j: number): Promise<string | null> {
    const panel = await this.panel();
    const canvas = panel.locator('.grid canvas').first();
    const box = (await canvas.boundingBox())!;
    const width = await canvas.evaluate((c: HTMLCanvasElement) => c.width);
    const unit = box.width / width;
    const caption = panel.locator('.inspector-pair p').first();
    await this.until(`the mask of x[${i},${j}]`, async () => {
      // Tiles start one pixel in (the grid's gap).
      await this.page.mouse.move(box.x + (1 + j + 0.5) * unit, box.y + (1 + i + 0.5) * unit);
      return ((await caption.textContent()) ?? '').includes(`x[${i},${j}] of sample 1 depends on`);
    });
    // Bring the inspector into view for the screenshot that follows (the result stays after the mouse leaves).
    await panel.locator('.inspector-card').first().scrollIntoViewIfNeeded().catch(() => {});
    return caption.getAttribute('data-leaks');
  }

  /** Close the panel's editor tab. */
  async closePanel(): Promise<void> {
    const tab = this.page.locator('.tabs-container .tab', { hasText: /^Pixel Lab/ }).first();
    await this.until('the panel tab', async () => tab.isVisible());
    await tab.click();
    await this.command('View: Close Editor');
    await this.until('the panel to close', async () => !(await tab.isVisible()) && !(await this.panelOrNull()));
  }

  // ------------------------------------------------------------------------------------------------------------
  // Disk

  /** Every run folder in the workspace (any folder holding a run.json under a `runs` folder), newest last. */
  runs(): RunOnDisk[] {
    const found: RunOnDisk[] = [];
    const walk = (dir: string, depth: number) => {
      if (depth > 6 || !existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
        const full = path.join(dir, entry.name);
        const info = path.join(full, 'run.json');
        if (existsSync(info)) {
          try {
            const json = JSON.parse(readFileSync(info, 'utf8'));
            found.push({ dir: full, id: entry.name, ...json });
          } catch {
            found.push({ dir: full, id: entry.name, status: 'unreadable', step: -1 });
          }
        } else walk(full, depth + 1);
      }
    };
    walk(this.workspace, 0);
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }

  run(dir: string): RunOnDisk {
    return { dir, id: path.basename(dir), ...JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) };
  }

  /** A run's metrics.jsonl, line by line (a line cut short is left out). */
  metrics(dir: string): { step: number; split: string; imagesPerSecond?: number }[] {
    const file = path.join(dir, 'metrics.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return l.trim() ? [JSON.parse(l)] : [];
        } catch {
          return [];
        }
      });
  }

  metricsLines(dir: string): number {
    const file = path.join(dir, 'metrics.jsonl');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
  }
}

/** An error `until` does not retry: the probe saw something that will not get better by waiting. */
export class FatalError extends Error {}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The step the panel's status badge shows ("step 12/30"), or null. */
export function badgeStep(status: string): number | null {
  const m = /step (\d+)\//.exec(status);
  return m ? Number(m[1]) : null;
}

/** A tiny experiment (8×8, 200 MNIST images): a step takes well under a second on any backend. */
export function tinyExperiment(name: string, overrides: { steps?: number; backend?: string; hidden?: number | string; learningRate?: number } = {}): string {
  return `${JSON.stringify(
    {
      name,
      model: { type: 'pixelcnn', layers: 1, hidden: overrides.hidden ?? 8, firstKernel: 3, kernel: 3, outputHidden: 8 },
      data: { dataset: 'mnist', limit: 200, height: 8, width: 8, levels: 2, binarize: 'fixed', testFraction: 0.2 },
      training: { steps: overrides.steps ?? 400, batchSize: 8, learningRate: overrides.learningRate ?? 0.001, evalEvery: 4, evalImages: 16, sampleEvery: 4, checkpointEvery: 4, backend: overrides.backend ?? 'auto' },
      sampling: { count: 4 },
    },
    null,
    2,
  )}\n`;
}
