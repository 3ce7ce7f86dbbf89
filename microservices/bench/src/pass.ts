import { type BenchIdentity, startBenchIdentity } from './auth.js';
import type { BenchConfig } from './config.js';
import { type FastFailResult, measureFastFail } from './fast-fail.js';
import { type GrowthResult, measureGrowth } from './growth.js';
import { jsonRequest, orderBody } from './http.js';
import type { LoadGenerator } from './load/types.js';
import {
  type FixedRateRow,
  measureFixedRate,
  measureThroughput,
  rssMB,
  type Scenario,
  type StoreKind,
  type ThroughputRow,
} from './measure.js';
import type { BenchPostgres } from './postgres.js';
import { freePort, type ManagedProcess, type ProcessGroup, waitFor200 } from './processes.js';
import { type RunSettings, startService } from './services.js';
import { measureStartToReady, type StartToReady } from './start-to-ready.js';

export interface PassContext {
  config: BenchConfig;
  group: ProcessGroup;
  generator: LoadGenerator;
  settings: RunSettings;
  /** The bundled ceiling server. */
  ceilingScript: string;
  /** A new unique prefix for generated emails. */
  prefix: () => string;
  /** Scratch directory of the run (order-service's projected token file lives there). */
  scratch: string;
  log: (message: string) => void;
}

export interface ProcessMemory {
  process: string;
  /** After every load scenario of the pass (before the growth fill). */
  rssAfterLoadMB: number;
  /** At the end of the pass (user-service: holding the grown table). */
  rssAtEndMB: number;
}

export interface PassResult {
  store: StoreKind;
  ceiling: { beforeRps: number; afterRps: number; meanRps: number; bodyBytes: number };
  throughput: ThroughputRow[];
  fixedRate: FixedRateRow[];
  growth: GrowthResult;
  memory: ProcessMemory[];
  startToReady: StartToReady[];
  fastFail: FastFailResult | null;
}

export interface PassExtras {
  startToReady: boolean;
  /** Stops this pass's user-service, so it runs last. */
  fastFail: boolean;
  /** Also runs GET user and POST order against a pair with authentication on (AUTH_ENABLED), beside the rest. */
  auth: boolean;
}

const SEED_USERS = 100;

/** The processes of one pass: user-service and two order-services (known-users cache on and off) using it. */
interface PassServices {
  us: ManagedProcess;
  osOn: ManagedProcess;
  osOff: ManagedProcess;
  /** user-service's database, on PostgreSQL. */
  userDb: string | undefined;
  /** The same pair with authentication on, when the pass measures it. */
  secured: SecuredPair | undefined;
}

/** user-service and order-service (cache on) with AUTH_ENABLED, and what calling them takes. */
interface SecuredPair {
  us: ManagedProcess;
  os: ManagedProcess;
  identity: BenchIdentity;
}

/** What the seed left behind for the scenarios to use. */
interface Seed {
  userId: string;
  orderId: string;
  /** The exact GET user answer: the ceiling serves these bytes. */
  userJson: string;
}

type NewDatabase = (prefix: string) => Promise<string | undefined>;

/** Every scenario on one store: both services (and a ceiling) started fresh for it. */
export async function runPass(
  ctx: PassContext,
  store: StoreKind,
  postgres: BenchPostgres | null,
  extras: PassExtras,
): Promise<PassResult> {
  const { config, log } = ctx;
  const database: NewDatabase = async (prefix) =>
    postgres ? await postgres.createDatabase(prefix) : undefined;
  const services = await startServices(ctx, store, database, extras.auth);
  const secured = services.secured;
  const processes = [
    services.us,
    services.osOn,
    services.osOff,
    ...(secured ? [secured.us, secured.os] : []),
  ];
  log(`${store}: seeding ${SEED_USERS} users and an order`);
  const seed = await seedData(ctx, services);
  const ceiling = await startCeiling(ctx, seed.userJson);
  const scenarios = buildScenarios(services, seed);
  if (secured) scenarios.splice(-1, 0, ...(await securedScenarios(ctx, secured)));
  const ceilingScenario: Scenario = {
    id: 'ceiling',
    label: 'ceiling: bare Hono, static JSON',
    target: { url: `${ceiling.url}/api/v1/users/${seed.userId}`, method: 'GET' },
    proc: ceiling,
  };

  const { throughput, ceilingRates } = await runClosedLoops(ctx, store, ceilingScenario, scenarios);
  const fixedRate: FixedRateRow[] = [];
  for (const scenario of [ceilingScenario, ...scenarios]) {
    log(`${store}: ${scenario.label} at ${config.rate} req/s for ${config.rateDurationS} s`);
    fixedRate.push(await measureFixedRate(config, store, scenario, ctx.prefix));
  }
  await ceiling.stop();
  const afterLoad = new Map(processes.map((p) => [p.name, rssMB(p)]));

  const growth = await runGrowth(ctx, store, scenarios, services.userDb, database);
  const memory = processes.map((p) => ({
    process: p.name,
    rssAfterLoadMB: afterLoad.get(p.name) ?? Number.NaN,
    rssAtEndMB: rssMB(p),
  }));

  const startToReady: StartToReady[] = [];
  if (extras.startToReady) {
    log(`${store}: start-to-ready, ${config.readyStarts} starts per service`);
    startToReady.push(
      await measureStartToReady(
        ctx.group,
        ctx.settings,
        'user-service',
        store,
        config.readyStarts,
        {},
        await database('bench_ready_users'),
      ),
      await measureStartToReady(
        ctx.group,
        ctx.settings,
        'order-service',
        store,
        config.readyStarts,
        { USER_SERVICE_URL: services.us.url },
        await database('bench_ready_orders'),
      ),
    );
  }

  let fastFail: FastFailResult | null = null;
  if (extras.fastFail) {
    log(`${store}: breaker-open fast-fail (user-service stopped)`);
    fastFail = await measureFastFail(config, services.us, services.osOff, seed.userId);
  }

  await Promise.all(processes.map((p) => p.stop('SIGTERM', 15_000)));
  await secured?.identity.stop();
  return {
    store,
    ceiling: { ...ceilingRates, bodyBytes: Buffer.byteLength(seed.userJson) },
    throughput,
    fixedRate,
    growth,
    memory,
    startToReady,
    fastFail,
  };
}

