import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat (100 on every Linux this runs on; asked once to be sure). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcessSample {
  /** Resident set size (VmRSS), bytes. */
  rssBytes: number;
  /** utime + stime so far, seconds. */
  cpuSeconds: number;
  /** performance.now() when sampled. */
  atMs: number;
}

/** RSS and CPU time of a live process from /proc; null once it has gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssBytes: rssKb * 1024, cpuSeconds: ticks / CLOCK_TICKS, atMs: performance.now() };
  } catch {
    return null;
  }
}

/** CPU used between two samples as a percentage of one core (200 % = both cores of a 2-core machine). */
export function cpuPercent(before: ProcessSample | null, after: ProcessSample | null): number {
  if (!before || !after || after.atMs <= before.atMs) return Number.NaN;
  return ((after.cpuSeconds - before.cpuSeconds) / ((after.atMs - before.atMs) / 1000)) * 100;
}

/** 1-, 5- and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a = '0', b = '0', c = '0'] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  return [Number(a), Number(b), Number(c)];
}
