import { setTimeout as sleep } from 'node:timers/promises';
import { type CheckedClient, httpClient, pollUntil } from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_RESILIENCE, type Readiness, type User } from '../support/fixtures.js';
import { jsonLogs } from '../support/logs.js';
import { type RunningService, startService, stopAll } from '../support/processes.js';
import { checkRecords, contractOf } from './support/contract-check.js';
import { isWrite, orderWriters, userWriters } from './support/ledger-writers.js';
import { type LoadRecord, startLoad } from './support/load-driver.js';
import { describeRecords, isSuccess, summarise } from './support/load-summary.js';
import { reportFigures } from './support/resilience-report.js';
import { usePostgresForFile } from './support/test-postgres.js';
import { type Verdict, WriteLedger } from './support/write-ledger.js';

const postgres = usePostgresForFile();
afterEach(stopAll);

/**
 * Writers per service, each with one keep-alive connection and one request at a time: enough that some
 * transactions are in flight at the instant PostgreSQL stops, which is the moment that matters.
 */
const WRITERS_PER_SERVICE = 6;
/** Acknowledged writes on each service before PostgreSQL is stopped. */
const WRITES_BEFORE_OUTAGE = 30;
/** How long PostgreSQL stays down under load. */
const OUTAGE_MS = 3_000;
/** Load after the first successful write, to see the recovery hold. */
const LOAD_AFTER_RECOVERY_MS = 500;
const RECOVERY_TIMEOUT_MS = 20_000;
const OUTAGE_LOGGED = 'database unavailable: answering 503 until it is back';
const RECOVERY_LOGGED = 'database available again';

const dbEnv = (url: string) => ({ DATABASE_URL: url, DB_CONNECT_TIMEOUT_MS: '1000', LOG_LEVEL: 'info' });
const ALLOWED_STATUSES = new Set([200, 201, 503]);

type Written = Record<string, unknown> & { id: string };

/** Reads every resource of `kind` in the ledger back one by one and judges it. */
async function readBack(api: CheckedClient, ledger: WriteLedger, kind: 'user' | 'order'): Promise<Verdict[]> {
  const path = kind === 'user' ? '/api/v1/users' : '/api/v1/orders';
  const verdicts: Verdict[] = [];
  for (const id of ledger.ids(kind)) {
    const res = await api.get<Written>(`${path}/${encodeURIComponent(id)}`);
    expect([200, 404]).toContain(res.status);
    verdicts.push(ledger.verify(kind, id, res.status === 200 ? res.body : null));
  }
  return verdicts;
}

/** Every id the list endpoint returns, page by page (bounded). */
async function listAllIds(api: CheckedClient, path: string): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 0; page < 100; page += 1) {
    const res = await api.get<Array<{ id: string }>>(`${path}?skip=${page * 1000}&limit=1000`);
    expect(res.status).toBe(200);
    ids.push(...res.body.map((r) => r.id));
    if (res.body.length < 1000) return ids;
  }
  throw new Error(`${path} has more than 100 pages`);
}

/** Still running; if not, the assertion message carries how it ended and what it wrote last. */
function expectRunning(service: RunningService): void {
  const output = [
    ...service
      .logs()
      .slice(-15)
      .map((l) => (typeof l === 'string' ? l : JSON.stringify(l))),
    'stderr:',
    ...service.stderr().slice(-40),
  ].join('\n');
  expect(
    service.process.exitCode,
    `${service.name} exited (signal ${service.process.signalCode})\n${output}`,
  ).toBeNull();
  expect(service.stderr(), `${service.name} wrote to stderr`).toEqual([]);
}

const logged = (service: RunningService, msg: string) =>
  jsonLogs(service.logs()).filter((line) => line.msg === msg).length;

/** First 2xx write answered after `since`, as ms after it (NaN if none). */
const firstOkWriteAfter = (records: readonly LoadRecord[], since: number) =>
  Math.min(...records.filter((r) => isWrite(r) && isSuccess(r) && r.endAt > since).map((r) => r.endAt)) -
  since;

interface Services {
  users: RunningService;
  orders: RunningService;
  userApi: CheckedClient;
  orderApi: CheckedClient;
  /** Users that exist before the load starts, for the order writers. */
  customers: User[];
}

/** Both services, each on its own database of the file's server, and a few customers (in the ledger). */
async function startServicesOnPostgres(ledger: WriteLedger): Promise<Services> {
  const users = await startService('user-service', dbEnv(await postgres.freshDatabase('users')));
  const orders = await startService('order-service', {
    ...FAST_RESILIENCE,
    ...dbEnv(await postgres.freshDatabase('orders')),
    USER_SERVICE_URL: users.url,
  });
  const userApi = httpClient(users.url);
  const customers: User[] = [];
  for (let i = 0; i < WRITERS_PER_SERVICE; i += 1) {
    const res = await userApi.post<User>('/api/v1/users', {
      name: `Customer ${i}`,
      email: `c${i}@example.com`,
    });
    expect(res.status).toBe(201);
    customers.push(res.body);
    ledger.acknowledged('user', { ...res.body }, 'setup');
  }
  return { users, orders, userApi, orderApi: httpClient(orders.url), customers };
}

