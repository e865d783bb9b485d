#!/usr/bin/env node
import { errorLines, main } from './main';

// Whatever escapes — a failure in a timer or a callback — is still one line on stderr, never a stack trace.
const fail = (error: unknown) => {
  for (const line of errorLines(error)) process.stderr.write(`${line}\n`);
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

main(process.argv).then((code) => process.exit(code));
