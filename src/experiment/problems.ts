/**
 * Problems in an experiment file: where they are (1-based line and column, as editors show them) and how each
 * kind of mistake is put in words — JSON syntax, the schema's checks, and checks made after parsing.
 */
import type { ErrorObject } from 'ajv';
import { findNodeAtLocation, type Node, parseTree } from 'jsonc-parser';
import schema from './pixel-experiment.schema.json';

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

export type At = (offset: number, length: number, path: string, message: string) => ExperimentProblem;

/** Positions in `text`, from offsets. */
export function positionIn(text: string): At {
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') lineStarts.push(k + 1);
  return (offset, length, path, message) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { message: oneLine(message), line: lo + 1, column: offset - lineStarts[lo] + 1, offset, length, path };
  };
}

/** Each problem is one line of output (`file:line:column: message`): line breaks from the file (in a key, a path)
 *  are written as JSON escapes. */
function oneLine(message: string): string {
  return message.replace(/[\r\n\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** The node at a JSON path, else the nearest enclosing one that exists, else the whole document. */
export function nearestNode(tree: Node, path: string): Node {
  const segments = path === '' ? [] : path.split('.');
  for (let k = segments.length; k > 0; k--) {
    const node = findNodeAtLocation(tree, segments.slice(0, k));
    if (node) return node;
  }
  return tree;
}

/** A problem at a JSON path of the experiment's text (the nearest enclosing value that exists), for checks made
 *  after parsing — a dataset path that does not exist, say. */
export function problemAt(text: string, path: string, message: string): ExperimentProblem {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const tree = parseTree(source);
  const target = tree ? nearestNode(tree, path) : undefined;
  return positionIn(source)(target?.offset ?? 0, target?.length ?? 0, path, message);
}

export function sortProblems(problems: ExperimentProblem[]): ExperimentProblem[] {
  return problems.sort((a, b) => a.offset - b.offset);
}

export function describeSyntax(code: string): string {
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

/** The JSON path segments of a schema error's instance. */
export function instanceSegments(e: ErrorObject): string[] {
  return e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A schema error in words, at the value it is about. */
export function schemaProblem(e: ErrorObject, tree: Node, at: At): ExperimentProblem {
  const segments = instanceSegments(e);
  const path = segments.join('.');
  const where = path || 'the experiment';
  const node = findNodeAtLocation(tree, segments) ?? tree;
  const params = e.params as Record<string, unknown>;
  const got = describeValue(node);
  switch (e.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = params.additionalProperty as string;
      const property = node.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0] ?? node;
      const allowed = Object.keys(propertiesAt(segments));
      return at(property.offset, property.length, path ? `${path}.${key}` : key, `unknown key ${JSON.stringify(key)} in ${where}; expected one of: ${allowed.join(', ')}`);
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
    case 'pattern':
      if (path === 'name') {
        return at(node.offset, node.length, path, `name must be a plain folder name: letters, digits, '.', '-', '_' (starting with a letter or digit, at most 100 characters), got ${got}`);
      }
      return at(node.offset, node.length, path, `${where} must match ${params.pattern as string}, got ${got}`);
    default:
      return at(node.offset, node.length, path, `${where} ${e.message ?? 'is not valid'}`);
  }
}

/** A value as the message quotes it: strings in quotes (shortened), objects and arrays by their kind. */
function describeValue(node: Node): string {
  if (node.type === 'object' || node.type === 'array') return `an ${node.type}`;
  const text = node.type === 'string' ? JSON.stringify(node.value) : String(node.value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function article(type: string): string {
  return { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'an object', array: 'an array' }[type] ?? type;
}

function propertiesAt(segments: string[]): Record<string, unknown> {
  let s = schema as unknown as { properties?: Record<string, unknown> };
  for (const seg of segments) s = (s.properties?.[seg] ?? {}) as typeof s;
  return s.properties ?? {};
}
