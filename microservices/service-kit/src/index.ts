export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export {
  booleanVar,
  type CommonEnv,
  ConfigError,
  commonEnvShape,
  decimalVar,
  type EnvSource,
  intVar,
  LOG_LEVELS,
  numberVar,
  parseEnv,
  portVar,
} from './config/env.js';
export {
  AppError,
  type AppErrorOptions,
  conflict,
  type FieldError,
  notFound,
  serviceUnavailable,
  validationFailed,
} from './errors/app-error.js';
export { problemJson } from './errors/error-handler.js';
export {
  bodyProblemResponses,
  commonProblemResponses,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  ProblemSchema,
  pageResponse,
  problemResponse,
  problemTypeUri,
  storeFullResponse,
} from './errors/problem.js';
export { FAULT_HEADER } from './faults/fault-injector.js';
export { FAULTS_ADMIN_PATH } from './faults/fault-routes.js';
export {
  DEFAULT_FAULT_SETTINGS,
  type DelayRange,
  FAULT_MODES,
  type FaultMode,
  type FaultSettings,
  MAX_FAULT_DELAY_MS,
} from './faults/fault-settings.js';
export { type CheckResult, type HealthCheck, runChecks } from './health/checks.js';
export { Lifecycle } from './health/lifecycle.js';
export type { AppEnv, AppRouteHandler } from './http/app-env.js';
export { DEFAULT_BODY_LIMIT_BYTES } from './http/body-limit.js';
export { MAX_JSON_DEPTH } from './http/json-body.js';
export { addResponseHeader, reply, replyJson } from './http/reply.js';
export { MAX_REQUEST_ID_LENGTH } from './http/request-id.js';
export type { ResponseHeaderRecord } from './http/response-headers.js';
export { API_CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY } from './http/security-headers.js';
export {
  hashRequest,
  IDEMPOTENCY_TTL_MS,
  IDEMPOTENT_REPLAY_HEADERS,
  IdempotencyHeaderSchema,
  type IdempotencyRequest,
  type IdempotentResult,
  idempotencyKeyReused,
  idempotencyRequest,
  type StoredIdempotencyKey,
} from './idempotency/idempotency.js';
export { MemoryIdempotencyKeys } from './idempotency/memory-idempotency.js';
export {
  createLogDestination,
  createLogger,
  type Logger,
  type LoggerConfig,
  silentLogger,
} from './logging/logger.js';
export {
  DEFAULT_MEMORY_STORE_MAX_BYTES,
  MemoryBudget,
  type MemoryBudgetOptions,
  storeFull,
  stringBytes,
} from './memory/memory-budget.js';
export { createMetricsRegistry, LATENCY_BUCKETS_SECONDS } from './metrics/registry.js';
export { createRouter } from './openapi/create-router.js';
export {
  createServiceApp,
  type ServiceAppParts,
  type ServiceDescription,
} from './openapi/create-service-app.js';
export { defaultSwaggerAssetsDir } from './openapi/docs.js';
export { jsonContent } from './openapi/json-content.js';
export type { ServiceInfo } from './openapi/service-routes.js';
export { isStorableText, plainString, resourceId } from './openapi/text.js';
export { createDispatcher, type DispatcherOptions } from './outbound/dispatcher.js';
export { jsonBytes, memoryPage, type PagedEntry } from './paging/memory-page.js';
export {
  MAX_PAGE_SIZE,
  type PageRequest,
  PaginationQuerySchema,
  type Positioned,
  pageRequestOf,
} from './paging/page-query.js';
export { DEFAULT_MAX_RESPONSE_BYTES, MIN_MAX_RESPONSE_BYTES, replyPage } from './paging/page-reply.js';
export {
  createPager,
  DEFAULT_MAX_CONCURRENT_LISTS,
  type PageRows,
  type Pager,
  type PagerOptions,
} from './paging/pager.js';
export {
  Database,
  type DatabaseOptions,
  DatabaseUnavailableError,
  describeDbError,
  isUnavailable,
  type Queryable,
} from './postgres/database.js';
export { type DatabaseEnv, databaseEnvShape, type StorageTarget } from './postgres/database-env.js';
export { type MigrateOptions, migrate } from './postgres/migrations.js';
export { openDatabase, resolveMigrationsDir } from './postgres/open-database.js';
export { type ClosableStore, openStore } from './postgres/open-store.js';
export {
  insertIdempotently,
  lookupIdempotencyKey,
  purgeExpiredIdempotencyKeys,
} from './postgres/pg-idempotency.js';
export { type BootedApp, type BootOptions, type BootParts, bootService } from './server/boot-service.js';
export { createGracefulShutdown, type GracefulShutdownOptions } from './server/graceful-shutdown.js';
export { type HttpServerOptions, type RunningServer, startHttpServer } from './server/http-server.js';
export { exitOnSignals, loadConfigOrExit } from './server/process-hooks.js';
export { runMigrationsCommand } from './server/run-migrations.js';
