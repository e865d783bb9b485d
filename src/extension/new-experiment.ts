/**
 * New Experiment's file: an example's text with its "$schema" line removed (it points into the extension's dist
 * folder, which the user's workspace does not have; the extension gives every *.pixel.json the schema) and its
 * "name" set to the new file's name, the rest of the text — comments, layout — as the example has it.
 */
import { applyEdits, modify } from 'jsonc-parser';

export function newExperimentText(example: string, name: string): string {
  const formatting = { insertSpaces: true, tabSize: 2, eol: '\n' };
  let text = applyEdits(example, modify(example, ['$schema'], undefined, { formattingOptions: formatting }));
  text = applyEdits(text, modify(text, ['name'], name, { formattingOptions: formatting }));
  return text;
}
