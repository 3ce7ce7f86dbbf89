import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Kill the command (SIGKILL) after this long; every command the tests run is bounded. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFailure?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const TAIL_CHARS = 4_000;
const tail = (text: string) => (text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text);

/** Runs a command to completion (no shell), bounded in time; rejects with its output on failure. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (options.input !== undefined) {
      // A command that exits without reading its input must not fail the caller with EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = Math.round(performance.now() - started);
      const result = { code: code ?? -1, stdout, stderr, ms };
      if (code === 0 || options.allowFailure) {
        resolve(result);
        return;
      }
      const why = signal
        ? `was killed by ${signal} after ${ms} ms (limit ${options.timeoutMs} ms)`
        : `exited ${code}`;
      reject(
        new Error(
          `\`${[command, ...args].join(' ')}\` ${why}\n--- stderr ---\n${tail(stderr)}\n--- stdout ---\n${tail(stdout)}`,
        ),
      );
    });
  });
}

/** Whether an executable is on PATH. */
export async function onPath(command: string): Promise<boolean> {
  const result = await run('sh', ['-c', `command -v "$1"`, 'sh', command], {
    timeoutMs: 5_000,
    allowFailure: true,
  });
  return result.code === 0;
}
