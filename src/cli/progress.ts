/** The live progress line: step, loss, images/s, ETA — redrawn in place on a terminal, a line every few seconds otherwise. */
import type { Reporter } from './session';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function consoleReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  const live = Boolean(stream.isTTY);
  let drawn = false;
  let lastPrinted = 0;
  let first: { step: number; seconds: number } | null = null;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    info(line) {
      clear();
      console.log(line);
    },
    warn(line) {
      clear();
      stream.write(`warning: ${line}\n`);
    },
    step(r, total) {
      first ??= { step: r.step - 1, seconds: 0 };
      const perStep = (r.seconds - first.seconds) / (r.step - first.step);
      const line = `step ${r.step}/${total}  ${r.conditional ? 'conditional NLL' : 'loss'} ${r.nats.toFixed(2)} nats/image (${r.bitsPerDim.toFixed(4)} bits/dim)  ${r.imagesPerSecond.toFixed(0)} images/s  ETA ${formatDuration(perStep * (total - r.step))}`;
      if (live) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else if (r.seconds - lastPrinted >= 5 || r.step === total) {
        stream.write(`${line}\n`);
        lastPrinted = r.seconds;
      }
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
