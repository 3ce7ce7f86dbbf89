import type { ScenarioId, StoreKind } from './measure.js';
import type { PassResult } from './pass.js';

/** The old Python pair on this machine kind (issue #8), for the absolute targets. */
export const OLD_PAIR = { postOrderRps: 38, postUserRps: 1_337 } as const;

export const TARGETS = {
  healthLiveRatio: 0.8,
  getUserRatio: { memory: 0.4, postgres: 0.2 } as Record<StoreKind, number>,
  postOrderRps: 100 * OLD_PAIR.postOrderRps,
  postUserRps: 5 * OLD_PAIR.postUserRps,
  /** "Flat": POST user after the table has grown keeps at least this share of its rate at the start. */
  growthRatio: 0.9,
  /** GET user with a bearer token verified on every request, as a share of the same without auth. */
  authGetUserRatio: 0.85,
  fixedRateP99Ms: 10,
  fastFailP99Ms: 5,
  rssMB: 100,
  startToReadyMedianMs: 300,
} as const;

export interface Verdict {
  target: string;
  store: StoreKind | '-';
  measured: string;
  pass: boolean;
  /** The same measurement for the ceiling server in the same pass, where one exists (the machine's floor). */
  context?: string;
}

/** CPU µs per request of a row: the measured process and, for orders, user-service behind it. */
const cpuMicros = (row: { cpuPercent: number; upstreamCpuPercent: number | null; rps: number }) =>
  ((row.cpuPercent + (row.upstreamCpuPercent ?? 0)) / 100 / row.rps) * 1e6;

const pct = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;
const rps = (value: number) => `${Math.round(value).toLocaleString('en-US')} req/s`;

/** PASS/MISS for every target of issue #8 that this run measured. */
export function evaluateTargets(passes: readonly PassResult[]): Verdict[] {
  const verdicts: Verdict[] = [];
  const add = (target: string, store: StoreKind | '-', measured: string, pass: boolean, context?: string) =>
    verdicts.push({ target, store, measured, pass, ...(context ? { context } : {}) });
  for (const p of passes) {
    const row = (id: ScenarioId) => p.throughput.find((r) => r.id === id);
    const ceilingRate = `ceiling ${rps(p.ceiling.meanRps)}`;
    const ceilingAtRate = p.fixedRate.find((f) => f.id === 'ceiling');
    const floor = ceilingAtRate ? `ceiling p99 ${ceilingAtRate.p99Ms.toFixed(2)} ms` : undefined;
    const health = row('health-live');
    if (health)
      add(
        `GET /health/live ≥ ${pct(TARGETS.healthLiveRatio)} of ceiling`,
        p.store,
        pct(health.ratio),
        health.ratio >= TARGETS.healthLiveRatio,
        ceilingRate,
      );
    const getUser = row('get-user');
    const getUserTarget = TARGETS.getUserRatio[p.store];
    if (getUser)
      add(
        `GET user ≥ ${pct(getUserTarget)} of ceiling`,
        p.store,
        pct(getUser.ratio),
        getUser.ratio >= getUserTarget,
        ceilingRate,
      );
    const securedGetUser = row('get-user-auth');
    if (getUser && securedGetUser) {
      const ratio = securedGetUser.rps / getUser.rps;
      add(
        `GET user, auth on ≥ ${pct(TARGETS.authGetUserRatio)} of auth off`,
        p.store,
        pct(ratio),
        ratio >= TARGETS.authGetUserRatio && securedGetUser.non2xx === 0,
        `verification adds ${Math.round(cpuMicros(securedGetUser) - cpuMicros(getUser))} µs CPU/req`,
      );
    }
    const securedPostOrder = row('post-order-auth');
    const plainPostOrder = row('post-order-cache-on');
    if (securedPostOrder && plainPostOrder) {
      add(
        'POST order, auth on (both services verify a token): every answer 2xx',
        p.store,
        `${pct(securedPostOrder.rps / plainPostOrder.rps)} of auth off, ${securedPostOrder.non2xx} non-2xx`,
        securedPostOrder.non2xx === 0,
        `adds ${Math.round(cpuMicros(securedPostOrder) - cpuMicros(plainPostOrder))} µs CPU/req (order-service + user-service)`,
      );
    }
    const postOrder = row('post-order-cache-off');
    if (postOrder) {
      add(
        `POST order, cache off ≥ ${rps(TARGETS.postOrderRps)} (100× old)`,
        p.store,
        rps(postOrder.rps),
        postOrder.rps >= TARGETS.postOrderRps && postOrder.non2xx === 0,
      );
    }
    const postUser = row('post-user');
    if (postUser) {
      add(
        `POST user ≥ ${rps(TARGETS.postUserRps)} (5× old)`,
        p.store,
        rps(postUser.rps),
        postUser.rps >= TARGETS.postUserRps && postUser.non2xx === 0,
      );
    }
    const g = p.growth;
    add(
      `POST user flat at ${g.usersBefore.toLocaleString('en-US')} users (≥ ${pct(TARGETS.growthRatio)} of empty)`,
      p.store,
      `${rps(g.grown.rps)} = ${pct(g.ratio)} of ${rps(g.empty.rps)}`,
      g.ratio >= TARGETS.growthRatio && g.grown.non2xx === 0,
    );
    for (const f of p.fixedRate) {
      if (f.id === 'ceiling') continue;
      const bad =
        f.errors + Object.entries(f.statuses).reduce((n, [s, c]) => (Number(s) >= 400 ? n + c : n), 0);
      add(
        `p99 < ${TARGETS.fixedRateP99Ms} ms at ${f.rate} req/s: ${f.label}`,
        p.store,
        `${f.p99Ms.toFixed(2)} ms${bad > 0 ? ` (${bad} failed)` : ''}`,
        f.p99Ms < TARGETS.fixedRateP99Ms && bad === 0,
        floor,
      );
    }
    if (p.fastFail) {
      const ff = p.fastFail;
      add(
        `breaker-open fast-fail p99 < ${TARGETS.fastFailP99Ms} ms`,
        p.store,
        `${ff.p99Ms.toFixed(2)} ms (${ff.statuses['503'] ?? 0} × 503)`,
        ff.p99Ms < TARGETS.fastFailP99Ms && (ff.statuses['503'] ?? 0) === ff.scheduled,
        floor,
      );
    }
    for (const m of p.memory) {
      add(
        `RSS after the run < ${TARGETS.rssMB} MB: ${m.process}`,
        p.store,
        `${m.rssAtEndMB.toFixed(1)} MB`,
        m.rssAtEndMB < TARGETS.rssMB,
      );
    }
    for (const s of p.startToReady) {
      if (s.store !== 'memory') continue;
      add(
        `start-to-ready median < ${TARGETS.startToReadyMedianMs} ms: ${s.service}`,
        s.store,
        `${s.medianMs.toFixed(0)} ms (p90 ${s.p90Ms.toFixed(0)} ms)`,
        s.medianMs < TARGETS.startToReadyMedianMs,
      );
    }
  }
  return verdicts;
}
