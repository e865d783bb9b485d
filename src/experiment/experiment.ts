/**
 * Experiment files (*.pixel.json): parsed, checked against the JSON Schema the editor also uses, completed with
 * defaults, and checked once more as a whole (an RGB model needs features in multiples of 3, …). A malformed file
 * is never a crash: every problem comes back with its line and column and what was expected there.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { findNodeAtLocation, type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { configProblems } from '../model/config';
import schema from './pixel-experiment.schema.json';
import { DATASET_SHAPES, type Experiment, modelConfigOf } from './types';

export * from './types';

export interface ExperimentProblem {
  readonly message: string;
  /** 1-based, as editors show them. */
  readonly line: number;
  readonly column: number;
  /** Where in the file: offset and length of the offending text. */
  readonly offset: number;
  readonly length: number;
  /** JSON path, e.g. "model.hidden" ("" for the whole file). */
  readonly path: string;
}

export class ExperimentError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ExperimentProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n'));
    this.name = 'ExperimentError';
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(schema);

/** Parse and check an experiment; throws ExperimentError listing every problem with its position. */
export function parseExperiment(text: string, file: string): Experiment {
  if (text.trim() === '') {
    throw new ExperimentError(file, [positionIn(text)(0, 0, '', 'the file is empty: an experiment is a JSON object with "model" and "data"')]);
  }
  const syntax: ParseError[] = [];
  const tree = parseTree(text, syntax, { disallowComments: true, allowTrailingComma: false });
  const at = positionIn(text);
  if (syntax.length > 0 || !tree) {
    throw new ExperimentError(file, syntax.map((e) => at(e.offset, e.length, '', describeSyntax(printParseErrorCode(e.error)))));
  }
  const value = JSON.parse(text) as unknown;
  if (!validate(value)) {
    throw new ExperimentError(file, sortProblems((validate.errors ?? []).filter(notNoise).map((e) => schemaProblem(e, tree, at))));
  }
  const raw = value as Record<string, Record<string, unknown>>;
  const experiment: Experiment = {
    name: (raw.name as unknown as string) ?? defaultName(file),
    ...(raw.description ? { description: raw.description as unknown as string } : {}),
    model: raw.model as unknown as Experiment['model'],
    data: raw.data as unknown as Experiment['data'],
    training: raw.training as unknown as Experiment['training'],
    sampling: raw.sampling as unknown as Experiment['sampling'],
  };
  const problems = wholeFileProblems(experiment).map(([path, message]) => {
    const node = findNodeAtLocation(tree, path.split('.')) ?? findNodeAtLocation(tree, path.split('.').slice(0, 1)) ?? tree;
    return at(node.offset, node.length, path, message);
  });
  if (problems.length) throw new ExperimentError(file, problems);
  return experiment;
}

/** A problem at a JSON path of the experiment's text (the nearest enclosing value that exists), for checks made
 *  after parsing — a dataset path that does not exist, say. */
export function problemAt(text: string, path: string, message: string): ExperimentProblem {
  const tree = parseTree(text);
  const segments = path.split('.');
  let node: Node | undefined;
  for (let k = segments.length; k > 0 && !node; k--) node = tree ? findNodeAtLocation(tree, segments.slice(0, k)) : undefined;
  const target = node ?? tree;
  return positionIn(text)(target?.offset ?? 0, target?.length ?? 0, path, message);
}

function defaultName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.pixel\.json$/, '').replace(/\.json$/, '');
}

/** Problems only the whole experiment shows: the model must fit the images it will see. */
function wholeFileProblems(e: Experiment): [string, string][] {
  const problems: [string, string][] = [];
  const channels = e.data.channels ?? (e.data.dataset === 'idx' ? 1 : DATASET_SHAPES[e.data.dataset].channels);
  const image = { height: e.data.height ?? 28, width: e.data.width ?? 28, channels };
  const fieldOf: Record<string, string> = { 'image.channels': 'data.channels', 'image.height': 'data.height', 'image.width': 'data.width', 'head.levels': 'data.levels' };
  for (const message of configProblems(modelConfigOf(e, image))) {
    const field = message.split(' ')[0];
    problems.push([fieldOf[field] ?? `model.${field}`, message.replace(/^(\S+)/, (f) => fieldOf[f] ?? `model.${f}`)]);
  }
  if (e.data.binarize === 'fixed' && e.data.levels > 2) problems.push(['data.binarize', 'data.binarize applies to 2 levels only; with more levels the values are quantised']);
  return problems;
}

