import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CheckedClient,
  type CheckedResponse,
  httpClient,
  percentileOf,
} from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { exampleOrder, exampleUser, FAST_RESILIENCE, type Order, type User } from '../support/fixtures.js';
import { startPair } from '../support/pair.js';
import { LOOPBACK, type RunningService, startService, stopAll } from '../support/processes.js';
import { metricValue, parseMetrics } from '../support/prometheus.js';
import { type FlapPhase, type FlapWindow, flap } from './support/flap.js';
import { reportFigures } from './support/resilience-report.js';
import { type Attempt, type RetryOutcome, retryUntilSuccess } from './support/retrying-client.js';
import { usePostgresForFile } from './support/test-postgres.js';

const postgres = usePostgresForFile((testName) => testName.includes('PostgreSQL'));
afterEach(stopAll);

/** Retries of one create that arrive at once. */
const CONCURRENT = 50;
/** Under the flap, client i starts i × this after the first, so clients arrive in every phase. */
const FLAP_STAGGER_MS = 30;
const FLAP_RETRIES = { maxAttempts: 100, withinMs: 20_000, pauseMs: { min: 30, max: 90 } };
/** At most this many down/up cycles; the flap also ends once every client has its 2xx. */
const FLAP_MAX_CYCLES = 5;
/** Retries sent after the order exists while user-service is down: each must still be the replayed 201. */
const RETRIES_WHILE_DOWN = 5;

type StoreKind = 'memory' | 'PostgreSQL';

async function storeEnv(kind: StoreKind, prefix: string): Promise<Record<string, string>> {
  if (kind === 'memory') return {};
  return { DATABASE_URL: await postgres.freshDatabase(prefix), DB_CONNECT_TIMEOUT_MS: '1000' };
}

const withKey = (key: string) => ({ headers: { 'Idempotency-Key': key } });
const isReplay = (res: CheckedResponse) => res.headers.get('idempotent-replayed') === 'true';

/** `CONCURRENT` copies of one request, all in flight together; their answers and latencies. */
async function burst<T>(post: () => Promise<CheckedResponse<T>>) {
  const timed = await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      const started = performance.now();
      const res = await post();
      return { res, ms: performance.now() - started };
    }),
  );
  return { responses: timed.map((t) => t.res), latencies: timed.map((t) => t.ms) };
}

/** Figures of one burst: how many created, replayed or otherwise answered, distinct ids, p99. */
function reportBurst<T extends { id: string }>(
  what: string,
  responses: readonly CheckedResponse<T>[],
  latencies: readonly number[],
): void {
  reportFigures(`5a no duplicates: ${what}`, {
    requests: CONCURRENT,
    created_201: responses.filter((r) => !isReplay(r)).length,
    replayed_201: responses.filter(isReplay).length,
    other: responses.filter((r) => r.status !== 201).length,
    distinct_ids: new Set(responses.map((r) => r.body.id)).size,
    listed: 1,
    p99_ms: percentileOf(latencies, 99),
  });
}

/** Every answer is the same resource: one 201 that created it, the rest replays of it (same body). */
function expectOneResource<T extends { id: string }>(responses: readonly CheckedResponse<T>[]) {
  expect(responses.map((r) => r.status)).toEqual(Array(CONCURRENT).fill(201));
  const created = responses.filter((r) => !isReplay(r));
  expect(created).toHaveLength(1);
  const first = created[0] as CheckedResponse<T>;
  for (const res of responses) expect(res.body).toEqual(first.body);
  return first.body;
}

async function createdTotal(api: CheckedClient, metric: string): Promise<number> {
  const res = await api.get<string>('/metrics');
  expect(res.status).toBe(200);
  return metricValue(parseMetrics(res.body), metric);
}

describe.each<StoreKind>(['memory', 'PostgreSQL'])('concurrent retries of one create, %s store', (kind) => {
  it(`when ${CONCURRENT} POST /api/v1/users with one Idempotency-Key arrive at once (${kind} store), then exactly one user exists and every answer is that user`, async () => {
    const users = await startService('user-service', {
      LOG_LEVEL: 'info',
      ...(await storeEnv(kind, 'users')),
    });
    const api = httpClient(users.url);
    await api.contract();

    const { responses, latencies } = await burst(() =>
      api.post<User>('/api/v1/users', exampleUser, withKey(`signup-${kind}`)),
    );

    const user = expectOneResource(responses);
    expect((await api.get<User[]>('/api/v1/users')).body).toEqual([user]);
    expect(await createdTotal(api, 'users_created_total')).toBe(1);
    reportBurst(`POST /api/v1/users, ${kind}`, responses, latencies);
  });

  it(`when ${CONCURRENT} POST /api/v1/orders with one Idempotency-Key arrive at once (${kind} store), then exactly one order exists and every answer is that order`, async () => {
    const { orderApi, userApi } = await startPair(await storeEnv(kind, 'orders'));
    const customer = (await userApi.post<User>('/api/v1/users', exampleUser)).body;
    await orderApi.contract();

    const { responses, latencies } = await burst(() =>
      orderApi.post<Order>('/api/v1/orders', exampleOrder(customer.id), withKey(`checkout-${kind}`)),
    );

    const order = expectOneResource(responses);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([order]);
    expect((await orderApi.get<Order[]>(`/api/v1/orders/user/${customer.id}`)).body).toEqual([order]);
    expect(await createdTotal(orderApi, 'orders_created_total')).toBe(1);
    reportBurst(`POST /api/v1/orders, ${kind}`, responses, latencies);
  });
});

