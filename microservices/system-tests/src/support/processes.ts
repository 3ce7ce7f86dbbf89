import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExitResult, freePort, watchExit } from '@microservices/service-kit/testing';
import { repoRoot, type ServiceName, serviceEntry } from './service-paths.js';

export type { ExitResult } from '@microservices/service-kit/testing';
export { type ServiceName, serviceEntry } from './service-paths.js';

/** Every address the system tests use; nothing leaves this machine. */
export const LOOPBACK = '127.0.0.1';

const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const STOP_TIMEOUT_MS = 15_000;

/** A stdout line: the parsed object when it is JSON (every log line should be), else the raw text. */
export type LogLine = Record<string, unknown> | string;

export interface RunningService {
  name: ServiceName;
  port: number;
  /** PROBE_PORT when the service was given one: where the kubelet would probe it. */
  probePort: number | undefined;
  /** `http://127.0.0.1:<port>` with no trailing slash. */
  url: string;
  process: ChildProcess;
  /** stdout lines so far, JSON-parsed where possible. */
  logs: () => readonly LogLine[];
  /** stderr lines so far (a healthy service writes none). */
  stderr: () => readonly string[];
  /** Sends `signal` and resolves with how the process ended; rejects if it has not exited within 15 s. */
  stop: (signal?: NodeJS.Signals) => Promise<ExitResult>;
  /** SIGKILL, for cleanup; does nothing if the process already ended. */
  kill: () => void;
  /** Settles when the process has exited and its output is fully read. */
  exited: Promise<ExitResult>;
}

// Tracks what this test file started so `stopAll()` in afterEach can clean up after a failed test.
const started = new Set<RunningService>();

export { freePort };

function parseLine(line: string): LogLine {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : line;
  } catch {
    return line;
  }
}

/**
 * Starts the built `dist/main.js` of a service on 127.0.0.1 and resolves once `/health/live` answers.
 * `env` is the service's whole configuration besides PATH: the test process's environment is not passed on,
 * so a stray LOG_LEVEL or PORT in the shell cannot change what a test sees. PORT defaults to a free
 * port and SHUTDOWN_DELAY_MS to 0.
 */
/**
 * A free port other than `taken` (a PROBE_PORT chosen the same way a moment before: the kernel may hand
 * a just-closed port out again, and PORT = PROBE_PORT makes the service exit 1).
 */
async function freePortBeside(taken: string | undefined): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    if (String(port) !== taken) return port;
  }
  throw new Error(`no free port other than ${taken} after 5 attempts`);
}

export async function startService(
  name: ServiceName,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const entry = serviceEntry(name);
  if (!existsSync(entry)) {
    throw new Error(`${relative(repoRoot, entry)} is missing: the system tests' global setup builds it`);
  }
  if (env.HOST !== undefined && env.HOST !== LOOPBACK) {
    throw new Error(`system tests only listen on ${LOOPBACK}; got HOST=${env.HOST}`);
  }
  const port = env.PORT === undefined ? await freePortBeside(env.PROBE_PORT) : Number(env.PORT);
  const url = `http://${LOOPBACK}:${port}`;

  const child = spawn(process.execPath, [entry], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      SHUTDOWN_DELAY_MS: '0',
      ...env,
      HOST: LOOPBACK,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const lines: LogLine[] = [];
  const errLines: string[] = [];
  createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    lines.push(parseLine(line));
  });
  createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    errLines.push(line);
  });

  // Settles once stdout and stderr have ended, so logs() is complete.
  const { exited, hasExited } = watchExit(child);

  const service: RunningService = {
    name,
    port,
    probePort: env.PROBE_PORT === undefined ? undefined : Number(env.PROBE_PORT),
    url,
    process: child,
    logs: () => lines,
    stderr: () => errLines,
    exited,
    kill: () => {
      if (!hasExited()) child.kill('SIGKILL');
    },
    stop: async (signal = 'SIGTERM') => {
      if (!hasExited()) child.kill(signal);
      const timer = sleep(STOP_TIMEOUT_MS, 'timeout' as const, { ref: false });
      const outcome = await Promise.race([exited, timer]);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`${name} did not exit within ${STOP_TIMEOUT_MS / 1000} s of ${signal}`);
      }
      return outcome;
    },
  };
  started.add(service);
  void exited.then(() => started.delete(service));

  try {
    await waitUntilLive(service, hasExited);
  } catch (err) {
    service.kill();
    await exited;
    throw err;
  }
  return service;
}

async function waitUntilLive(service: RunningService, hasExited: () => boolean): Promise<void> {
  const probe = `${service.url}/health/live`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) {
      const result = await service.exited;
      throw new Error(
        `${service.name} exited before answering ${probe} (code ${result.code}, signal ${result.signal})\n` +
          outputTail(service),
      );
    }
    try {
      const response = await fetch(probe, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(READY_POLL_MS);
  }
  throw new Error(
    `${service.name} did not answer ${probe} within ${READY_TIMEOUT_MS / 1000} s\n${outputTail(service)}`,
  );
}

function outputTail(service: RunningService): string {
  const stdout = service
    .logs()
    .slice(-10)
    .map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
  return [`stdout (last lines):`, ...stdout, `stderr:`, ...service.stderr().slice(-20)].join('\n');
}

/** Kills every service this file started that is still running; use in afterEach/afterAll. */
export async function stopAll(): Promise<void> {
  const running = [...started];
  for (const service of running) service.kill();
  await Promise.all(running.map((s) => s.exited));
}
