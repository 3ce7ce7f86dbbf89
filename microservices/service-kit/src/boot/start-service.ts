import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ServiceAppParts } from '../app/create-service-app.js';
import { Lifecycle } from '../base/lifecycle.js';
import { closeLogDestination, createLogDestination, createLogger } from '../base/logger.js';
import { createMetricsRegistry } from '../base/metrics-registry.js';
import type { DatabaseEnv } from '../data/postgres/database-env.js';
import { TokenVerifier } from '../edge/auth/token-verifier.js';
import { defaultSwaggerAssetsDir } from '../routes/docs.js';
import { faultSettingsFromEnv, ignoredFaultVariables } from '../routes/faults/fault-env.js';
import { type FaultSettings, formatDelayRange } from '../routes/faults/fault-settings.js';
import type { ServiceInfo } from '../routes/service-routes.js';
import { authSettingsFromEnv } from './auth-env.js';
import type { CommonEnv } from './env.js';
import { createGracefulShutdown } from './graceful-shutdown.js';
import { type ClosableStore, openStore, type StoreMakers } from './postgres/open-store.js';
import { exitOnSignals } from './process-hooks.js';
import { startHttpServer } from './server/http-server.js';

/**
 * The configured parts of every service's app, prepared by `startService` from the common environment; a
 * service's `main.ts` adds its own (store, clock, clients) and passes them all to its `createApp`.
 */
export type BootParts = Required<
  Pick<
    ServiceAppParts,
    | 'info'
    | 'logger'
    | 'registry'
    | 'lifecycle'
    | 'docsAssetsDir'
    | 'bodyLimitBytes'
    | 'maxResponseBytes'
    | 'maxConcurrentLists'
    | 'corsOrigins'
  >
> &
  Pick<ServiceAppParts, 'faults' | 'rateLimit' | 'tokenVerifier'>;

export type ServiceEnv = CommonEnv & DatabaseEnv & { PORT: number };

export interface StartOptions<E extends ServiceEnv> {
  service: string;
  env: E;
  /** Version baked into the build (package.json); `APP_VERSION` overrides it. */
  packageVersion: string;
  /** `import.meta.url` of main: bundled builds ship Swagger UI files in `./swagger-ui` and migrations beside it. */
  mainUrl: string;
}

/** Something closed in order after the HTTP server has drained. */
export interface Resource {
  name: string;
  close: () => Promise<void>;
}

/** A service's start-up under way: the parts made so far, and the next steps `main.ts` takes in order. */
export interface StartingService {
  /** The configured parts of the app (see BootParts): spread them into the service's `createApp`. */
  readonly parts: BootParts;
  /** Opens the store `DATABASE_URL` asks for (see openStore); its resource closes it on shutdown. */
  openStore<S extends ClosableStore>(stores: StoreMakers<S>): Promise<{ store: S; resource: Resource }>;
  /**
   * Listens with `app` and hands shutdown to the signal handlers: `resources` are closed, in order, after
   * the server has drained. Exits with 1, closing them, when the address cannot be had.
   */
  serve(
    app: { fetch: (request: Request) => Response | Promise<Response> },
    resources: readonly Resource[],
  ): Promise<void>;
}

/**
 * The first step of every `main.ts`, after the environment: the logger, the metrics registry, the
 * lifecycle and the configured parts. Reads nothing but `env`; the next steps are the returned object's
 * (env → parts → app → serve, top to bottom, each thing passed once).
 */
