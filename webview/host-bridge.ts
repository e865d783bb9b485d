/**
 * The panel's side of the contract with the extension host (src/protocol.ts): what it posts, and every message it
 * receives, validated before anything acts on it. A malformed message is rejected (the host hears why), never acted
 * on; damaged dataset images are left out, not fatal.
 */
import { type HostMessage, type PanelMessage, validateHostMessage } from '../src/protocol';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void };

const vscode = acquireVsCodeApi();

export function toHost(message: PanelMessage, transfer?: Transferable[]): void {
  // VS Code's webview API takes no transfer list; the harness (and VS Code) copy ArrayBuffers efficiently.
  void transfer;
  vscode.postMessage(message);
}

/** What VS Code keeps of the panel across reloads: the run on view. */
export function remember(runId: string): void {
  vscode.setState({ runId });
}

/**
 * The dataset images a view brings are a convenience (the card, completion): if they arrive damaged (their bytes
 * not matching their shape), the run is shown without them and the log says so, instead of refusing the whole view.
 */
function withoutDamagedDataset(data: unknown): unknown {
  const own = data as { type?: unknown; images?: { data?: unknown; count: number; height: number; width: number; channels: number } | null } | null;
  const i = own?.type === 'dataset' ? own.images : null;
  if (i && i.data instanceof Uint8Array && i.data.length !== i.count * i.height * i.width * i.channels) {
    toHost({ type: 'log', level: 'warn', message: `a run's dataset images arrived with ${i.data.length} bytes for ${i.count}×${i.height}×${i.width}×${i.channels}: shown without them` });
    return { ...own, images: null, error: 'its images did not arrive whole; show the run again' };
  }
  const m = data as { type?: unknown; run?: { dataset?: { data?: unknown; count: number; height: number; width: number; channels: number } | null } } | null;
  const d = m?.run?.dataset;
  if (!d || !(d.data instanceof Uint8Array) || d.data.length === d.count * d.height * d.width * d.channels) return data;
  toHost({ type: 'log', level: 'warn', message: `the dataset images of a ${String(m?.type)} message arrived with ${d.data.length} bytes for ${d.count}×${d.height}×${d.width}×${d.channels}: shown without them` });
  return { ...m, run: { ...m!.run, dataset: null, datasetError: 'its images did not arrive whole; show the run again' } };
}

/** Hand every valid host message to `onMessage`; a rejected one to `onRejected` (with what the user is told). */
export function listenToHost(onMessage: (m: HostMessage) => void, onRejected: (reason: string) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const checked = validateHostMessage(withoutDamagedDataset(event.data));
    if (!checked.ok) {
      const data = event.data as { type?: unknown; runId?: unknown } | null;
      const type = typeof data?.type === 'string' ? data.type : 'unknown';
      const id = typeof data?.runId === 'string' ? data.runId : undefined;
      const reason = `rejected a message from the host: ${checked.reason}`;
      onRejected(reason);
      toHost({ type: 'rejected', messageType: type, ...(id ? { runId: id } : {}), reason });
      return;
    }
    onMessage(checked.message);
  });

  // A blocked resource is a bug worth hearing about, not a silent blank.
  document.addEventListener('securitypolicyviolation', (e) => toHost({ type: 'log', level: 'error', message: `blocked by the content security policy: ${e.violatedDirective} ${e.blockedURI}` }));
}
