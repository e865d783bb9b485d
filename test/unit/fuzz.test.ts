/**
 * Fuzzing the two gates of bad input (seeded, so a failure replays):
 *  - the experiment parser, on random mutations of every shipped example: it returns an experiment or throws an
 *    ExperimentError whose every problem has a real line and column and renders as `file:line:column: message`;
 *  - the host ↔ panel validators: they never throw, accept every well-formed message, and refuse every message
 *    with one field broken (a wrong type or value, a field missing, an unknown field, an unknown message type).
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentError, parseExperiment } from '../../src/experiment/experiment';
import { validateHostMessage, validatePanelMessage } from '../../src/protocol';

// A longer or different run by hand: FUZZ_RUNS=20000 FUZZ_SEED=7 npx vitest run test/unit/fuzz.test.ts
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const EXAMPLES = path.resolve(__dirname, '../../examples');
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.pixel.json'))
  .map((f) => ({ file: path.join(EXAMPLES, f), text: readFileSync(path.join(EXAMPLES, f), 'utf8') }));

// ---------------------------------------------------------------------------------------------------------------
// The experiment parser.

/** Keys that mean something to JavaScript objects, beside random ones. */
const trickyKey = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'model', 'type', 'data', '$schema');
/** Number tokens JSON.stringify cannot write: written into the text in place of a marker string. */
const RAW = '@@raw@@';
const rawNumber = fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '0.5', '-1', '4.000000000000001', '1E3', '9007199254740993');
const replacement = fc.oneof(
  // Mostly values of the right kind, so that the checks after the schema's are reached too.
  { arbitrary: fc.integer({ min: -3, max: 600 }), weight: 4 },
  { arbitrary: fc.constantFrom('emoji', 'idx', 'folder', 'mnist', 'rmsprop', 'row-lstm', 'diagonal-bilstm', 'gated-pixelcnn', 'fixed', 'webgpu', 'examples'), weight: 2 },
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(0, -1, 0.5, -0.5, 1e308, -1e308, 2 ** 53, 2 ** 31, 4097, 129, 257, 513, 65, 100_000_000, true, false, null, '', 'idx', 'folder', '.', '..', '/dev/null', 'a/../../b'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1, max: 2000 }).map((n) => 'x'.repeat(n * 50)),
  fc.integer({ min: 1, max: 60 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
  fc.constant(RAW),
);

type Json = Record<string, unknown>;
/** Paths of every object and value in a parsed example, e.g. ["model", "hidden"]. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value).flatMap((k) => [[...prefix, k], ...pathsOf((value as Json)[k], [...prefix, k])]);
}

function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface ValueMutation {
  kind: 'replace' | 'add' | 'delete' | 'nest';
  pick: number;
  key: string;
  value: unknown;
}
interface TextMutation {
  kind: 'delete' | 'duplicate' | 'replace' | 'insert';
  at: number;
  length: number;
  text: string;
}

const valueMutation: fc.Arbitrary<ValueMutation> = fc.record({
  kind: fc.constantFrom('replace', 'replace', 'add', 'delete', 'nest'),
  pick: fc.nat(),
  key: fc.oneof(trickyKey, fc.string({ maxLength: 12 })),
  value: replacement,
});

const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constantFrom('delete', 'duplicate', 'replace', 'insert'),
  at: fc.nat(),
  length: fc.integer({ min: 1, max: 40 }),
  text: fc.oneof(fc.constantFrom(...'{}[]":,\\ \n\r\t0123456789e.+-tfnul/*\ufeff\u0000\u2028'.split('')), fc.string({ unit: 'binary', maxLength: 4 }), fc.json({ maxDepth: 2 })),
});

/** One example, changed as the mutations say. */
function mutate(text: string, values: ValueMutation[], edits: TextMutation[], indent: number | string, raw: string): string {
  const root = JSON.parse(text) as Json;
  for (const m of values) {
    // Half the time a field of the model or the data: their values meet the most checks.
    const all = pathsOf(root);
    const inner = all.filter((p) => p.length === 2 && (p[0] === 'model' || p[0] === 'data'));
    const paths = m.pick % 2 === 0 && inner.length > 0 ? inner : all;
    const target = paths[Math.floor(m.pick / 2) % Math.max(1, paths.length)] ?? [];
    const parent = target.slice(0, -1).reduce<Json>((o, k) => o[k] as Json, root);
    const key = target[target.length - 1];
    if (m.kind === 'replace' && key !== undefined) setOwn(parent, key, m.value);
    else if (m.kind === 'delete' && key !== undefined) delete parent[key];
    else if (m.kind === 'nest' && key !== undefined) setOwn(parent, key, [[[[parent[key]]]]]);
    else {
      const holder = parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key]) ? (parent[key] as Json) : parent;
      setOwn(holder, m.key, m.value);
    }
  }
  let out = JSON.stringify(root, null, indent).split(JSON.stringify(RAW)).join(raw);
  for (const e of edits) {
    const at = e.at % (out.length + 1);
    if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
    else if (e.kind === 'duplicate') out = out.slice(0, at + e.length) + out.slice(at, at + e.length) + out.slice(at + e.length);
    else if (e.kind === 'replace') out = out.slice(0, at) + e.text + out.slice(at + e.text.length);
    else out = out.slice(0, at) + e.text + out.slice(at);
  }
  return out;
}

