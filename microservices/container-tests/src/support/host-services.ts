import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntilReady } from './http.js';
import { repoRoot, type ServiceName, serviceDir } from './paths.js';
import { freePort, LOOPBACK } from './ports.js';
import { run } from './run.js';

/** Builds both services' dist/ (the bundle the images ship) with the repository's own build. */
export async function buildServices(): Promise<void> {
  await run('npm', ['run', 'build'], { cwd: repoRoot, timeoutMs: 180_000 });
}

export interface HostService {
  url: string;
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

/** Runs a built service as a plain process on 127.0.0.1 (no engine needed), ready when this resolves. */
export async function startHostService(
  service: ServiceName,
  env: Record<string, string>,
): Promise<HostService> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(serviceDir(service), 'dist', 'main.js')], {
    cwd: serviceDir(service),
    env: { PATH: process.env.PATH, HOST: LOOPBACK, PORT: String(port), SHUTDOWN_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const outcome = await Promise.race([
      exited.then(() => 'exited' as const),
      sleep(15_000, 'timeout' as const),
    ]);
    if (outcome === 'timeout') child.kill('SIGKILL');
  };
  const url = `http://${LOOPBACK}:${port}`;
  try {
    await Promise.race([
      waitUntilReady(url, 30_000),
      exited.then(() => {
        throw new Error(`${service} exited before it was ready:\n${output}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, logs: () => output, stop };
}
