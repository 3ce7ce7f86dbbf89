import { createDispatcher, loadConfigOrExit, startService, systemClock } from '@microservices/service-kit';
import packageJson from '../package.json' with { type: 'json' };
import { createApp, SERVICE_NAME } from './app.js';
import { parseOrderServiceEnv } from './env.js';
import { MemoryOrderStore } from './store/memory-order-store.js';
import type { OrderStore } from './store/order-store.js';
import { PgOrderStore } from './store/pg-order-store.js';
import { clientCredentials, projectedTokenFile } from './user-client/call-credentials.js';
import { createHttpUserClient } from './user-client/http-user-client.js';
import { createUserClientMetrics } from './user-client/user-client-metrics.js';

// The composition root, top to bottom: env → parts → app → serve. The only module that reads the environment.
const env = loadConfigOrExit(SERVICE_NAME, () => parseOrderServiceEnv(process.env));

const service = await startService({
  service: SERVICE_NAME,
  env,
  packageVersion: packageJson.version,
  mainUrl: import.meta.url,
});
const { logger, registry } = service.parts;
const { store, resource: storeResource } = await service.openStore<OrderStore>({
  postgres: (db) => new PgOrderStore(db),
  memory: (budget) => new MemoryOrderStore({ budget }),
});
// One keep-alive pool for every call to user-service; its idle timeout stays under user-service's 65 s.
const dispatcher = createDispatcher({
  connections: env.USER_SERVICE_CONNECTIONS,
  connectTimeoutMs: Math.min(env.USER_SERVICE_TIMEOUT_MS, 5_000),
  keepAliveTimeoutMs: 30_000,
});
// order-service's own identity when user-service checks tokens: the kubelet's projected token, or a client's.
const credentials = env.USER_SERVICE_TOKEN_FILE
  ? projectedTokenFile(env.USER_SERVICE_TOKEN_FILE)
  : env.USER_SERVICE_TOKEN_URL
    ? clientCredentials({
        tokenUrl: env.USER_SERVICE_TOKEN_URL,
        clientId: env.USER_SERVICE_CLIENT_ID ?? '',
        clientSecret: env.USER_SERVICE_CLIENT_SECRET ?? '',
        scope: env.USER_SERVICE_TOKEN_SCOPE,
        audience: env.USER_SERVICE_TOKEN_AUDIENCE,
        dispatcher,
        timeoutMs: env.USER_SERVICE_TIMEOUT_MS,
      })
    : undefined;
const userClient = createHttpUserClient({
  baseUrl: env.USER_SERVICE_URL,
  dispatcher,
  credentials,
  metrics: createUserClientMetrics(registry),
  logger,
  resilience: {
    attemptTimeoutMs: env.USER_SERVICE_TIMEOUT_MS,
    deadlineMs: env.USER_SERVICE_DEADLINE_MS,
    retries: env.USER_SERVICE_RETRIES,
    retryBaseDelayMs: env.USER_SERVICE_RETRY_BASE_MS,
    breakerThreshold: env.USER_SERVICE_BREAKER_THRESHOLD,
    halfOpenAfterMs: env.USER_SERVICE_BREAKER_HALF_OPEN_MS,
  },
});

const app = createApp({
  ...service.parts,
  store,
  userClient,
  clock: systemClock,
  userCache: {
    enabled: env.USER_CACHE_ENABLED,
    ttlMs: env.USER_CACHE_TTL_MS,
    maxEntries: env.USER_CACHE_MAX_ENTRIES,
  },
});

await service.serve(app, [
  { name: 'user-service dispatcher', close: () => dispatcher.close() },
  storeResource,
]);
