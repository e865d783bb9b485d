/**
 * What each message from the panel's worker (worker-protocol.ts) does to the panel: one function per message type,
 * each a change of the state; what the host must hear (steps, checkpoints, samples, the end) is passed on to it.
 */
import { addGrid, beliefsAnswered, hover, refreshBeliefs, workerRestarted } from './actions';
import { toHost } from './host-bridge';
import { curveOf, noField, onView, store, update, withPoints } from './state';
import type { FromWorker } from './worker-protocol';

type Message<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;

export function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case 'backend':
      return backend(m);
    case 'model':
      if (onView(store.state, m.runId)) update({ model: { summary: m.summary }, field: noField, inspection: null, hoverResult: null });
      return;
    case 'field':
      return field(m);
    case 'step':
    case 'eval':
      return point(m);
    case 'samples':
      if (onView(store.state, m.runId)) addGrid(m.step, m.images);
      toHost({ type: 'samples', runId: m.runId, step: m.step, png: m.png });
      return;
    case 'checkpoint':
      toHost(m);
      return;
    case 'ended':
      return ended(m);
    case 'sampling':
      return sampling(m);
    case 'gradient':
      if (m.request === store.state.hoverRequest) update({ hoverResult: { values: m.values } });
      return;
    case 'beliefs': {
      const { type: _type, request, runId, ...beliefs } = m;
      beliefsAnswered(request, runId, { beliefs });
      return;
    }
    case 'beliefsFailed':
      beliefsAnswered(m.request, m.runId, { failure: `what the model believes here could not be computed: ${m.message}` });
      return;
    case 'samplingBeliefs':
      return samplingBeliefs(m);
    case 'log':
      toHost(m);
      return;
    case 'error':
      return error(m);
    case 'fatal':
      workerRestarted(m.message, true);
      return;
  }
}

/** The backend a run got (and the faster ones it could not use, and why). */
function backend(m: Message<'backend'>): void {
  const s = store.state;
  if (onView(s, m.runId) || m.runId === s.trainingRunId) update({ backend: { choosing: false, info: m.info } });
  if (m.runId === s.trainingRunId) toHost({ type: 'backend', runId: m.runId, info: m.info });
}

/** The structural field asked for on a hover: the hovered pixel is inspected again with it. */
function field(m: Message<'field'>): void {
  const s = store.state;
  if (!onView(s, m.runId) || !s.model.summary) {
    update({ field: { ...s.field, asked: false } }); // for another run, or dropped: the next hover asks again
    return;
  }
  if (m.bits) {
    update({ field: { ...s.field, bits: m.bits } });
    const last = store.state.hover;
    if (last) hover(last.hit, last.grid);
  } else {
    update({ field: { ...s.field, unavailable: m.why } });
  }
}

/** A training step or an evaluation: the host writes every point; the chart shows it only if this run is on it. */
function point(m: Message<'step'> | Message<'eval'>): void {
  const s = store.state;
  const curve = curveOf(s, m.runId);
  const split = m.type === 'step' ? 'train' : (m.split ?? 'test');
  const chart = curve >= 0 ? withPoints(s, curve, [{ step: m.step, split, nats: m.nats, bitsPerDim: m.bitsPerDim }]) : s.chart;
  if (m.type === 'step' && onView(s, m.runId) && !s.stopping) update({ chart, status: `step ${m.step}/${s.view!.experiment.training.steps}` });
  else update({ chart });
  // The model in training on view moved on since its beliefs were asked for: ask again at each test evaluation.
  if (m.type === 'eval' && split === 'test' && m.runId === s.trainingRunId && onView(s, m.runId)) refreshBeliefs(false);
  toHost(m.type === 'eval' ? { ...m, split: m.split ?? 'test' } : m);
}

function ended(m: Message<'ended'>): void {
  const s = store.state;
  if (m.runId === s.trainingRunId) {
    // A field put off while training can be computed now.
    update({ trainingRunId: null, stopping: false, ...(s.field.bits ? {} : { field: { ...s.field, asked: false } }) });
    // Its last weights: what it believes, asked again.
    if (onView(s, m.runId)) refreshBeliefs(true);
  }
  if (onView(s, m.runId)) update({ view: { ...s.view!, status: m.status }, status: m.status, ...(m.error ? { error: m.error } : {}) });
  toHost(m);
}

function sampling(m: Message<'sampling'>): void {
  const s = store.state;
  const classes = s.sampling?.runId === m.runId ? s.sampling.classes : undefined;
  if (m.done && s.sampling?.runId === m.runId) {
    // Done, on view or not: the panel is free again (and the host hears of what it asked for).
    if (s.sampling.fromHost) toHost({ type: 'sampled', runId: m.runId, count: m.images.count });
    update({ sampling: null, status: s.view?.status ?? 'idle', drawing: null });
  }
  if (!onView(s, m.runId)) return;
  update({
    samples: { images: m.images, drawn: m.done ? Infinity : m.upTo + 1, ...(classes ? { classes } : {}) },
    samplesNote: m.done ? `${m.images.count} new samples at temperature ${s.temperature.toFixed(2)}${s.keepRows ? `, completing ${s.keepRows} kept rows` : ''}.` : `drawing pixel ${m.upTo + 1} of ${m.images.height * m.images.width}…`,
  });
}

/** While sampling: what the pixel just drawn in the first image came from (all its channels). */
function samplingBeliefs(m: Message<'samplingBeliefs'>): void {
  const s = store.state;
  if (!onView(s, m.runId) || s.sampling?.runId !== m.runId) return;
  const channels = s.model.summary?.channels ?? s.view!.experiment.data.channels ?? 1;
  const per = m.binary ? 1 : m.levels;
  update({ drawing: { i: m.i, j: m.j, levels: m.levels, binary: m.binary, probabilities: m.probabilities.slice(0, channels * per) } });
}

/** A request failed, and it alone: say why, and leave the panel usable. */
function error(m: Message<'error'>): void {
  const s = store.state;
  const sampling = m.task === 'sample' ? { sampling: null, drawing: null } : {};
  if (m.task === 'gradient' || m.task === 'field') {
    // Hover work: said in the inspector, for the latest hover only; never a notification per hover.
    const failure = m.task === 'field' ? `the structural map could not be computed: ${m.message}` : `the gradient map failed: ${m.message}`;
    update({
      ...(m.task === 'field' ? { field: { ...s.field, asked: false } } : {}),
      ...(m.task === 'field' || m.request === s.hoverRequest ? { hoverResult: { failure } } : {}),
    });
    return;
  }
  if (m.task === 'sample' && m.message.startsWith('cancelled')) {
    update({ ...sampling, samplesNote: 'Sampling stopped: a training run started.', status: s.view?.status ?? 'idle' });
    return;
  }
  const what = { load: 'Loading the model', sample: 'Sampling', train: 'Training' }[m.task];
  const message = `${what} failed: ${m.message}`;
  update({
    ...sampling,
    ...(m.task === 'sample' || m.task === 'load' ? { samplesNote: message } : {}),
    ...(m.task === 'load' || (m.task === 'sample' && !s.model.summary) ? { modelNote: `No model on view: ${message}` } : {}),
    error: message,
    status: s.view?.status ?? 'idle',
  });
  toHost({ type: 'problem', task: m.task, ...(m.runId ? { runId: m.runId } : {}), message });
}
