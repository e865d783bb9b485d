/** Writing files so that a failure leaves nothing half-done and says, in plain words, which file and what happened. */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';

/** A file-system error in plain words: what went wrong with which file. */
export class WriteError extends Error {
  constructor(readonly file: string, readonly code: string | undefined, cause: unknown) {
    super(`could not write ${file}: ${plainReason(code, cause)}`);
    this.name = 'WriteError';
  }
}

function plainReason(code: string | undefined, cause: unknown): string {
  switch (code) {
    case 'ENOSPC': return 'the disk is full';
    case 'EDQUOT': return 'the disk quota is used up';
    case 'EROFS': return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'ENOENT': return 'its folder no longer exists (was the run folder moved or deleted?)';
    case 'EISDIR': return 'a folder is in the way';
    case 'ENOTDIR': return 'part of its path is a file, not a folder';
    case 'EIO': return 'an input/output error on the disk';
    default: return (cause as Error)?.message ?? String(cause);
  }
}

/**
 * Write a whole file so that readers see the old or the new content, never a part. On failure the temporary file is
 * removed, the old content stays, and a WriteError says which file and what happened.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`; // unique across processes and threads
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    throw new WriteError(file, (error as NodeJS.ErrnoException).code, error);
  }
}

/** Append to a file; on failure cut it back to its old length (no half line) and throw a WriteError. */
export function appendWhole(file: string, text: string): void {
  const before = existsSync(file) ? statSync(file).size : 0;
  try {
    appendFileSync(file, text);
  } catch (error) {
    try {
      if (existsSync(file)) truncateSync(file, before);
    } catch {
      // the file cannot be touched at all: the reader skips a torn last line
    }
    throw new WriteError(file, (error as NodeJS.ErrnoException).code, error);
  }
}

/** Create `dir` and fail if it exists already; any other failure as a WriteError. */
export function mkdirExclusive(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new WriteError(dir, code, error);
  }
}

