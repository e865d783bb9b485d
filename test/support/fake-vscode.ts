/**
 * The few parts of the VS Code API the extension host's controller uses, for running the real controller in Node
 * (vitest aliases `vscode` to this file). It records what the user would see — notifications with their buttons,
 * the status bar, progress — and lets a test press a notification's button.
 */
export class Disposable {
  constructor(private readonly off: () => void = () => {}) {}
  dispose(): void {
    this.off();
  }
}

export class EventEmitter<T> {
  private readonly listeners = new Set<(e: T) => void>();
  readonly event = (listener: (e: T) => void) => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
}

export const StatusBarAlignment = { Left: 1, Right: 2 } as const;
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;

export class Uri {
  private constructor(readonly fsPath: string) {}
  static file(p: string): Uri {
    return new Uri(p);
  }
}
export class Position {
  constructor(readonly line: number, readonly character: number) {}
}
export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}
export class Selection extends Range {}
export class ThemeIcon {
  constructor(readonly id: string, readonly color?: ThemeColor) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}

export interface Shown {
  readonly level: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly actions: string[];
  choose(action: string | undefined): void;
}

/** What the user has seen, in order. */
export const seen: { notifications: Shown[]; statusBar: { text: string; visible: boolean }[]; progress: { title: string; done: boolean; messages: string[]; cancel(): void }[]; statusMessages: string[] } = {
  notifications: [],
  statusBar: [],
  progress: [],
  statusMessages: [],
};
export const settings: Record<string, unknown> = {};

function notify(level: Shown['level']) {
  return (message: string, ...rest: unknown[]): Promise<string | undefined> =>
    new Promise((resolve) => {
      const actions = rest.filter((r): r is string => typeof r === 'string');
      seen.notifications.push({ level, message, actions, choose: resolve });
    });
}

export const window = {
  createStatusBarItem() {
    const item = { text: '', visible: false, command: undefined as unknown, show() { item.visible = true; }, hide() { item.visible = false; }, dispose() {} };
    seen.statusBar.push(item);
    return item;
  },
  showErrorMessage: notify('error'),
  showWarningMessage: notify('warning'),
  showInformationMessage: notify('info'),
  setStatusBarMessage(text: string) {
    seen.statusMessages.push(text);
    return new Disposable();
  },
  withProgress<T>(options: { title: string }, task: (progress: { report(v: { message?: string }): void }, token: { onCancellationRequested(l: () => void): Disposable }) => Promise<T>): Promise<T> {
    const cancelListeners: (() => void)[] = [];
    const entry = { title: options.title, done: false, messages: [] as string[], cancel: () => cancelListeners.forEach((l) => l()) };
    seen.progress.push(entry);
    return task({ report: (v) => v.message && entry.messages.push(v.message) }, { onCancellationRequested: (l) => (cancelListeners.push(l), new Disposable()) }).finally(() => (entry.done = true));
  },
  async showTextDocument() {
    return { selection: undefined, revealRange() {} };
  },
};

export const workspace = {
  getConfiguration(section: string) {
    return { get: <T>(key: string, fallback: T): T => (settings[`${section}.${key}`] as T | undefined) ?? fallback };
  },
};

export function resetSeen(): void {
  seen.notifications.length = 0;
  seen.statusBar.length = 0;
  seen.progress.length = 0;
  seen.statusMessages.length = 0;
}