/** Null when the outcome is one the parser may give; else what is wrong with it. */
function outcomeProblem(text: string, file: string): string | null {
  try {
    parseExperiment(text, file);
    return null;
  } catch (error) {
    if (!(error instanceof ExperimentError)) return `threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.stack ?? String(error)}`;
    if (error.problems.length === 0) return 'an ExperimentError without problems';
    const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
    for (const p of error.problems) {
      if (!Number.isInteger(p.line) || p.line < 1 || p.line > lines.length) return `line ${p.line} of ${lines.length}: ${p.message}`;
      if (!Number.isInteger(p.column) || p.column < 1 || p.column > lines[p.line - 1].length + 1) return `column ${p.column} on line ${p.line}: ${p.message}`;
      if (typeof p.message !== 'string' || p.message.trim() === '' || /[\n\r]/.test(p.message)) return `message ${JSON.stringify(p.message)}`;
    }
    const rendered = error.problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n');
    if (error.message !== rendered) return `rendered as ${JSON.stringify(error.message)}`;
    if (/\n\s+at /.test(error.message)) return 'a stack trace in the message';
    return null;
  }
}

describe('fuzzing the experiment parser', () => {
  it('every shipped example, untouched, is accepted', () => {
    for (const { file, text } of examples) expect(outcomeProblem(text, file)).toBeNull();
    expect(examples.length).toBeGreaterThanOrEqual(7);
  });

  it(`never anything but an ExperimentError with positions (${RUNS} mutated examples)`, () => {
    let refused = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: examples.length - 1 }),
        fc.array(valueMutation, { maxLength: 4 }),
        fc.oneof({ arbitrary: fc.constant<TextMutation[]>([]), weight: 3 }, { arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 2 }), weight: 1 }),
        fc.constantFrom<number | string>(0, 2, 4, '\t'),
        rawNumber,
        fc.boolean(),
        (which, values, edits, indent, raw, bom) => {
          const { file } = examples[which];
          const text = (bom ? '\ufeff' : '') + mutate(examples[which].text, values, edits, indent, raw);
          const problem = outcomeProblem(text, file);
          if (problem) throw new Error(`${problem}\n--- input ---\n${text.slice(0, 2000)}`);
          try {
            parseExperiment(text, file);
          } catch {
            refused++;
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    // The mutations reach past the syntax check: many inputs are refused, and some are not.
    expect(refused).toBeGreaterThan(RUNS / 4);
    expect(refused).toBeLessThan(RUNS);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The host ↔ panel validators. The message shapes are written out again here, from the protocol's types, so that
// the test states what a well-formed message is independently of the validator's own tables.

type Kind =
  | 'string'
  | 'finite'
  | 'count'
  | 'positive'
  | 'bool'
  | 'bytes'
  | 'temperature'
  | 'imageBatch'
  | { oneOf: readonly string[] }
  | { nullable: Kind }
  | { optional: Kind }
  | { list: Kind }
  | { shape: Record<string, Kind> };

const metric: Kind = { shape: { step: 'count', split: { oneOf: ['train', 'test'] }, nats: 'finite', bitsPerDim: 'finite' } };
const runView: Kind = {
  shape: {
    runId: 'string',
    name: 'string',
    status: { oneOf: ['running', 'finished', 'stopped', 'failed', 'interrupted'] },
    step: 'count',
    steps: 'count',
    backend: { optional: 'string' },
    metrics: { list: metric },
    grids: { list: { shape: { step: 'count', png: 'bytes' } } },
    experiment: 'string',
    checkpoint: { nullable: 'bytes' },
    dataset: { nullable: 'imageBatch' },
    datasetError: { optional: 'string' },
  },
};
const HOST: Record<string, Record<string, Kind>> = {
  show: { run: runView },
  compare: { runs: { list: runView } },
  train: { runId: 'string', name: 'string', experiment: 'string', images: 'imageBatch', checkpoint: { nullable: 'bytes' }, metrics: { list: metric }, backend: { oneOf: ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] } },
  stop: { runId: 'string' },
  abandon: { runId: 'string', reason: 'string' },
  dataset: { runId: 'string', images: { nullable: 'imageBatch' }, error: { optional: 'string' } },
  news: { runId: 'string', metrics: { list: metric }, grids: { list: { shape: { step: 'count', png: 'bytes' } } }, status: { oneOf: ['running', 'finished', 'stopped', 'failed', 'interrupted'] }, step: 'count' },
  sample: { run: runView, count: 'positive', temperature: 'temperature', seed: 'count', keepRows: 'count' },
};
const PANEL: Record<string, Record<string, Kind>> = {
  ready: {},
  started: { runId: 'string' },
  rejected: { messageType: 'string', runId: { optional: 'string' }, reason: 'string' },
  problem: { task: 'string', runId: { optional: 'string' }, message: 'string' },
  sampled: { runId: 'string', count: 'positive' },
  backend: { runId: 'string', info: { shape: { name: 'string', adapter: 'string', fallbacks: { list: { shape: { name: 'string', reason: 'string' } } } } } },
  step: { runId: 'string', step: 'positive', nats: 'finite', bitsPerDim: 'finite', imagesPerSecond: 'finite', seconds: 'finite' },
  eval: { runId: 'string', step: 'positive', nats: 'finite', bitsPerDim: 'finite', images: 'positive', best: 'bool' },
  samples: { runId: 'string', step: 'count', png: 'bytes' },
  checkpoint: { runId: 'string', step: 'count', kinds: { list: { oneOf: ['latest', 'best'] } }, bytes: 'bytes' },
  ended: { runId: 'string', status: { oneOf: ['finished', 'stopped', 'failed'] }, step: 'count', error: { optional: 'string' } },
  log: { level: { oneOf: ['info', 'warn', 'error'] }, message: 'string' },
};

const hugeString = fc.integer({ min: 1, max: 20 }).map((n) => 'é'.repeat(n * 50_000));
const anyString = fc.string({ unit: 'binary', maxLength: 30 });

function valid(kind: Kind): fc.Arbitrary<unknown> {
  if (typeof kind === 'string') {
    switch (kind) {
      case 'string':
        return anyString;
      case 'finite':
        return fc.double({ noNaN: true, noDefaultInfinity: true });
      case 'count':
        return fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 53 - 1));
      case 'positive':
        return fc.integer({ min: 1, max: 2 ** 31 });
      case 'bool':
        return fc.boolean();
      case 'bytes':
        return fc.uint8Array({ maxLength: 64 });
      case 'temperature':
        return fc.double({ min: 1e-9, max: 1e6, noNaN: true });
      case 'imageBatch':
        return fc
          .record({ count: fc.integer({ min: 1, max: 3 }), height: fc.integer({ min: 1, max: 5 }), width: fc.integer({ min: 1, max: 5 }), channels: fc.constantFrom(1, 3) })
          .map((b) => ({ ...b, data: new Uint8Array(b.count * b.height * b.width * b.channels) }));
    }
  }
  if ('oneOf' in kind) return fc.constantFrom(...kind.oneOf);
  if ('nullable' in kind) return fc.oneof(fc.constant(null), valid(kind.nullable));
  if ('optional' in kind) return fc.oneof(fc.constant(undefined), valid(kind.optional));
  if ('list' in kind) return fc.array(valid(kind.list), { maxLength: 3 });
  const keys = Object.keys(kind.shape);
  return fc.tuple(...keys.map((k) => valid(kind.shape[k]))).map((values) => {
    const out: Record<string, unknown> = {};
    // An optional field left undefined is left out, as structured cloning would.
    keys.forEach((k, i) => values[i] !== undefined && setOwn(out, k, values[i]));
    return out;
  });
}