export async function startService<E extends ServiceEnv>(options: StartOptions<E>): Promise<StartingService> {
  const { env, service, mainUrl } = options;
  const info: ServiceInfo = {
    service,
    version: env.APP_VERSION ?? options.packageVersion,
    commit: env.GIT_COMMIT,
  };
  const logDestination = await createLogDestination({ pretty: process.stdout.isTTY === true });
  const logger = createLogger({ level: env.LOG_LEVEL, service, version: info.version }, logDestination);
  const bundledAssets = fileURLToPath(new URL('./swagger-ui', mainUrl));
  const lifecycle = new Lifecycle();
  const faults = announceFaults(env, logger);
  const tokenVerifier = announceAuth(env, service, logger);
  const registry = createMetricsRegistry({ defaultMetrics: true });
  const parts: BootParts = {
    info,
    logger,
    registry,
    lifecycle,
    docsAssetsDir: existsSync(bundledAssets) ? bundledAssets : defaultSwaggerAssetsDir(),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    maxResponseBytes: env.MAX_RESPONSE_BYTES,
    maxConcurrentLists: env.MAX_CONCURRENT_LISTS,
    corsOrigins: env.CORS_ORIGINS,
    tokenVerifier,
    rateLimit: env.RATE_LIMIT_ENABLED
      ? {
          ratePerSecond: env.RATE_LIMIT_RPS,
          burst: env.RATE_LIMIT_BURST,
          maxClients: env.RATE_LIMIT_MAX_CLIENTS,
          trustedProxies: env.TRUSTED_PROXIES,
        }
      : undefined,
    faults,
  };

  return {
    parts,
    openStore: (stores) => openStore({ env, service, mainUrl, logger, registry, ...stores }),
    serve: async (app, resources) => {
      let running: Awaited<ReturnType<typeof startHttpServer>>;
      const probePort = env.PROBE_PORT === 0 ? undefined : env.PROBE_PORT;
      try {
        if (probePort === env.PORT) throw new Error(`PROBE_PORT must differ from PORT (both ${env.PORT})`);
        running = await startHttpServer({
          fetch: app.fetch,
          port: env.PORT,
          probePort,
          host: env.HOST,
          keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
          limits: {
            maxConnections: env.MAX_CONNECTIONS,
            maxInflightRequests: env.MAX_INFLIGHT_REQUESTS,
            maxPipelinedRequests: env.MAX_PIPELINED_REQUESTS,
            maxUnsentResponseBytes: env.MAX_UNSENT_RESPONSE_BYTES,
            maxRequestBodyBytesHeld: env.MAX_REQUEST_BODY_BYTES_HELD,
            bodyLimitBytes: env.BODY_LIMIT_BYTES,
            trustedProxies: env.TRUSTED_PROXIES,
            headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
            requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
            minBodyBytesPerSecond: env.MIN_BODY_BYTES_PER_SECOND,
            sendTimeoutMs: env.SEND_TIMEOUT_MS,
          },
          logger,
          registry,
        });
      } catch (err) {
        // EADDRINUSE, EACCES: say which address in one line instead of a stack trace, and exit non-zero.
        const ports = probePort === undefined ? `${env.PORT}` : `${env.PORT} and ${probePort} (PROBE_PORT)`;
        logger.fatal(
          { err, port: env.PORT, probe_port: probePort, host: env.HOST },
          `${service} could not listen on ${env.HOST}:${ports}`,
        );
        for (const resource of resources) await resource.close().catch(() => undefined);
        await closeLogDestination(logDestination);
        process.exit(1);
      }
      const { server, port } = running;
      logger.info(
        { port, probe_port: running.probePort, host: env.HOST, commit: info.commit },
        `${service} listening`,
      );
      exitOnSignals(
        createGracefulShutdown({
          server,
          lifecycle,
          logger,
          delayMs: env.SHUTDOWN_DELAY_MS,
          timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
          resources,
        }),
        logger,
        () => closeLogDestination(logDestination),
      );
    },
  };
}

/** Fault injection is loud when on, and says so when FAULT_* variables are set but have no effect. */
/** The token verifier AUTH_* asks for, and a warning nobody can miss when authentication is off. */
function announceAuth(env: CommonEnv, service: string, logger: Logger): TokenVerifier | undefined {
  const settings = authSettingsFromEnv(env, service);
  if (!settings) {
    logger.warn(
      'AUTHENTICATION OFF (AUTH_ENABLED=false): any caller that reaches this service may read and change everything; set AUTH_ENABLED=true with AUTH_ISSUERS before exposing it (the Helm chart does)',
    );
    return undefined;
  }
  logger.info(
    {
      auth_issuers: settings.issuers,
      auth_audience: settings.audience,
      auth_algorithms: settings.algorithms,
      auth_workload_issuer: settings.workload?.issuer,
    },
    'bearer-token authentication on',
  );
  return new TokenVerifier(settings);
}

function announceFaults(env: CommonEnv, logger: Logger): FaultSettings | undefined {
  const faults = faultSettingsFromEnv(env);
  if (faults) {
    logger.warn(
      {
        fault_mode: faults.mode,
        fault_delay_ms: formatDelayRange(faults.delayMs),
        fault_error_rate: faults.errorRate,
      },
      'FAULT INJECTION ENABLED (FAULTS_ENABLED=true): API routes can be delayed or failed on purpose through PUT /admin/faults; never run like this in production',
    );
  }
  const ignored = ignoredFaultVariables(env);
  if (ignored.length > 0) {
    logger.warn(
      { ignored },
      `${ignored.join(', ')} set but FAULTS_ENABLED is not true: no faults are injected`,
    );
  }
  return faults;
}
