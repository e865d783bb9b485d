/**
 * Loss curves with uPlot: training NLL (raw, faint, and smoothed), validation NLL (the held-out training images that
 * choose the best checkpoint; drawn once a run has any) and test NLL, in nats per image or bits/dim, on a linear or
 * log scale; several runs overlaid when comparing.
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

const STEP_INCREMENTS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1000, 10000, 100000].map((p) => m * p)).sort((a, b) => a - b);

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
  private width = 0;
  /** Whether the plot has validation series (rebuilt when the first validation point arrives). */
  private validation = false;
  // Rebuild on a change of width only: the legend's wrapping changes the height, and must not loop.
  private readonly resize = new ResizeObserver(() => {
    if (this.container.clientWidth !== this.width) this.schedule(true);
  });

  constructor(private readonly container: HTMLElement) {
    this.resize.observe(container);
  }

  /** Points drawn so far, per run: [train, test]. */
  get pointCounts(): [number, number][] {
    return this.runs.map((r) => [r.metrics.filter((m) => m.split === 'train').length, r.metrics.filter((m) => m.split === 'test').length]);
  }

  /** Validation points drawn so far, per run. */
  get validationCounts(): number[] {
    return this.runs.map((r) => r.metrics.filter((m) => m.split === 'validation').length);
  }

  setRuns(runs: { name: string; metrics: readonly Metric[] }[]): void {
    this.runs = runs.map((r) => ({ name: r.name, metrics: [...r.metrics] }));
    this.schedule(true);
  }

  add(metric: Metric, run = 0): void {
    this.runs[run]?.metrics.push(metric);
    // The first validation point brings its series (and legend entry).
    this.schedule(metric.split === 'validation' && !this.validation);
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
      const split = { train: new Array<number | null>(steps.length).fill(null), validation: new Array<number | null>(steps.length).fill(null), test: new Array<number | null>(steps.length).fill(null) };
      for (const m of run.metrics) split[m.split][index.get(m.step)!] = value(m);
      columns.push(split.train, smooth(split.train, this.smoothing), ...(this.validation ? [split.validation] : []), split.test);
    }
    return [steps, ...columns] as uPlot.AlignedData;
  }

  private draw(): void {
    this.width = this.container.clientWidth;
    const width = Math.max(200, this.width);
    // A fixed plot height: the legend below it wraps to as many lines as the runs need.
    const height = 230;
    if (!this.plot) this.validation = this.runs.some((r) => r.metrics.some((m) => m.split === 'validation'));
    const data = this.data();
    // What a reader (or a test) can check without reading pixels: points per run, train/test.
    this.container.dataset.points = this.pointCounts.map((p) => p.join('/')).join(',');
    this.container.dataset.validationPoints = this.validationCounts.join(',');
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const foreground = cssVar('--vscode-foreground', '#ccc');
    const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
    const series: uPlot.Series[] = [{ label: 'step' }];
    const single = this.runs.length === 1;
    this.runs.forEach((run, k) => {
      // One run: train blue, validation green (dotted, hollow points), test orange. Several: a colour per run, its
      // validation curve dotted and its test curve dashed, with points.
      const colour = cssVar(PALETTE[k % PALETTE.length], '#3794ff');
      const validationColour = single ? cssVar('--vscode-charts-green', '#89d185') : colour;
      const testColour = single ? cssVar('--vscode-charts-orange', '#d18616') : colour;
      const label = single ? '' : `${run.name} `;
      series.push(
        { label: `${label}train (raw)`, stroke: colour, alpha: 0.25, width: 1, spanGaps: true, points: { show: false }, class: single ? undefined : 'raw' },
        { label: `${label}train`, stroke: colour, width: 2, spanGaps: true, points: { show: false } },
        ...(this.validation ? [{ label: `${label}validation`, stroke: validationColour, dash: [2, 3], width: 2, spanGaps: true, points: { show: true, size: 7, fill: cssVar('--vscode-editor-background', '#1f1f1f') } }] : []),
        { label: `${label}test`, stroke: testColour, dash: single ? undefined : [6, 4], width: 2, spanGaps: true, points: { show: true, size: 6 } },
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
          // Steps are whole numbers: no tick at step 2.5.
          { ...axis, label: 'step', incrs: STEP_INCREMENTS },
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
