/**
 * Experiment files (*.pixel.json): parsed, checked against the JSON Schema the editor also uses, completed with
 * defaults, and checked once more as a whole (the data file is there, an RGB model needs features in multiples
 * of 3, training fits in memory, …). A malformed file is never a crash: every problem comes back at once, each
 * with its line and column and what was expected there, in an ExperimentError.
 *
 * Node only (it reads an IDX file's header to learn its images' shape); the panel's worker uses ./types.
 */
import Ajv from 'ajv';
import { type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { datasetShape, wholeExperimentProblems } from './checks';
import schema from './pixel-experiment.schema.json';
import { type At, describeSyntax, ExperimentError, type ExperimentProblem, instanceSegments, nearestNode, positionIn, schemaProblem, sortProblems } from './problems';
import { conditionalClasses, type DataClasses, defaultFeatures, type Experiment, imageShape } from './types';
import { problemAt } from './problems';

export * from './types';
export { ExperimentError, type ExperimentProblem, problemAt } from './problems';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(schema);

/** An experiment is three levels deep; anything far deeper is refused before a recursive parser sees it. */
const MAX_DEPTH = 32;

/** Parse and check an experiment; throws ExperimentError listing every problem with its position. */
export function parseExperiment(text: string, file: string): Experiment {
  // A UTF-8 byte order mark is not part of the JSON (editors hide it, and count columns without it).
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const at = positionIn(source);
  try {
    return parse(source, file, at);
  } catch (error) {
    if (error instanceof ExperimentError) throw error;
    throw new ExperimentError(file, [at(0, 0, '', `the experiment could not be read: ${(error as Error)?.message ?? String(error)}`)]);
  }
}

function parse(text: string, file: string, at: At): Experiment {
  if (text.trim() === '') throw new ExperimentError(file, [at(0, 0, '', 'the file is empty: an experiment is a JSON object with "model" and "data"')]);
  const deep = tooDeepAt(text);
  if (deep >= 0) throw new ExperimentError(file, [at(deep, 1, '', `JSON nested more than ${MAX_DEPTH} levels deep here; an experiment is an object of objects`)]);
  const syntax: ParseError[] = [];
  const tree = parseTree(text, syntax, { disallowComments: true, allowTrailingComma: false });
  if (syntax.length > 0 || !tree) {
    throw new ExperimentError(file, syntax.map((e) => at(e.offset, e.length, '', describeSyntax(printParseErrorCode(e.error)))));
  }
  let value = JSON.parse(text) as unknown;
  const problems: ExperimentProblem[] = [];
  if (!validate(value)) {
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if'); // ajv reports a failing `if` beside the real error
    problems.push(...errors.map((e) => schemaProblem(e, tree, at)));
    // Drop what was wrong (defaults take its place) so that the checks of the whole experiment still run.
    const rest = withoutFaults(value, errors);
    if (!rest || !validate(rest)) throw new ExperimentError(file, sortProblems(problems));
    value = rest;
  }
  const raw = value as Record<string, Record<string, unknown>>;
  const data = raw.data as unknown as Experiment['data'];
  const own = datasetShape(data, file);
  const channels = data.channels ?? own.shape?.channels ?? 1;
  const experiment: Experiment = {
    name: (raw.name as unknown as string | undefined) ?? defaultName(file),
    ...(raw.description ? { description: raw.description as unknown as string } : {}),
    model: { ...defaultFeatures(channels), ...raw.model } as unknown as Experiment['model'],
    data,
    training: raw.training as unknown as Experiment['training'],
    sampling: raw.sampling as unknown as Experiment['sampling'],
  };
  const found = [...own.problems, ...(own.shape || data.dataset !== 'idx' ? wholeExperimentProblems(experiment, imageShape(experiment, own.shape), own) : [])];
  for (const [path, message] of found) {
    const node = nearestNode(tree, path);
    problems.push(at(node.offset, node.length, path, message));
  }
  if (problems.length) throw new ExperimentError(file, sortProblems(problems));
  return experiment;
}

/** The offset of the first bracket that opens more than MAX_DEPTH levels, or −1 (strings are skipped). */
function tooDeepAt(text: string): number {
  let depth = 0;
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (inString) {
      if (c === 0x5c) k++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return k;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}

/** A copy of the experiment without the values the schema refused; null when what is left cannot be completed. */
function withoutFaults(value: unknown, errors: { instancePath: string; keyword: string; params: Record<string, unknown> }[]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const e of errors) {
    if (e.keyword === 'required') return null;
    const segments = instanceSegments(e as Parameters<typeof instanceSegments>[0]);
    if (e.keyword === 'additionalProperties') segments.push(e.params.additionalProperty as string);
    if (segments.length === 0) return null;
    let parent: unknown = copy;
    for (const s of segments.slice(0, -1)) parent = parent && typeof parent === 'object' && Object.hasOwn(parent, s) ? (parent as Record<string, unknown>)[s] : undefined;
    if (!parent || typeof parent !== 'object') continue;
    delete (parent as Record<string, unknown>)[segments[segments.length - 1]];
  }
  return copy;
}

function defaultName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.pixel\.json$/, '').replace(/\.json$/, '');
}

/**
 * The classes of a conditional experiment from its loaded images (null when it is not conditional); images
 * without labels, or a label past model.classes, are an ExperimentError at model.conditional (or model.classes) of
 * the experiment's text.
 */
export function dataClasses(e: Experiment, set: Parameters<typeof conditionalClasses>[1], file: string, text: string): DataClasses | null {
  try {
    return conditionalClasses(e, set);
  } catch (error) {
    const message = (error as Error).message;
    throw new ExperimentError(file, [problemAt(text, message.startsWith('model.classes') ? 'model.classes' : 'model.conditional', message)]);
  }
}