/** How user-service is made to flap: each phase, plus how to take it down and bring it back outright. */
interface UserServiceFlap {
  style: string;
  phases: FlapPhase[];
  down: () => Promise<void>;
  up: () => Promise<void>;
  /** What user-service says it injected, by kind (empty when the flap is not by fault injection). */
  injectedFaults: () => Promise<Record<string, number>>;
}

/** Flapping by SIGKILL and a restart on the same port; its users are in PostgreSQL, so they survive. */
function flapByRestart(first: RunningService, env: Record<string, string>): UserServiceFlap {
  let current: RunningService | null = first;
  const down = async () => {
    if (!current) return;
    current.kill();
    await current.exited;
    current = null;
  };
  const up = async () => {
    current ??= await startService('user-service', { ...env, PORT: String(first.port) });
  };
  return {
    style: 'kill and restart',
    phases: [
      { name: 'down', holdMs: 400, enter: down },
      { name: 'up', holdMs: 400, enter: up },
    ],
    down,
    up,
    injectedFaults: async () => ({}),
  };
}

/**
 * Flapping by user-service's own fault injection: down, every request failing with 500 or 503, half of
 * them failing, normal.
 */
function flapByFaults(users: RunningService): UserServiceFlap {
  const api = httpClient(users.url);
  const setMode = (change: Record<string, unknown>) => async () => {
    const res = await api.put<{ mode: string }>('/admin/faults', change);
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe(change.mode);
  };
  return {
    style: 'fault injection',
    phases: [
      { name: 'down', holdMs: 300, enter: setMode({ mode: 'down' }) },
      { name: 'errors', holdMs: 300, enter: setMode({ mode: 'error', error_rate: 1 }) },
      { name: 'half-errors', holdMs: 300, enter: setMode({ mode: 'error', error_rate: 0.5 }) },
      { name: 'up', holdMs: 300, enter: setMode({ mode: 'normal' }) },
    ],
    down: setMode({ mode: 'down' }),
    up: setMode({ mode: 'normal' }),
    injectedFaults: async () => {
      const res = await api.get<string>('/metrics');
      const samples = parseMetrics(res.body).filter((m) => m.name === 'faults_injected_total');
      return Object.fromEntries(samples.map((m) => [m.labels.fault ?? '', m.value]));
    },
  };
}

interface FlapRun {
  outcomes: RetryOutcome[];
  windows: readonly FlapWindow[];
  /** `performance.now()` when the first client started. */
  started: number;
}

/**
 * CONCURRENT clients, client i starting i × FLAP_STAGGER_MS after the first, each retrying one order (one
 * Idempotency-Key, one body) until it gets a 2xx, while user-service flaps; user-service is down first,
 * so no attempt can succeed before the flap has begun.
 */
async function retryThroughFlap(place: () => Promise<CheckedResponse>, userServiceFlap: UserServiceFlap) {
  await userServiceFlap.down();
  const flapping = flap(userServiceFlap.phases, { maxCycles: FLAP_MAX_CYCLES, restore: userServiceFlap.up });
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      await sleep(i * FLAP_STAGGER_MS);
      return retryUntilSuccess(place, FLAP_RETRIES);
    }),
  );
  return { outcomes, windows: await flapping.stop(), started } satisfies FlapRun;
}

/**
 * Only 201s and 503s (never a 500, even while user-service itself answered 500s), some 503s (the flap
 * bit), every client got its 2xx within the bound, one created the order and every 2xx is that order.
 */
function expectOneOrder({ outcomes, windows }: FlapRun): Order {
  const statuses = outcomes.flatMap((o) => o.attempts.map((a) => a.status));
  expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
  expect(statuses.filter((s) => s === 503).length, 'the flap made some attempts fail').toBeGreaterThan(0);
  expect(windows.filter((w) => w.name === 'down').length).toBeGreaterThanOrEqual(1);
  const successes = outcomes.map((o) => o.success);
  expect(
    successes.filter((s) => s === undefined),
    'every client got its 2xx within the bound',
  ).toEqual([]);
  const answered = successes as Attempt[];
  const created = answered.filter((a) => !a.replayed);
  expect(created).toHaveLength(1);
  const order = created[0]?.body as Order;
  for (const a of answered) expect(a.body).toEqual(order);
  return order;
}

