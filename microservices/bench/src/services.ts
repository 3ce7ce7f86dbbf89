import { join } from 'node:path';
import { repoRoot, type ServiceName, serviceEntry } from './paths.js';
import { freePort, type ManagedProcess, type ProcessGroup, waitFor200 } from './processes.js';

export interface RunSettings {
  /** The `node` binary and NODE_OPTIONS (none, as in the images, unless BENCH_NODE_OPTIONS says so). */
  node: string;
  nodeOptions?: string | undefined;
  logLevel: string;
  /** Directory for `node --cpu-prof` output, when profiling. */
  cpuProfDir?: string | undefined;
  /** Directory for the services' stdout, when kept. */
  logsDir?: string | undefined;
}

export interface ServiceStart {
  name: ServiceName;
  /** Distinguishes several instances of one service in file names. */
  label: string;
  databaseUrl?: string | undefined;
  env?: Record<string, string>;
}

/**
 * The environment an image runs with (NODE_ENV=production, the Helm chart's log level) plus what a local
 * run needs: 127.0.0.1, a free port, no pre-stop delay (nothing balances load in front of a benchmark).
 */
export function serviceEnv(start: ServiceStart, port: number, settings: RunSettings): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: settings.logLevel,
    HOST: '127.0.0.1',
    PORT: String(port),
    SHUTDOWN_DELAY_MS: '0',
    ...(settings.nodeOptions ? { NODE_OPTIONS: settings.nodeOptions } : {}),
    ...(start.databaseUrl ? { DATABASE_URL: start.databaseUrl } : {}),
    ...start.env,
  };
}

/** Spawns `node dist/main.js` of a service without waiting for it. */
export async function spawnService(
  group: ProcessGroup,
  start: ServiceStart,
  settings: RunSettings,
): Promise<ManagedProcess> {
  const port = await freePort();
  const profile = settings.cpuProfDir
    ? ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir, '--cpu-prof-name', `${start.label}.cpuprofile`]
    : [];
  return group.spawn({
    node: settings.node,
    name: start.label,
    script: serviceEntry(start.name),
    nodeArgs: profile,
    env: serviceEnv(start, port, settings),
    port,
    cwd: join(repoRoot, 'microservices', start.name),
    stdoutFile: settings.logsDir ? join(settings.logsDir, `${start.label}.log`) : undefined,
  });
}

/** Spawns a service and waits until `/health/ready` answers 200. */
export async function startService(
  group: ProcessGroup,
  start: ServiceStart,
  settings: RunSettings,
): Promise<ManagedProcess> {
  const proc = await spawnService(group, start, settings);
  try {
    await waitFor200(proc, '/health/ready', { timeoutMs: 60_000, pollMs: 20 });
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return proc;
}