/** Values that are not plain numbers, strings or binary, for breaking any field. */
const oddValues = fc.constantFrom<unknown>(NaN, Infinity, -Infinity, null, true, [], {}, [1, 2], new Uint16Array(2), new Uint8ClampedArray(2), new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), new Date(0), /x/, '1', '', 1.5, -1, 0);

/** A value that `kind` must refuse. */
function invalid(kind: Kind): fc.Arbitrary<unknown> {
  if (typeof kind === 'string') {
    const not = (ok: (v: unknown) => boolean) => fc.oneof(oddValues, fc.anything({ withTypedArray: true, maxDepth: 1 })).filter((v) => !ok(v));
    switch (kind) {
      case 'string':
        return not((v) => typeof v === 'string');
      case 'finite':
        return not((v) => typeof v === 'number' && Number.isFinite(v));
      case 'count':
        return fc.oneof(not((v) => Number.isInteger(v) && (v as number) >= 0), fc.constantFrom(-1, 0.5, -0.25));
      case 'positive':
        return fc.oneof(not((v) => Number.isInteger(v) && (v as number) >= 1), fc.constantFrom(0, -3, 1.5));
      case 'bool':
        return not((v) => typeof v === 'boolean');
      case 'bytes':
        return not((v) => v instanceof Uint8Array);
      case 'temperature':
        return fc.oneof(not((v) => typeof v === 'number' && Number.isFinite(v) && v > 0), fc.constantFrom(0, -0, -1e-9));
      case 'imageBatch':
        return fc.oneof(
          // One field wrong, missing or unknown (channels must be 1 or 3).
          brokenShape({ data: 'bytes', count: 'positive', height: 'positive', width: 'positive', channels: { oneOf: [] } }, valid('imageBatch') as fc.Arbitrary<Record<string, unknown>>),
          // Well-formed fields whose data does not hold count × height × width × channels values.
          fc.tuple(valid('imageBatch'), fc.integer({ min: 1, max: 5 })).map(([b, extra]) => ({ ...(b as object), data: new Uint8Array((b as { data: Uint8Array }).data.length + extra) })),
        );
    }
  }
  if ('oneOf' in kind) return fc.oneof(oddValues, anyString).filter((v) => !kind.oneOf.includes(v as string));
  if ('nullable' in kind) return invalid(kind.nullable).filter((v) => v !== null);
  if ('optional' in kind) return invalid(kind.optional).filter((v) => v !== undefined);
  if ('list' in kind) {
    return fc.oneof(
      fc.oneof(oddValues, anyString, fc.uint8Array({ maxLength: 4 })).filter((v) => !Array.isArray(v)),
      fc.tuple(fc.array(valid(kind.list), { maxLength: 3 }), invalid(kind.list), fc.nat()).map(([items, bad, at]) => {
        const out = [...items];
        out.splice(at % (items.length + 1), 0, bad);
        return out;
      }),
    );
  }
  return brokenShape(kind.shape);
}