type At = (offset: number, length: number, path: string, message: string) => ExperimentProblem;

function positionIn(text: string): At {
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') lineStarts.push(k + 1);
  return (offset, length, path, message) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    return { message, line: line + 1, column: offset - lineStarts[line] + 1, offset, length, path };
  };
}

function describeSyntax(code: string): string {
  const words: Record<string, string> = {
    InvalidSymbol: 'this is not valid JSON here',
    InvalidNumberFormat: 'this number is not valid JSON',
    PropertyNameExpected: 'a property name in double quotes is expected',
    ValueExpected: 'a value is expected',
    ColonExpected: 'a colon is expected after the property name',
    CommaExpected: 'a comma is expected between entries',
    CloseBraceExpected: 'a closing } is expected',
    CloseBracketExpected: 'a closing ] is expected',
    EndOfFileExpected: 'nothing may follow the JSON object',
    InvalidCommentToken: 'comments are not allowed in JSON',
    UnexpectedEndOfComment: 'comments are not allowed in JSON',
    UnexpectedEndOfString: 'this string is not closed',
    UnexpectedEndOfNumber: 'this number is cut short',
    InvalidUnicode: 'this unicode escape is not valid',
    InvalidEscapeCharacter: 'this escape sequence is not valid',
    InvalidCharacter: 'this character is not allowed here',
  };
  return `JSON syntax: ${words[code] ?? code}`;
}

/** ajv reports an `if` failing alongside the real error; only the real one helps. */
function notNoise(e: ErrorObject): boolean {
  return e.keyword !== 'if';
}

function sortProblems(problems: ExperimentProblem[]): ExperimentProblem[] {
  return problems.sort((a, b) => a.offset - b.offset);
}

function schemaProblem(e: ErrorObject, tree: Node, at: At): ExperimentProblem {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = segments.join('.');
  const where = path || 'the experiment';
  const node = findNodeAtLocation(tree, segments) ?? tree;
  const params = e.params as Record<string, unknown>;
  const got = node.type === 'string' ? JSON.stringify(node.value) : node.type === 'object' || node.type === 'array' ? `an ${node.type}` : String(node.value);
  switch (e.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = params.additionalProperty as string;
      const property = node.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0] ?? node;
      const allowed = Object.keys(propertiesAt(segments));
      return at(property.offset, property.length, path ? `${path}.${key}` : key, `unknown key "${key}" in ${where}; expected one of: ${allowed.join(', ')}`);
    }
    case 'required':
      return at(node.offset, 1, path, `${where} is missing "${params.missingProperty as string}"${segments[0] === 'data' && params.missingProperty === 'path' ? ' (the file or folder to read, for idx and folder datasets)' : ''}`);
    case 'type':
      return at(node.offset, node.length, path, `${where} must be ${article(params.type as string)}, got ${got}`);
    case 'enum':
      return at(node.offset, node.length, path, `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}; got ${got}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const sign = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
      return at(node.offset, node.length, path, `${where} must be ${sign} ${params.limit as number}, got ${got}`);
    }
    case 'minLength':
      return at(node.offset, node.length, path, `${where} must not be empty`);
    default:
      return at(node.offset, node.length, path, `${where} ${e.message ?? 'is not valid'}`);
  }
}

function article(type: string): string {
  return { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'an object', array: 'an array' }[type] ?? type;
}

function propertiesAt(segments: string[]): Record<string, unknown> {
  let s = schema as unknown as { properties?: Record<string, unknown> };
  for (const seg of segments) s = (s.properties?.[seg] ?? {}) as typeof s;
  return s.properties ?? {};
}
