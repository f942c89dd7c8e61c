/**
 * The compiled CLI as a user runs it, in child processes (`npm test` builds dist/ first): one-shot
 * commands run to their end, and the `serve` child and sandbox a test leaves running, stopped
 * after each test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Sandbox } from '../../src/sandbox/sandbox-server';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');
/** The CLI entry point, `bin/distinct-adapter.js`. */
export const CLI = join(ROOT, 'bin', 'distinct-adapter.js');

const run = promisify(execFile);

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs `distinct-adapter <args>` in `cwd` to its end; a non-zero exit comes back as `code`, never
 * thrown. `env` is the child's whole environment: by default this one with LOG_LEVEL=silent.
 */
export function runCli(
  args: string[],
  cwd?: string,
  env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' },
): Promise<CliResult> {
  return run(process.execPath, [CLI, ...args], { cwd, env })
    .then((r) => ({ ...r, code: 0 }))
    .catch((e: CliResult) => ({ stdout: e.stdout, stderr: e.stderr, code: e.code }));
}

/**
 * Starts `distinct-adapter serve <args>` in `cwd` and resolves, with the child and its base URL,
 * once it logs that it listens on 127.0.0.1; rejects with what it printed if it exits first or is
 * not listening within 15 s (then it is killed).
 */
export function startServe(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not start:\n${out}\n${err}`));
    }, 15_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}:\n${out}\n${err}`));
    });
  });
}

/** What a test left running, for the afterEach of useRunningChildren to stop. */
export interface RunningChildren {
  child?: ChildProcess;
  sandbox?: Sandbox;
}

/**
 * Registers an afterEach that SIGTERMs `child` (and waits for it to exit) if it still runs, then
 * closes `sandbox`; tests set the fields of the returned object.
 */
export function useRunningChildren(): RunningChildren {
  const running: RunningChildren = {};
  afterEach(async () => {
    const { child, sandbox } = running;
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    running.child = undefined;
    await sandbox?.close();
    running.sandbox = undefined;
  });
  return running;
}
