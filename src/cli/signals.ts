/**
 * Ctrl+C and SIGTERM while training. The first asks the run to stop after the current step: it writes a checkpoint,
 * is marked stopped, and the command exits 0. A second quits at once: the run is marked stopped at its last
 * checkpoint's step (run.json already says which: it is updated at every checkpoint) and the process exits 130
 * (SIGINT) or 143 (SIGTERM). Until a run folder exists the signals keep their default effect: nothing to save yet.
 */
import type { RunFolder } from '../runs/run-folder';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof EXIT_CODES;

export interface Interrupts {
  /** True once a stop was asked for. */
  readonly requested: () => boolean;
  /** Called with the run once its folder exists (the handlers go in), and with null when it ends (they come out). */
  readonly track: (run: RunFolder | null) => void;
}

export function stopOnSignals(stderr: NodeJS.WritableStream = process.stderr): Interrupts {
  let stopping = false;
  let current: RunFolder | null = null;
  const onSignal = (signal: StopSignal) => {
    if (!stopping) {
      stopping = true;
      stderr.write(`\nstopping after this step… (${signal === 'SIGINT' ? 'Ctrl+C' : 'SIGTERM'} again to quit at once)\n`);
      return;
    }
    if (current) {
      try {
        const info = current.update({ status: 'stopped', endedAt: new Date().toISOString() });
        stderr.write(`quit: ${current.dir} is stopped at its last checkpoint, step ${info.step}\n`);
      } catch (error) {
        stderr.write(`pixel-lab: ${(error as Error).message.split('\n')[0]}\n`);
      }
    }
    process.exit(EXIT_CODES[signal]);
  };
  const handlers = { SIGINT: () => onSignal('SIGINT'), SIGTERM: () => onSignal('SIGTERM') };
  return {
    requested: () => stopping,
    track(run) {
      const installed = current !== null;
      current = run;
      for (const signal of Object.keys(handlers) as StopSignal[]) {
        if (run && !installed) process.on(signal, handlers[signal]);
        if (!run && installed) process.off(signal, handlers[signal]);
      }
    },
  };
}