/**
 * CONCURRENT clients place one order while user-service flaps; then more retries arrive while it is down,
 * which the stored response must answer. Exactly one order may exist afterwards.
 */
async function placeThroughFlap(
  orders: RunningService,
  customer: User,
  userServiceFlap: UserServiceFlap,
  group: string,
): Promise<Record<string, number>> {
  const orderApi = httpClient(orders.url);
  await orderApi.contract();
  const body = exampleOrder(customer.id);
  const place = () => orderApi.post<Order>('/api/v1/orders', body, withKey('flap-checkout'));

  const run = await retryThroughFlap(place, userServiceFlap);
  const order = expectOneOrder(run);

  await userServiceFlap.down();
  const whileDown = await Promise.all(Array.from({ length: RETRIES_WHILE_DOWN }, place));
  const injected = await userServiceFlap.injectedFaults();
  await userServiceFlap.up();
  for (const res of whileDown) {
    expect(res.status).toBe(201);
    expect(isReplay(res)).toBe(true);
    expect(res.body).toEqual(order);
  }
  expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([order]);
  expect((await orderApi.get<Order[]>(`/api/v1/orders/user/${customer.id}`)).body).toEqual([order]);
  expect(await createdTotal(orderApi, 'orders_created_total')).toBe(1);
  expect(orders.process.exitCode).toBeNull();

  const attempts = run.outcomes.flatMap((o) => o.attempts);
  const answered = run.outcomes.flatMap((o) => (o.success ? [o.success] : []));
  const count = (status: number) => attempts.filter((a) => a.status === status).length;
  reportFigures(`5a no duplicates under a user-service flap: ${group}`, {
    flap: userServiceFlap.style,
    clients: CONCURRENT,
    attempts: attempts.length,
    answers_201: count(201),
    answers_503: count(503),
    answers_other: attempts.length - count(201) - count(503),
    created: answered.filter((a) => !a.replayed).length,
    distinct_order_ids: new Set(answered.map((a) => (a.body as Order).id)).size,
    max_attempts_per_client: Math.max(...run.outcomes.map((o) => o.attempts.length)),
    flap_windows: run.windows.map((w) => `${w.name}:${Math.round(w.to - w.from)}ms`).join(' '),
    user_service_faults_injected: Object.entries(injected)
      .map(([fault, n]) => `${fault}:${n}`)
      .join(' '),
    first_2xx_after_ms: Math.min(...answered.map((a) => a.at)) - run.started,
    all_2xx_after_ms: Math.max(...answered.map((a) => a.at)) - run.started,
    replays_while_down: whileDown.filter(isReplay).length,
    p99_attempt_ms: percentileOf(
      attempts.map((a) => a.at - a.sentAt),
      99,
    ),
  });
  return injected;
}

/** The order-service settings for the flap: every attempt asks user-service (no cached answers). */
const flapOrderEnv = (usersUrl: string, store: Record<string, string>) => ({
  ...FAST_RESILIENCE,
  ...store,
  USER_SERVICE_URL: usersUrl,
  USER_CACHE_ENABLED: 'false',
});

describe('retries of one POST /api/v1/orders while user-service flaps', () => {
  it.each<StoreKind>(['memory', 'PostgreSQL'])(
    'when user-service (on PostgreSQL) is killed and restarted on its port while 50 clients retry one order, then exactly one order exists and every 2xx is that order (order-service %s store)',
    async (kind) => {
      const userEnv = {
        LOG_LEVEL: 'info',
        DATABASE_URL: await postgres.freshDatabase('users'),
        DB_CONNECT_TIMEOUT_MS: '1000',
      };
      const users = await startService('user-service', userEnv);
      const customer = (await httpClient(users.url).post<User>('/api/v1/users', exampleUser)).body;
      const orders = await startService(
        'order-service',
        flapOrderEnv(`http://${LOOPBACK}:${users.port}`, await storeEnv(kind, 'orders')),
      );

      await placeThroughFlap(
        orders,
        customer,
        flapByRestart(users, userEnv),
        `restarts, order-service ${kind}`,
      );
    },
  );

  it('when user-service fault injection flips between down, all errors, half errors and normal (500s included) while 50 clients retry one order, then exactly one order exists, every 2xx is that order, and no answer is a 500', async () => {
    const users = await startService('user-service', { LOG_LEVEL: 'info', FAULTS_ENABLED: 'true' });
    const customer = (await httpClient(users.url).post<User>('/api/v1/users', exampleUser)).body;
    // A breaker that never opens, so every attempt reaches user-service and meets its injected 500s.
    const orders = await startService('order-service', {
      ...flapOrderEnv(users.url, {}),
      USER_SERVICE_BREAKER_THRESHOLD: '1000',
    });

    const injected = await placeThroughFlap(
      orders,
      customer,
      flapByFaults(users),
      'fault injection, order-service memory',
    );

    expect(
      injected.error_500 ?? 0,
      'user-service answered some lookups with an injected 500',
    ).toBeGreaterThan(0);
  });
});
