import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { get } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExitResult, freePort, watchExit } from '@microservices/service-kit/testing';

/** Every address the benchmark uses: nothing leaves this machine. */
export const LOOPBACK = '127.0.0.1';

export interface ManagedProcess {
  name: string;
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** performance.now() just before spawn(). */
  spawnedAtMs: number;
  exited: Promise<ExitResult>;
  hasExited(): boolean;
  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILL. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitResult>;
  /** Last lines of stderr, for error messages. */
  stderrTail(): string[];
}

export interface SpawnOptions {
  name: string;
  /** The `node` binary. */
  node: string;
  script: string;
  nodeArgs?: readonly string[];
  /** The whole environment besides PATH: a stray variable in the caller's shell cannot change a run. */
  env: Record<string, string>;
  port: number;
  cwd: string;
  /** stdout goes here when given, else to /dev/null (the services log a line per request). */
  stdoutFile?: string | undefined;
}

export { freePort };

/** Owns every process the benchmark starts, so one call stops them all (on success, error or Ctrl-C). */
export class ProcessGroup {
  readonly #running = new Set<ManagedProcess>();

  spawn(options: SpawnOptions): ManagedProcess {
    const stdoutFd = options.stdoutFile ? openSync(options.stdoutFile, 'a') : 'ignore';
    const spawnedAtMs = performance.now();
    const child: ChildProcess = spawn(options.node, [...(options.nodeArgs ?? []), options.script], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      stdio: ['ignore', stdoutFd, 'pipe'],
    });
    if (typeof stdoutFd === 'number') closeSync(stdoutFd);
    const stderr: string[] = [];
    if (child.stderr) {
      createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        stderr.push(line);
        if (stderr.length > 40) stderr.shift();
      });
    }
    const { exited, hasExited } = watchExit(child);
    const managed: ManagedProcess = {
      name: options.name,
      pid: child.pid ?? -1,
      port: options.port,
      url: `http://${LOOPBACK}:${options.port}`,
      spawnedAtMs,
      exited,
      hasExited,
      stderrTail: () => [...stderr],
      stop: async (signal = 'SIGTERM', timeoutMs = 10_000) => {
        if (!hasExited()) child.kill(signal);
        const outcome = await Promise.race([exited, sleep(timeoutMs, 'timeout' as const, { ref: false })]);
        if (outcome !== 'timeout') return outcome;
        child.kill('SIGKILL');
        return exited;
      },
    };
    this.#running.add(managed);
    void exited.then(() => this.#running.delete(managed));
    return managed;
  }

  /** SIGTERM to everything still running (SIGKILL after `timeoutMs`). */
  async stopAll(timeoutMs = 5_000): Promise<void> {
    await Promise.all([...this.#running].map((p) => p.stop('SIGTERM', timeoutMs)));
  }

  /** Last resort from a signal handler: no waiting. */
  killAllNow(): void {
    for (const p of this.#running) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** The status of one GET on a fresh connection; rejects on connection errors or after `timeoutMs`. */
export function probeStatus(url: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

/**
 * Polls `path` until it answers 200; resolves with performance.now() of that answer. Rejects when the
 * process exits first or `timeoutMs` passes, with its stderr in the message.
 */
export async function waitFor200(
  proc: ManagedProcess,
  path: string,
  { timeoutMs = 30_000, pollMs = 5 } = {},
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (proc.hasExited()) {
      const { code, signal } = await proc.exited;
      throw new Error(
        `${proc.name} exited (code ${code}, signal ${signal}) before ${path} answered 200\n${proc.stderrTail().join('\n')}`,
      );
    }
    try {
      if ((await probeStatus(`${proc.url}${path}`)) === 200) return performance.now();
    } catch {
      // Not listening yet.
    }
    await sleep(pollMs);
  }
  throw new Error(
    `${proc.name} did not answer 200 on ${path} within ${timeoutMs} ms\n${proc.stderrTail().join('\n')}`,
  );
}
