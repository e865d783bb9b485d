/** The header: the run's name (or the comparison's), its status, the backend and why faster ones were not used, the last error, and what to do when nothing is on view. */
import { badge } from '../ui/controls';
import { el } from '../ui/dom';
import { store, title } from '../state';

export function headerCard(): DocumentFragment {
  const heading = el('h1', { textContent: 'Pixel Lab' });
  const status = badge('idle');
  status.classList.add('run-only');
  status.id = 'run-status';
  const backendLine = el('span', { className: 'backend run-only', textContent: 'no backend yet' });
  const fallbackNote = el('p', { className: 'notice', hidden: true });
  const errorNote = el('p', { className: 'notice error', hidden: true });
  errorNote.id = 'run-error';
  const emptyNote = el('p', { className: 'empty-state' });
  emptyNote.append(
    el('strong', { textContent: 'No run on view. ' }),
    'Train an experiment (Pixel Lab: Train Experiment, or ▷ beside it in the Pixel Lab view), or click a run in the Pixel Lab view to see its curves, samples and what each pixel depends on.',
  );

  store.watch((s) => [title(s)], ([text]) => (heading.textContent = text));
  store.watch(
    (s) => [s.status],
    ([text]) => {
      status.textContent = text;
      status.dataset.status = text;
    },
  );
  store.watch(
    (s) => [s.backend],
    ([{ choosing, info }]) => {
      backendLine.textContent = choosing ? 'choosing a backend…' : info ? `${info.name} · ${info.adapter}` : 'no backend yet';
      if (!info) return;
      const skipped = info.fallbacks.map((f) => `${f.name}: ${f.reason}`);
      fallbackNote.hidden = skipped.length === 0;
      fallbackNote.textContent = `Running on ${info.name}. Not used — ${skipped.join('; ')}.`;
    },
  );
  store.watch(
    (s) => [s.error],
    ([error]) => {
      errorNote.hidden = error === null;
      errorNote.textContent = error ?? '';
    },
  );

  const header = document.createDocumentFragment();
  header.append(el('header', { className: 'bar' }, heading, status, backendLine), fallbackNote, errorNote, emptyNote);
  return header;
}
