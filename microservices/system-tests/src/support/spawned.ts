import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ExitResult, watchExit, within } from '@microservices/service-kit/testing';

export interface SpawnedProcess {
  child: ChildProcess;
  stdout: () => readonly string[];
  stderr: () => readonly string[];
  /** Settles once the process has exited and its output is fully read. */
  exited: Promise<ExitResult>;
  /** `exited`, or a rejection naming the process and its stderr if it takes longer than `timeoutMs`. */
  exitWithin: (timeoutMs: number) => Promise<ExitResult>;
}

// What this test file spawned directly (not through startService), for `killSpawned()` in afterEach.
const spawned = new Set<SpawnedProcess>();

/**
 * Runs `node <args>` with exactly `env` (plus PATH), collecting its output line by line. For processes that
 * `startService` cannot run: ones expected to fail at start-up, and the `npm start` launcher.
 */
export function spawnNode(args: readonly string[], env: Record<string, string>, cwd: string): SpawnedProcess {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (l) =>
    out.push(l),
  );
  createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (l) =>
    err.push(l),
  );
  const { exited } = watchExit(child);
  const handle: SpawnedProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    exitWithin: async (timeoutMs) => {
      try {
        return await within('exit', timeoutMs, exited);
      } catch {
        // Built at failure time so it shows everything the process wrote while we waited.
        throw new Error(
          `node ${args.join(' ')} did not exit within ${timeoutMs} ms\nstderr:\n${err.join('\n')}`,
        );
      }
    },
  };
  spawned.add(handle);
  void exited.then(() => spawned.delete(handle));
  return handle;
}

/** Process ids whose parent is `pid`, read from /proc (empty where there is no /proc). */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

/**
 * SIGKILLs everything this file spawned that is still running, children first (the launcher starts its
 * services detached, so they would outlive it), each by its own pid.
 */
export async function killSpawned(): Promise<void> {
  const running = [...spawned];
  for (const handle of running) {
    const pid = handle.child.pid;
    if (pid === undefined) continue;
    for (const child of childPids(pid)) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    handle.child.kill('SIGKILL');
  }
  await Promise.all(running.map((h) => h.exited));
}
