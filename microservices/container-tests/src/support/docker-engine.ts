import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@microservices/service-kit/testing';
import { onPath, type RunResult, run } from './run.js';

/**
 * A Docker engine private to one test run: its own data root, exec root and socket in a temp dir, no
 * bridge and no iptables changes (containers use the host network, so every connection stays on
 * 127.0.0.1), vfs storage (works on any filesystem). Stopped and deleted by `stop()`.
 */
export interface DockerEngine {
  /** `DOCKER_HOST` and the builder settings every docker and docker-compose call here uses. */
  env: NodeJS.ProcessEnv;
  docker(args: readonly string[], options?: CallOptions): Promise<RunResult>;
  compose(args: readonly string[], options?: CallOptions): Promise<RunResult>;
  /** Server version, e.g. 20.10.24+dfsg1. */
  version: string;
  stop(): Promise<void>;
}

export interface CallOptions {
  timeoutMs?: number;
  allowFailure?: boolean;
  /** Extra environment (compose variables). */
  env?: Record<string, string>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const DEFAULT_CALL_TIMEOUT_MS = 120_000;

/** Why this machine cannot run the engine tests, or null when everything they need is here. */
export async function engineUnavailableReason(): Promise<string | null> {
  const missing: string[] = [];
  for (const tool of ['dockerd', 'docker', 'docker-compose', 'debootstrap', 'tar', 'npm']) {
    if (!(await onPath(tool))) missing.push(tool);
  }
  if (missing.length > 0) {
    return `missing ${missing.join(', ')} (apt-get install -y docker.io docker-compose debootstrap; .ci/run does this)`;
  }
  if (process.getuid?.() !== 0) return 'dockerd and debootstrap need root, and this run is not root';
  return null;
}

/**
 * The docker CLI matching the engine. Debian's docker.io installs /usr/bin/docker (20.10); a newer CLI
 * earlier on PATH would insist on buildx, which is not installed, so the engine's own CLI is preferred.
 */
function dockerCli(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

export async function startEngine(): Promise<DockerEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'pair-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const log = join(dir, 'dockerd.log');
  const configDir = join(dir, 'client-config');
  mkdirSync(configDir);
  const out = openSync(log, 'a');
  const daemon = spawn(
    'dockerd',
    [
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--host=unix://${socket}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--storage-driver=vfs',
      '--default-ulimit=nofile=20000:20000',
      '--default-ulimit=nproc=32768:32768',
    ],
    { stdio: ['ignore', out, out], detached: true },
  );
  let exited: string | null = null;
  daemon.once('exit', (code, signal) => {
    exited = `dockerd exited (${signal ?? code})`;
  });
  // Last resort if the test process ends without afterAll (a crash, a filtered run): never leave dockerd behind.
  const onExit = () => {
    if (!exited && daemon.pid) process.kill(daemon.pid, 'SIGTERM');
  };
  process.once('exit', onExit);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // docker-compose builds by running `docker build` from PATH: the engine's own CLI first (see dockerCli).
    PATH: existsSync('/usr/bin/docker') ? `/usr/bin:${process.env.PATH ?? ''}` : process.env.PATH,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: configDir,
    // The classic builder: docker 20.10 without buildx, the lowest common denominator the Dockerfile supports.
    DOCKER_BUILDKIT: '0',
    COMPOSE_INTERACTIVE_NO_CLI: '1',
  };
  const call = (command: string, args: readonly string[], options: CallOptions = {}) =>
    run(command, args, {
      env: { ...env, ...options.env },
      timeoutMs: options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      allowFailure: options.allowFailure ?? false,
    });
  const docker = (args: readonly string[], options?: CallOptions) => call(dockerCli(), args, options);

  const logTail = () => readFileSync(log, 'utf8').split('\n').slice(-25).join('\n');
  let version: string;
  try {
    version = await pollUntil(
      'the private dockerd to answer',
      async () => {
        if (exited) throw new Error(exited);
        const res = await docker(['version', '--format', '{{.Server.Version}}'], {
          timeoutMs: 5_000,
          allowFailure: true,
        });
        return res.code === 0 ? res.stdout.trim() : undefined;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 250 },
    );
  } catch (err) {
    await stopDaemon();
    throw new Error(
      `could not start a private Docker engine: ${(err as Error).message}\n--- dockerd log ---\n${logTail()}`,
    );
  }

  async function stopDaemon(): Promise<void> {
    if (!exited && daemon.pid) {
      const gone = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
      process.kill(daemon.pid, 'SIGTERM');
      const timer = setTimeout(
        () => daemon.pid && !exited && process.kill(daemon.pid, 'SIGKILL'),
        STOP_TIMEOUT_MS,
      );
      await gone;
      clearTimeout(timer);
    }
    process.removeListener('exit', onExit);
    // dockerd leaves its default network namespace mounted under the exec root; unmount what is left first.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
      .reverse();
    for (const mountPoint of mounts)
      await run('umount', ['-l', mountPoint], { timeoutMs: 10_000, allowFailure: true });
    // vfs layers are full copies: gigabytes after a few builds. Say so if something still holds the directory.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      console.warn(
        `could not delete the private Docker engine's directory ${dir}: ${(err as Error).message}`,
      );
    }
  }

  return {
    env,
    version,
    docker,
    compose: (args, options) => call('docker-compose', args, options),
    stop: async () => {
      // Containers first, so none is left running under a containerd that goes away with dockerd.
      const ids = (await docker(['ps', '-aq'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await docker(['rm', '-f', ...ids], { allowFailure: true, timeoutMs: 60_000 });
      await stopDaemon();
    },
  };
}
