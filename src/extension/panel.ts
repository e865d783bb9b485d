/**
 * The Pixel Lab webview panel: its HTML (strict CSP, see html.ts), the message bridge — every message from the
 * panel is validated on arrival and a malformed one is logged and dropped — and restoring after a window reload.
 */
import * as vscode from 'vscode';
import { type HostMessage, type PanelMessage, validatePanelMessage } from '../protocol';
import { makeNonce, panelHtml } from './html';

export const PANEL_TYPE = 'pixelLab.panel';
/** How long the panel's page may take to load before a command says so. */
const READY_MS = 60_000;

export class PixelLabPanel {
  private panel: vscode.WebviewPanel | null = null;
  private ready: Promise<void> = Promise.resolve();
  private markReady: () => void = () => {};
  private readonly listeners = new Set<(m: PanelMessage) => void>();
  private readonly closeListeners = new Set<() => void>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.OutputChannel,
  ) {}

  get isOpen(): boolean {
    return this.panel !== null;
  }

  /** Open (or reveal) the panel and wait until its page is ready for messages (or say it never got ready). */
  async open(): Promise<void> {
    if (this.panel) {
      this.panel.reveal(undefined, true);
    } else {
      this.adopt(vscode.window.createWebviewPanel(PANEL_TYPE, 'Pixel Lab', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options()));
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the Pixel Lab panel did not load within ${READY_MS / 1000} s (see the Pixel Lab log; close the panel and try again)`)), READY_MS);
    });
    try {
      await Promise.race([this.ready, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Take over a panel VS Code restored after a reload. */
  adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const checked = validatePanelMessage(raw);
      if (!checked.ok) {
        this.log.appendLine(`rejected a message from the panel: ${checked.reason}`);
        return;
      }
      if (checked.message.type === 'ready') this.markReady();
      if (checked.message.type === 'log') this.log.appendLine(`panel ${checked.message.level}: ${checked.message.message}`);
      for (const listener of this.listeners) listener(checked.message);
    });
    panel.onDidDispose(() => {
      this.panel = null;
      for (const listener of this.closeListeners) listener();
    });
  }

  async post(message: HostMessage): Promise<void> {
    await this.open();
    await this.panel!.webview.postMessage(message);
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