interface OutageRun {
  userRecords: readonly LoadRecord[];
  orderRecords: readonly LoadRecord[];
  /** On `performance.now()`: around the stop of PostgreSQL, and around its start. */
  stopCalled: number;
  stopped: number;
  startCalled: number;
  started: number;
}

const okWriteCount = (records: readonly LoadRecord[]) =>
  records.filter((r) => isWrite(r) && isSuccess(r)).length;

/**
 * Write load on both services; once each has WRITES_BEFORE_OUTAGE acknowledged writes, PostgreSQL is
 * stopped (immediate, as a crash) for OUTAGE_MS, during which both are checked to be alive but not ready,
 * then started again; the load goes on until each service has acknowledged a write again, and a little longer.
 */
async function writeThroughOutage(services: Services, ledger: WriteLedger): Promise<OutageRun> {
  const common = { workers: WRITERS_PER_SERVICE, maxMs: 60_000 };
  const userLoad = startLoad({
    ...common,
    url: services.users.url,
    step: userWriters(ledger),
    requestIdPrefix: 'out-u',
  });
  const orderLoad = startLoad({
    ...common,
    url: services.orders.url,
    step: orderWriters(ledger, services.customers),
    requestIdPrefix: 'out-o',
  });
  const loads = [userLoad, orderLoad];
  await pollUntil(
    `${WRITES_BEFORE_OUTAGE} acknowledged writes on each service`,
    () => (loads.every((l) => okWriteCount(l.records()) >= WRITES_BEFORE_OUTAGE) ? true : undefined),
    { timeoutMs: 10_000, intervalMs: 20 },
  );

  const stopCalled = performance.now();
  await postgres.server().stop();
  const stopped = performance.now();
  // PostgreSQL stays down for a fixed stretch under load: the outage is the point, not an event to await.
  await sleep(OUTAGE_MS);
  expectRunning(services.users);
  expectRunning(services.orders);
  const apis = [services.userApi, services.orderApi];
  const readiness = await Promise.all(apis.map((api) => api.get<Readiness>('/health/ready')));
  expect(readiness.map((r) => [r.status, r.body.status])).toEqual([
    [503, 'not_ready'],
    [503, 'not_ready'],
  ]);
  for (const api of apis) expect((await api.get('/health/live')).status).toBe(200);
  const startCalled = performance.now();
  await postgres.server().start();
  const started = performance.now();

  await pollUntil(
    'a successful write on each service after PostgreSQL is back',
    () =>
      loads.every((l) => l.records().some((r) => isWrite(r) && isSuccess(r) && r.endAt > started))
        ? true
        : undefined,
    { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 20 },
  );
  await sleep(LOAD_AFTER_RECOVERY_MS);
  for (const load of loads) load.stop();
  const [userRecords, orderRecords] = await Promise.all([userLoad.finished, orderLoad.finished]);
  return {
    userRecords,
    orderRecords,
    stopCalled,
    stopped,
    startCalled,
    started,
  };
}

const isUnavailableProblem = (r: LoadRecord): boolean => {
  const retryAfter = r.headers?.get('retry-after') ?? '';
  return (
    r.status === 503 &&
    /^\d+$/.test(retryAfter) &&
    Number(retryAfter) >= 1 &&
    (r.headers?.get('content-type') ?? '').includes('application/problem+json') &&
    (JSON.parse(r.text ?? '{}') as { status?: unknown }).status === 503
  );
};

/**
 * No crash (both running, nothing on stderr, every request answered: no reset, no refusal); only 2xx and
 * 503 (never a 500, never a 404 for a resource that exists); everything answered while PostgreSQL was down
 * a 503 problem with Retry-After.
 */
function expectNoCrashAndOnly503s({ users, orders }: Services, run: OutageRun) {
  expectRunning(users);
  expectRunning(orders);
  const records = [...run.userRecords, ...run.orderRecords];
  const unanswered = records.filter((r) => r.status === undefined);
  expect(unanswered, describeRecords(unanswered)).toEqual([]);
  const unexpected = records.filter((r) => !ALLOWED_STATUSES.has(r.status ?? 0));
  expect(unexpected, describeRecords(unexpected)).toEqual([]);
  // Sent and answered while PostgreSQL was down (answers read after its start are left out: they may be 2xx).
  const whileDown = records.filter((r) => r.sentAt >= run.stopped && r.endAt < run.startCalled);
  expect(whileDown.length).toBeGreaterThan(0);
  const notUnavailable = whileDown.filter((r) => r.status !== 503);
  expect(notUnavailable, describeRecords(notUnavailable)).toEqual([]);
  const unavailable = records.filter((r) => r.status === 503);
  const badProblems = unavailable.filter((r) => !isUnavailableProblem(r));
  expect(badProblems, describeRecords(badProblems)).toEqual([]);
  return {
    unanswered: unanswered.length,
    unexpected: unexpected.length,
    whileDown: whileDown.length,
    unavailable: unavailable.length,
  };
}

