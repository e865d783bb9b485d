/**
 * The Pixel Lab webview panel: its HTML (strict CSP, see html.ts), the message bridge — every message from the
 * panel is validated on arrival and a malformed one is logged and dropped — and restoring after a window reload.
 */
import * as vscode from 'vscode';
import { type HostMessage, type PanelMessage, validatePanelMessage } from '../protocol';
import { makeNonce, panelHtml } from './html';
import { packBinary } from './pack-binary';

export const PANEL_TYPE = 'pixelLab.panel';
/** How long the panel's page may take to load before a command says so. */
const READY_MS = 60_000;

/** One page of the panel: a webview and the promise that its script has said `ready`. */
interface Page {
  readonly panel: vscode.WebviewPanel;
  readonly ready: Promise<void>;
}

export class PixelLabPanel {
  private page: Page | null = null;
  private readonly listeners = new Set<(m: PanelMessage) => void>();
  private readonly closeListeners = new Set<() => void>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.OutputChannel,
  ) {}

  get isOpen(): boolean {
    return this.page !== null;
  }

  /** Open (or reveal) the panel and wait until its page is ready for messages (or say it never got ready). */
  async open(): Promise<void> {
    await this.openPage();
  }

  private async openPage(): Promise<Page> {
    if (this.page) {
      this.page.panel.reveal(undefined, true);
    } else {
      this.adopt(vscode.window.createWebviewPanel(PANEL_TYPE, 'Pixel Lab', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options()));
    }
    const page = this.page!;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the Pixel Lab panel did not load within ${READY_MS / 1000} s (see the Pixel Lab log; close the panel and try again)`)), READY_MS);
    });
    try {
      await Promise.race([page.ready, late]);
    } finally {
      clearTimeout(timer);
    }
    return page;
  }

  /**
   * Take over a panel: one this extension created, or one VS Code restored after a reload. There is only ever one
   * Pixel Lab page: a restored panel that arrives after a command already opened a new one (a command run right after
   * the reload, before VS Code got round to restoring) is closed, never adopted beside it — two pages would share one
   * `ready` and one message stream, and a host message would go to a page that is not listening yet.
   */
  adopt(panel: vscode.WebviewPanel): boolean {
    if (this.page && this.page.panel !== panel) {
      this.log.appendLine('a restored Pixel Lab panel arrived after a new one was opened: closed it');
      panel.dispose();
      return false;
    }
    let markReady: () => void = () => {};
    const page: Page = { panel, ready: new Promise<void>((resolve) => (markReady = resolve)) };
    this.page = page;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      if (this.page !== page) return;
      const checked = validatePanelMessage(raw);
      if (!checked.ok) {
        this.log.appendLine(`rejected a message from the panel: ${checked.reason}`);
        return;
      }
      if (checked.message.type === 'ready') markReady();
      if (checked.message.type === 'log') this.log.appendLine(`panel ${checked.message.level}: ${checked.message.message}`);
      for (const listener of this.listeners) listener(checked.message);
    });
    panel.onDidDispose(() => {
      if (this.page !== page) return;
      this.page = null;
      for (const listener of this.closeListeners) listener();
    });
    return true;
  }

  /** Post to the page that said it is ready (never to one still loading: its message would be lost). */
  async post(message: HostMessage): Promise<void> {
    const page = await this.openPage();
    if (this.page !== page) throw new Error('the Pixel Lab panel was closed before the message could be delivered');
    await page.panel.webview.postMessage(packBinary(message));
  }

  onMessage(listener: (m: PanelMessage) => void): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  onClose(listener: () => void): vscode.Disposable {
    this.closeListeners.add(listener);
    return new vscode.Disposable(() => this.closeListeners.delete(listener));
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // Training runs in the page's worker: it must survive the panel being hidden behind another tab.
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private html(webview: vscode.Webview): string {
    const asset = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...parts)).toString();
    return panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset('dist', 'webview', 'main.js'),
      workerUri: asset('dist', 'webview', 'worker.js'),
      wasmPaths: `${asset('dist', 'webview')}/`,
      styleUris: [asset('dist', 'webview', 'main.css'), asset('media', 'panel.css')],
    });
  }
}

