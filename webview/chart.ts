/**
 * Loss curves with uPlot: training NLL (raw, faint, and smoothed) and test NLL, in nats per image or bits/dim, on a
 * linear or log scale; several runs overlaid when comparing.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Metric } from '../src/protocol';

export type Unit = 'nats' | 'bits';

interface RunCurves {
  readonly name: string;
  readonly metrics: Metric[];
}

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Exponential moving average, as TensorBoard smooths (debiased at the start). */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return weight > 0 ? last / (1 - weight ** n) : v;
  });
}

export class LossChart {
  private runs: RunCurves[] = [];
  private unit: Unit = 'nats';
  private log = false;
  private smoothing = 0.6;
  private plot: uPlot | null = null;
  private pending = false;
  private readonly resize = new ResizeObserver(() => this.schedule(true));

  constructor(private readonly container: HTMLElement) {
    this.resize.observe(container);
  }

  /** Points drawn so far, per run: [train, test]. */
  get pointCounts(): [number, number][] {
    return this.runs.map((r) => [r.metrics.filter((m) => m.split === 'train').length, r.metrics.filter((m) => m.split === 'test').length]);
  }

  setRuns(runs: { name: string; metrics: readonly Metric[] }[]): void {
    this.runs = runs.map((r) => ({ name: r.name, metrics: [...r.metrics] }));
    this.schedule(true);
  }

  add(metric: Metric, run = 0): void {
    this.runs[run]?.metrics.push(metric);
    this.schedule(false);
  }

  setUnit(unit: Unit): void {
    this.unit = unit;
    this.schedule(true);
  }

  setLog(log: boolean): void {
    this.log = log;
    this.schedule(true);
  }

  setSmoothing(weight: number): void {
    this.smoothing = weight;
    this.schedule(false);
  }

  /** Redraw on the next frame (rebuilding the plot when its axes or series change). */
  private schedule(rebuild: boolean): void {
    if (rebuild) {
      this.plot?.destroy();
      this.plot = null;
    }
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private data(): uPlot.AlignedData {
    const value = (m: Metric) => (this.unit === 'nats' ? m.nats : m.bitsPerDim);
    const steps = [...new Set(this.runs.flatMap((r) => r.metrics.map((m) => m.step)))].sort((a, b) => a - b);
    const index = new Map(steps.map((s, k) => [s, k]));
    const columns: (number | null)[][] = [];
    for (const run of this.runs) {
      const train: (number | null)[] = new Array(steps.length).fill(null);
      const test: (number | null)[] = new Array(steps.length).fill(null);
      for (const m of run.metrics) (m.split === 'train' ? train : test)[index.get(m.step)!] = value(m);
      columns.push(train, smooth(train, this.smoothing), test);
    }
    return [steps, ...columns] as uPlot.AlignedData;
  }

  private draw(): void {
    const width = Math.max(200, this.container.clientWidth);
    const height = Math.max(160, this.container.clientHeight - 8);
    const data = this.data();
    // What a reader (or a test) can check without reading pixels: points per run, train/test.
    this.container.dataset.points = this.pointCounts.map((p) => p.join('/')).join(',');
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const foreground = cssVar('--vscode-foreground', '#ccc');
    const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
    const series: uPlot.Series[] = [{ label: 'step' }];
    this.runs.forEach((run, k) => {
      const colour = cssVar(PALETTE[k % PALETTE.length], '#3794ff');
      const label = this.runs.length > 1 ? `${run.name} ` : '';
      series.push(
        { label: `${label}train (raw)`, stroke: colour, alpha: 0.25, width: 1, spanGaps: true, points: { show: false } },
        { label: `${label}train`, stroke: colour, width: 2, spanGaps: true, points: { show: false } },
        { label: `${label}test`, stroke: cssVar('--vscode-charts-orange', '#d18616'), dash: k > 0 ? [6, 4] : undefined, width: 2, spanGaps: true, points: { show: true, size: 6 } },
      );
    });
    const axis = { stroke: foreground, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    this.plot = new uPlot(
      {
        width,
        height,
        series,
        scales: { x: { time: false }, y: { distr: this.log ? 3 : 1 } },
        axes: [
          { ...axis, label: 'step' },
          { ...axis, label: this.unit === 'nats' ? 'NLL (nats per image)' : 'NLL (bits/dim)', size: 60 },
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      data,
      this.container,
    );
  }
}
