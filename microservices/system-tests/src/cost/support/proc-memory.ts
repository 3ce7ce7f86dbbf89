import { readFileSync } from 'node:fs';

/** VmRSS and VmHWM of `pid` in MiB, read from /proc (undefined once the process is gone). */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Polls VmRSS every `intervalMs` until stopped; `stop()` gives the highest value seen. */
export function watchRss(pid: number, intervalMs = 50): { stop: () => number } {
  let peak = memoryOf(pid)?.rssMb ?? Number.NaN;
  const timer = setInterval(() => {
    const now = memoryOf(pid)?.rssMb;
    if (now !== undefined && !(now <= peak)) peak = now;
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}