async function startServices(
  ctx: PassContext,
  store: StoreKind,
  database: NewDatabase,
  auth: boolean,
): Promise<PassServices> {
  const userDb = await database('bench_users');
  const us = await startService(
    ctx.group,
    { name: 'user-service', label: `user-service-${store}`, databaseUrl: userDb },
    ctx.settings,
  );
  const orderService = async (cache: boolean) =>
    startService(
      ctx.group,
      {
        name: 'order-service',
        label: `order-service-${store}-cache-${cache ? 'on' : 'off'}`,
        databaseUrl: await database('bench_orders'),
        env: { USER_SERVICE_URL: us.url, USER_CACHE_ENABLED: String(cache) },
      },
      ctx.settings,
    );
  return {
    us,
    osOn: await orderService(true),
    osOff: await orderService(false),
    userDb,
    secured: auth ? await startSecuredPair(ctx, store, database) : undefined,
  };
}

async function startSecuredPair(
  ctx: PassContext,
  store: StoreKind,
  database: NewDatabase,
): Promise<SecuredPair> {
  const identity = await startBenchIdentity(ctx.scratch);
  const us = await startService(
    ctx.group,
    {
      name: 'user-service',
      label: `user-service-${store}-auth`,
      databaseUrl: await database('bench_users_auth'),
      env: identity.userServiceEnv,
    },
    ctx.settings,
  );
  const os = await startService(
    ctx.group,
    {
      name: 'order-service',
      label: `order-service-${store}-auth`,
      databaseUrl: await database('bench_orders_auth'),
      env: { ...identity.orderServiceEnv, USER_SERVICE_URL: us.url },
    },
    ctx.settings,
  );
  return { us, os, identity };
}

/**
 * GET user and POST order with a staff token on every request, against the pair with AUTH_ENABLED: beside
 * the same scenarios without, they give what verifying a token costs (its signature with a cached key).
 */
async function securedScenarios(ctx: PassContext, { us, os, identity }: SecuredPair): Promise<Scenario[]> {
  const body = { name: 'Seed User', email: `${ctx.prefix()}-seed@example.com`, age: 30 };
  const { json: user } = await jsonRequest<{ id: string }>('POST', `${us.url}/api/v1/users`, body, 201, {
    headers: identity.userServiceHeaders,
  });
  return [
    {
      id: 'get-user-auth',
      label: 'GET user by id (auth on)',
      target: {
        url: `${us.url}/api/v1/users/${user.id}`,
        method: 'GET',
        headers: identity.userServiceHeaders,
      },
      proc: us,
    },
    {
      id: 'post-order-auth',
      label: 'POST order (auth on, cache on)',
      target: {
        url: `${os.url}/api/v1/orders`,
        method: 'POST',
        body: orderBody(user.id),
        headers: identity.orderServiceHeaders,
      },
      proc: os,
      upstream: us,
    },
  ];
}

/** 100 users (so a page of 100 is full) and one order, through the API. */
async function seedData(ctx: PassContext, { us, osOn }: PassServices): Promise<Seed> {
  const userIds: string[] = [];
  for (let i = 0; i < SEED_USERS; i++) {
    const body = { name: `Seed User ${i}`, email: `${ctx.prefix()}-seed@example.com`, age: 30 };
    const { json } = await jsonRequest<{ id: string }>('POST', `${us.url}/api/v1/users`, body, 201);
    userIds.push(json.id);
  }
  const userId = userIds[0] ?? '';
  const order = JSON.parse(orderBody(userId)) as unknown;
  const { json } = await jsonRequest<{ id: string }>('POST', `${osOn.url}/api/v1/orders`, order, 201);
  const { text: userJson } = await jsonRequest('GET', `${us.url}/api/v1/users/${userId}`, undefined, 200);
  return { userId, orderId: json.id, userJson };
}