/** An object of this shape with one thing wrong: not an object, a field broken or missing, or an unknown field. */
function brokenShape(fields: Record<string, Kind>, base = valid({ shape: fields }) as fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields);
  const required = keys.filter((k) => !(typeof fields[k] === 'object' && 'optional' in (fields[k] as object)));
  const options: fc.Arbitrary<unknown>[] = [
    fc.tuple(base, fc.oneof(trickyKey, fc.string({ minLength: 1, maxLength: 10 })).filter((k) => !keys.includes(k)), fc.jsonValue({ maxDepth: 1 })).map(([o, key, value]) => {
      setOwn(o, key, value);
      return o;
    }),
  ];
  if (required.length > 0) {
    // Not an object at all (every shape has a required field, so `{}` and arrays, typed arrays, dates… are wrong).
    options.push(fc.oneof(oddValues, anyString, fc.uint8Array({ maxLength: 4 })));
    options.push(
      fc.tuple(base, fc.integer({ min: 0, max: required.length - 1 })).map(([o, i]) => {
        delete o[required[i]];
        return o;
      }),
    );
  }
  if (keys.length > 0) {
    options.push(
      fc.integer({ min: 0, max: keys.length - 1 }).chain((i) =>
        fc.tuple(base, invalid(fields[keys[i]])).map(([o, bad]) => {
          setOwn(o, keys[i], bad);
          return o;
        }),
      ),
    );
  }
  return fc.oneof(...options);
}

