/**
 * The panel's controls, from @vscode/webview-ui-toolkit — kept behind these few functions so that the toolkit
 * (deprecated upstream) can be swapped without touching the panel.
 */
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption } from '@vscode/webview-ui-toolkit';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption());

export function button(label: string, onClick: () => void, appearance: 'primary' | 'secondary' = 'primary'): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', appearance);
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

export function setEnabled(control: HTMLElement, enabled: boolean): void {
  if (enabled) control.removeAttribute('disabled');
  else control.setAttribute('disabled', '');
}

export function checkbox(label: string, onChange: (checked: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox');
  c.textContent = label;
  c.addEventListener('change', () => onChange((c as unknown as { checked: boolean }).checked));
  return c;
}

export function dropdown(options: readonly { value: string; label: string }[], onChange: (value: string) => void): HTMLElement {
  const d = document.createElement('vscode-dropdown');
  for (const o of options) {
    const option = document.createElement('vscode-option');
    option.setAttribute('value', o.value);
    option.textContent = o.label;
    d.appendChild(option);
  }
  d.addEventListener('change', () => onChange((d as unknown as { value: string }).value));
  return d;
}

/** A status badge. Not the toolkit's: its template sets an inline style attribute, which the panel's content
 *  security policy (rightly) blocks. */
export function badge(text: string): HTMLElement {
  const b = document.createElement('span');
  b.className = 'badge';
  b.textContent = text;
  return b;
}

/** A labelled range input (the toolkit has no slider). */
export function slider(label: string, min: number, max: number, step: number, value: number, format: (v: number) => string, onInput: (v: number) => void): { element: HTMLElement; set(v: number, max?: number): void } {
  const wrap = document.createElement('label');
  wrap.className = 'slider';
  const text = document.createElement('span');
  const input = document.createElement('input');
  Object.assign(input, { type: 'range', min: String(min), max: String(max), step: String(step), value: String(value) });
  const show = () => (text.textContent = `${label} ${format(Number(input.value))}`);
  input.addEventListener('input', () => {
    show();
    onInput(Number(input.value));
  });
  show();
  wrap.append(text, input);
  return {
    element: wrap,
    set(v, newMax) {
      if (newMax !== undefined) input.max = String(newMax);
      input.value = String(v);
      show();
    },
  };
}