function buildScenarios({ us, osOn, osOff }: PassServices, seed: Seed): Scenario[] {
  const order = orderBody(seed.userId);
  return [
    {
      id: 'health-live',
      label: 'GET /health/live',
      target: { url: `${us.url}/health/live`, method: 'GET' },
      proc: us,
    },
    {
      id: 'get-user',
      label: 'GET user by id',
      target: { url: `${us.url}/api/v1/users/${seed.userId}`, method: 'GET' },
      proc: us,
    },
    {
      id: 'list-users',
      label: 'GET users (limit 100)',
      target: { url: `${us.url}/api/v1/users?limit=100`, method: 'GET' },
      proc: us,
    },
    {
      id: 'get-order',
      label: 'GET order by id',
      target: { url: `${osOn.url}/api/v1/orders/${seed.orderId}`, method: 'GET' },
      proc: osOn,
    },
    {
      id: 'post-order-cache-on',
      label: 'POST order (cache on)',
      target: { url: `${osOn.url}/api/v1/orders`, method: 'POST', body: order },
      proc: osOn,
      upstream: us,
    },
    {
      id: 'post-order-cache-off',
      label: 'POST order (cache off)',
      target: { url: `${osOff.url}/api/v1/orders`, method: 'POST', body: order },
      proc: osOff,
      upstream: us,
    },
    // Last: every request adds a user, and how the table's size matters is measured on its own (growth).
    {
      id: 'post-user',
      label: 'POST user',
      target: { url: `${us.url}/api/v1/users`, method: 'POST', uniqueUserPrefix: 'x' },
      proc: us,
    },
  ];
}

/** The ceiling, every scenario, the ceiling again; each row's ratio is to the mean of the two ceilings. */
async function runClosedLoops(ctx: PassContext, store: StoreKind, ceiling: Scenario, scenarios: Scenario[]) {
  const { config } = ctx;
  const throughput: ThroughputRow[] = [];
  const closedLoop = async (scenario: Scenario) => {
    ctx.log(`${store}: ${scenario.label} (closed loop, ${config.warmupS}+${config.durationS} s)`);
    const row = await measureThroughput(ctx.generator, config, store, scenario, ctx.prefix);
    throughput.push(row);
    return row;
  };
  const before = await closedLoop(ceiling);
  for (const scenario of scenarios) await closedLoop(scenario);
  const after = await closedLoop(ceiling);
  after.label = 'ceiling (again, after the scenarios)';
  const meanRps = (before.rps + after.rps) / 2;
  for (const row of throughput) row.ratio = row.rps / meanRps;
  return { throughput, ceilingRates: { beforeRps: before.rps, afterRps: after.rps, meanRps } };
}

/** POST user on a fresh empty table vs on this pass's table grown to `growthUsers` rows. */
async function runGrowth(
  ctx: PassContext,
  store: StoreKind,
  scenarios: Scenario[],
  userDb: string | undefined,
  database: NewDatabase,
): Promise<GrowthResult> {
  const postUser = scenarios.find((s) => s.id === 'post-user');
  if (!postUser) throw new Error('POST user scenario missing');
  ctx.log(
    `${store}: filling the users table to ${ctx.config.growthUsers} rows; POST user on an empty and on that table`,
  );
  const emptyUs = await startService(
    ctx.group,
    {
      name: 'user-service',
      label: `user-service-${store}-empty`,
      databaseUrl: await database('bench_users'),
    },
    ctx.settings,
  );
  try {
    const empty = {
      ...postUser,
      target: { ...postUser.target, url: `${emptyUs.url}/api/v1/users` },
      proc: emptyUs,
    };
    return await measureGrowth(
      ctx.generator,
      ctx.config,
      store,
      { grown: postUser, empty, databaseUrl: userDb },
      ctx.prefix,
    );
  } finally {
    await emptyUs.stop('SIGTERM', 15_000);
  }
}

async function startCeiling(ctx: PassContext, body: string): Promise<ManagedProcess> {
  const port = await freePort();
  const proc = ctx.group.spawn({
    node: ctx.settings.node,
    name: 'ceiling',
    script: ctx.ceilingScript,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      CEILING_BODY: body,
      ...(ctx.settings.nodeOptions ? { NODE_OPTIONS: ctx.settings.nodeOptions } : {}),
    },
    port,
    cwd: process.cwd(),
  });
  await waitFor200(proc, '/api/v1/users/ready-check', { timeoutMs: 15_000, pollMs: 20 });
  return proc;
}