function messages(table: Record<string, Record<string, Kind>>) {
  const types = Object.keys(table);
  const ofType = (type: string) => (valid({ shape: table[type] }) as fc.Arbitrary<Record<string, unknown>>).map((m) => ({ type, ...m }));
  const good = fc.constantFrom(...types).chain(ofType);
  const bad = fc.oneof(
    fc.constantFrom(...types).chain((type) => brokenShape({ type: { oneOf: [type] }, ...table[type] }, ofType(type))),
    // An unknown type (or none), with the fields of a real one.
    fc.tuple(fc.constantFrom(...types), fc.oneof(trickyKey, anyString, oddValues).filter((t) => !types.includes(t as string))).chain(([real, type]) =>
      (valid({ shape: table[real] }) as fc.Arbitrary<Record<string, unknown>>).map((m) => ({ ...m, type })),
    ),
  );
  return { good, bad };
}

const anyValue = fc.oneof(
  fc.anything({ withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true, withMap: true, withSet: true, withDate: true, stringUnit: 'binary', maxDepth: 4 }),
  hugeString,
  oddValues,
  fc.record({ type: fc.oneof(trickyKey, fc.constantFrom(...Object.keys(HOST), ...Object.keys(PANEL))), run: fc.anything({ withTypedArray: true }), runs: fc.anything(), images: fc.anything({ withTypedArray: true }) }),
);

describe.each([
  ['host → panel', HOST, validateHostMessage],
  ['panel → host', PANEL, validatePanelMessage],
] as const)('fuzzing the %s validator', (_name, table, check) => {
  const { good, bad } = messages(table);

  it(`never throws, whatever arrives (${RUNS} values)`, () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        const result = check(v);
        return typeof result.ok === 'boolean' && (result.ok || typeof result.reason === 'string');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it(`accepts every well-formed message (${RUNS})`, () => {
    fc.assert(
      fc.property(good, (m) => {
        const result = check(m);
        if (!result.ok) throw new Error(`refused ${show(m)}: ${result.reason}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it(`refuses every message with one thing wrong (${RUNS})`, () => {
    fc.assert(
      fc.property(bad, (m) => {
        const result = check(m);
        if (result.ok) throw new Error(`accepted ${show(m)}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

function show(m: unknown): string {
  return fc.stringify(m).slice(0, 600);
}
