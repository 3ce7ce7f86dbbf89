import type { PassResult } from './pass.js';
import type { Verdict } from './targets.js';

type Cell = string | number;

/** A plain-text table: numbers right-aligned, text left-aligned. */
export function table(headers: readonly string[], rows: readonly Cell[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) =>
    rows.every((r) => typeof r[i] === 'number' || /^[\d.,\s%×→-]+$/.test(String(r[i] ?? ''))),
  );
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const mb = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}` : '-');
/** CPU time per request: what one core's worth of a pod buys (1e6 / this = req/s per core). */
const usPerRequest = (cpuPercent: number, rps: number) =>
  Number.isFinite(cpuPercent) && rps > 0 ? `${((cpuPercent / 100 / rps) * 1e6).toFixed(0)}` : '-';

export function throughputTable(passes: readonly PassResult[]): string {
  const rows: Cell[][] = [];
  for (const p of passes) {
    for (const r of p.throughput) {
      rows.push([
        p.store,
        r.label,
        int(r.rps),
        ms(r.p50Ms),
        ms(r.p99Ms),
        int(r.non2xx + r.socketErrors),
        `${mb(r.rssBeforeMB)} → ${mb(r.rssAfterMB)}`,
        r.upstreamCpuPercent === null
          ? pct(r.cpuPercent)
          : `${pct(r.cpuPercent)} + ${pct(r.upstreamCpuPercent)}`,
        r.upstreamCpuPercent === null
          ? usPerRequest(r.cpuPercent, r.rps)
          : `${usPerRequest(r.cpuPercent, r.rps)} + ${usPerRequest(r.upstreamCpuPercent, r.rps)}`,
        r.load1.toFixed(2),
        `${(r.ratio * 100).toFixed(0)} %`,
      ]);
    }
  }
  return table(
    [
      'store',
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'RSS MB before → after',
      'CPU %',
      'CPU µs/req',
      'load1',
      'of ceiling',
    ],
    rows,
  );
}

export function fixedRateTable(passes: readonly PassResult[]): string {
  const rows: Cell[][] = [];
  for (const p of passes) {
    for (const f of p.fixedRate) {
      const statuses = Object.entries(f.statuses)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
      rows.push([
        p.store,
        f.label,
        int(f.rate),
        ms(f.p50Ms),
        ms(f.p99Ms),
        ms(f.maxMs),
        ms(f.p99FromScheduleMs),
        `${statuses}${f.errors ? ` err×${f.errors}` : ''}`,
      ]);
    }
  }
  return table(
    ['store', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'p99 from schedule', 'statuses'],
    rows,
  );
}

export function extrasTables(passes: readonly PassResult[]): string {
  const out: string[] = [];
  out.push(
    table(
      [
        'store',
        'POST user, empty table',
        'users in the grown table',
        'POST user, grown table',
        'grown ÷ empty',
        'filled with',
      ],
      passes.map((p) => [
        p.store,
        `${int(p.growth.empty.rps)} req/s`,
        int(p.growth.usersBefore),
        `${int(p.growth.grown.rps)} req/s`,
        `${(p.growth.ratio * 100).toFixed(0)} %`,
        `${p.growth.fillMethod}, ${p.growth.fillSeconds.toFixed(1)} s`,
      ]),
    ),
  );
  const starts = passes.flatMap((p) => p.startToReady);
  if (starts.length > 0) {
    out.push(
      table(
        ['store', 'service', 'starts', 'median ms', 'p90 ms', 'samples ms'],
        starts.map((s) => [
          s.store,
          s.service,
          s.samplesMs.length,
          s.medianMs.toFixed(0),
          s.p90Ms.toFixed(0),
          s.samplesMs.map((v) => v.toFixed(0)).join(' '),
        ]),
      ),
    );
  }
  for (const p of passes) {
    if (!p.fastFail) continue;
    const f = p.fastFail;
    const statuses = Object.entries(f.statuses)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    out.push(
      `breaker-open fast-fail (${p.store}, user-service stopped; breaker opened after ${f.tripRequests} orders / ${f.tripMs.toFixed(0)} ms): ` +
        `${int(f.rate)} req/s for ${(f.scheduled / f.rate).toFixed(0)} s → p50 ${ms(f.p50Ms)} ms, p99 ${ms(f.p99Ms)} ms, max ${ms(f.maxMs)} ms; ${statuses}`,
    );
  }
  out.push(
    table(
      ['store', 'process', 'RSS MB after load', 'RSS MB at end'],
      passes.flatMap((p) =>
        p.memory.map((m) => [p.store, m.process, mb(m.rssAfterLoadMB), mb(m.rssAtEndMB)]),
      ),
    ),
  );
  return out.join('\n\n');
}

export function verdictTable(verdicts: readonly Verdict[]): string {
  return table(
    ['target', 'store', 'measured', 'verdict', 'same pass, ceiling'],
    verdicts.map((v) => [v.target, v.store, v.measured, v.pass ? 'PASS' : 'MISS', v.context ?? '']),
  );
}
