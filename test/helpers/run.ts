// Runs a child process without blocking the test worker: spawnSync of a long CLI run stops the worker's
// event loop, and vitest's RPC to it then times out ("Timeout calling onTaskUpdate") on a loaded machine.
import { spawn } from 'child_process';

/** What `run` resolves to: the fields of spawnSync's result that tests read. */
export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not start or was killed after `timeout` ms. */
  error?: Error;
}

/** Runs `command args` to completion (killed after `timeout` ms, default none) and resolves with its output. */
export function run(command: string, args: string[], options: { timeout?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: Error | undefined;
    const timer = options.timeout ? setTimeout(() => ((error = new Error(`timed out after ${options.timeout} ms`)), p.kill('SIGKILL')), options.timeout) : undefined;
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', (e) => (error = e));
    p.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...(error ? { error } : {}) });
    });
  });
}

/** Runs `node args` (this Node binary). */
export function runNode(args: string[], options: { timeout?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return run(process.execPath, args, options);
}