/** Recovery without a restart: readiness back to 200, the outage logged once and its end once. */
async function expectRecovered(
  { users, orders, userApi, orderApi }: Services,
  run: OutageRun,
): Promise<number> {
  const readyAfterMs = await pollUntil(
    'both services to be ready again',
    async () => {
      const res = await Promise.all([userApi, orderApi].map((api) => api.get<Readiness>('/health/ready')));
      return res.every((r) => r.status === 200) ? performance.now() - run.started : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  for (const service of [users, orders]) {
    expect(logged(service, OUTAGE_LOGGED), service.name).toBe(1);
    expect(logged(service, RECOVERY_LOGGED), service.name).toBe(1);
  }
  return readyAfterMs;
}

/**
 * Every resource reads back as last acknowledged (or with a later write that failed from the writer's side
 * but was applied), and the list endpoints hold every one of them.
 */
async function expectNoAcknowledgedWriteLost({ userApi, orderApi }: Services, ledger: WriteLedger) {
  const verdicts = [
    ...(await readBack(userApi, ledger, 'user')),
    ...(await readBack(orderApi, ledger, 'order')),
  ];
  const lost = verdicts.flatMap((v) => (v.outcome === 'lost' ? [v.detail] : []));
  expect(lost).toEqual([]);
  const listedUsers = await listAllIds(userApi, '/api/v1/users');
  const listedOrders = await listAllIds(orderApi, '/api/v1/orders');
  expect(ledger.ids('user').filter((id) => !listedUsers.includes(id))).toEqual([]);
  expect(ledger.ids('order').filter((id) => !listedOrders.includes(id))).toEqual([]);
  return {
    verified: verdicts.length,
    lost: lost.length,
    unacknowledgedApplied: verdicts.filter((v) => v.outcome === 'unacknowledged_write_applied').length,
    storedNeverAcknowledged:
      listedUsers.filter((id) => !ledger.state('user', id)).length +
      listedOrders.filter((id) => !ledger.state('order', id)).length,
  };
}

describe('PostgreSQL outage under write load', () => {
  it('when PostgreSQL is stopped and restarted mid-load, then both services answer 503 + Retry-After problems (never 500) while it is down, keep running, recover by themselves, and every write acknowledged with a 2xx is there afterwards', async () => {
    const ledger = new WriteLedger();
    const services = await startServicesOnPostgres(ledger);
    const userContract = await contractOf(services.users.url);
    const orderContract = await contractOf(services.orders.url);

    const run = await writeThroughOutage(services, ledger);

    const answers = expectNoCrashAndOnly503s(services, run);
    const contractChecked =
      checkRecords(userContract, run.userRecords) + checkRecords(orderContract, run.orderRecords);
    const readyAfterMs = await expectRecovered(services, run);
    const readBackResult = await expectNoAcknowledgedWriteLost(services, ledger);

    const records = [...run.userRecords, ...run.orderRecords];
    const writes = records.filter(isWrite);
    const okWrites = writes.filter(isSuccess);
    reportFigures('4 database outage', {
      writers: WRITERS_PER_SERVICE * 2,
      writes_sent: writes.length,
      writes_2xx: okWrites.length,
      writes_2xx_before: okWrites.filter((r) => r.endAt < run.stopCalled).length,
      writes_2xx_during: okWrites.filter((r) => r.endAt >= run.stopCalled && r.endAt <= run.started).length,
      writes_2xx_after: okWrites.filter((r) => r.endAt > run.started).length,
      answers_503: answers.unavailable,
      answers_other: answers.unexpected,
      failures: answers.unanswered,
      sent_and_answered_while_down: answers.whileDown,
      p99_ms: summarise(records).p99Ms,
      p99_2xx_ms: summarise(okWrites).p99Ms,
      pg_down_ms: run.startCalled - run.stopCalled,
      pg_start_ms: run.started - run.startCalled,
      user_service_recovery_ms: firstOkWriteAfter(run.userRecords, run.started),
      order_service_recovery_ms: firstOkWriteAfter(run.orderRecords, run.started),
      readiness_200_after_ms: readyAfterMs,
      resources_verified: readBackResult.verified,
      lost_writes: readBackResult.lost,
      unacknowledged_write_applied: readBackResult.unacknowledgedApplied,
      stored_never_acknowledged: readBackResult.storedNeverAcknowledged,
      contract_checked: contractChecked,
    });
  });
});
