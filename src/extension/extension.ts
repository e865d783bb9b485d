/**
 * The VS Code extension host. For now it only announces itself; the commands, the experiment tree and the
 * training panel arrive with the extension itself. The host never imports TF.js: the engine runs in the webview.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Pixel Lab');
  context.subscriptions.push(log);
  log.appendLine(`Pixel Lab ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {}
