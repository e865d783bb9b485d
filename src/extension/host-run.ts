/**
 * Training on the extension host's machine instead of in the panel: `pixel-lab train` (Node: WebGPU through Dawn
 * where there is a GPU, else wasm) or the PyTorch twin (`python3 -m pixel_lab.train`, CUDA where there is one), as a
 * child process the host owns. This is what Remote-SSH, WSL and dev-container users need: there the panel runs on
 * their laptop while the GPU sits on the server. The child writes its own run folder; the panel follows it from its
 * files. Stop asks the child to stop after its step (SIGINT); its exit ends the run, and if it died without saying
 * so in run.json, the host records it as failed with the end of what it printed. No `vscode` here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { RunFolder } from '../runs/run-folder';

export type HostTrainer = 'cli' | 'pytorch';

export interface HostCommand {
  readonly command: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
}

/** The command line that trains `file` on this machine. `root` is the extension's folder. */
export function hostCommand(trainer: HostTrainer, file: string, root: string, python = 'python3'): HostCommand {
  if (trainer === 'cli') {
    // In VS Code the host's executable is Electron, which runs as plain Node with ELECTRON_RUN_AS_NODE.
    return { command: process.execPath, args: [path.join(root, 'dist', 'cli.cjs'), 'train', file], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
  }
  const pythonPath = [path.join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  return { command: python, args: ['-m', 'pixel_lab.train', file], env: { ...process.env, PYTHONPATH: pythonPath } };
}

/** Run a `pixel-lab` command on this machine to its end; its exit code and what it printed. */
export function runCli(root: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, env } = hostCommand('cli', '', root);
  return new Promise((resolve) => {
    const child = spawn(command, [path.join(root, 'dist', 'cli.cjs'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (error) => resolve({ code: null, stdout, stderr: `could not start ${command}: ${error.message}` }));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface HostRunEvents {
  /** The run folder exists (the child said so). */
  onRun(run: RunFolder): void;
  /** A line the child printed (for the log). */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  /** The child is gone: its exit code, and how the run ended as run.json says (or as recorded here). */
  onExit(result: { code: number | null; signal: NodeJS.Signals | null; status: string; reason?: string }): void;
}

export class HostRun {
  private readonly child: ChildProcess;
  private run: RunFolder | null = null;
  private readonly tail: string[] = [];
  private stopAsked = false;

  constructor(
    readonly trainer: HostTrainer,
    readonly file: string,
    command: HostCommand,
    private readonly events: HostRunEvents,
  ) {
    this.child = spawn(command.command, command.args, { cwd: path.dirname(file), env: command.env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      this.child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) this.line(line.replace(/\r$/, ''), stream);
      });
    }
    this.child.on('error', (error) => this.exited(null, null, `could not start ${command.command}: ${error.message}`));
    this.child.on('exit', (code, signal) => this.exited(code, signal));
  }

  get folder(): RunFolder | null {
    return this.run;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private line(line: string, stream: 'stdout' | 'stderr'): void {
    if (!line.trim()) return;
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
    this.events.onLine(line, stream);
    const found = /^run folder:\s+(.+)$/.exec(line.trim());
    if (found && !this.run) {
      try {
        this.run = RunFolder.open(found[1]);
        this.events.onRun(this.run);
      } catch {
        // not a run folder after all: the exit says what happened
      }
    }
  }

  /** Stop after the current step, saved (the trainers treat SIGINT so); a second call quits at once. */
  stop(): void {
    this.child.kill(this.stopAsked ? 'SIGTERM' : 'SIGINT');
    this.stopAsked = true;
  }

  private ended = false;

  private exited(code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    const said = this.tail.filter((l) => /error|failed|cannot|could not|Traceback|Error/i.test(l)).at(-1) ?? this.tail.at(-1);
    let status = 'failed';
    let reason = error ?? (code === 0 ? undefined : `the ${this.trainer === 'cli' ? 'pixel-lab' : 'PyTorch'} process exited with ${signal ?? `code ${code}`}${said ? `: ${said}` : ''}`);
    if (this.run) {
      try {
        const info = this.run.info;
        status = info.status;
        if (info.status === 'running') {
          // It died without saying so: record it, with what it last printed.
          this.run.update({ status: 'failed', error: reason ?? 'the process ended without ending its run', endedAt: new Date().toISOString(), owner: undefined });
          status = 'failed';
        } else if (info.error) {
          reason = info.error;
        }
      } catch (e) {
        reason = `${reason ?? ''} (its run.json could not be read: ${(e as Error).message})`.trim();
      }
    } else if (code === 0) {
      status = 'finished';
    }
    this.events.onExit({ code, signal, status, ...(reason ? { reason } : {}) });
  }
}
