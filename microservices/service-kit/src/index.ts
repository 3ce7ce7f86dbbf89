export {
  createServiceApp,
  createServicePager,
  type ServiceAppParts,
  type ServiceDescription,
} from './app/create-service-app.js';
export type { Clock } from './base/clock.js';
export { systemClock } from './base/clock.js';
export { createDispatcher, type DispatcherOptions } from './base/dispatcher.js';
export { Lifecycle } from './base/lifecycle.js';
export {
  createLogDestination,
  createLogger,
  type Logger,
  type LoggerConfig,
  silentLogger,
} from './base/logger.js';
export { createMetricsRegistry, LATENCY_BUCKETS_SECONDS } from './base/metrics-registry.js';
export { authEnvShape, authSettingsFromEnv, refineAuthChoice } from './boot/auth-env.js';
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
} from './boot/env.js';
export { createGracefulShutdown, type GracefulShutdownOptions } from './boot/graceful-shutdown.js';
export { type MigrateOptions, migrate } from './boot/postgres/migrations.js';
export { openDatabase, resolveMigrationsDir } from './boot/postgres/open-database.js';
export { type ClosableStore, openStore, type StoreMakers } from './boot/postgres/open-store.js';
export { exitOnSignals, loadConfigOrExit } from './boot/process-hooks.js';
export { runMigrationsCommand } from './boot/run-migrations.js';
export { type HttpServerOptions, type RunningServer, startHttpServer } from './boot/server/http-server.js';
export {
  type BootParts,
  type Resource,
  type ServiceEnv,
  type StartingService,
  type StartOptions,
  startService,
} from './boot/start-service.js';
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
} from './data/idempotency.js';
export {
  DEFAULT_MEMORY_STORE_MAX_BYTES,
  MemoryBudget,
  type MemoryBudgetOptions,
  storeFull,
  stringBytes,
} from './data/memory-budget.js';
export { MemoryIdempotencyKeys } from './data/memory-idempotency.js';
export {
  jsonBytes,
  MemoryRecords,
  type MemoryRecordsOptions,
  type PagedEntry,
} from './data/memory-records.js';
export {
  Database,
  type DatabaseOptions,
  DatabaseUnavailableError,
  describeDbError,
  isUnavailable,
  type Queryable,
} from './data/postgres/database.js';
export {
  type DatabaseEnv,
  databaseEnvShape,
  refineStorageChoice,
  type StorageTarget,
} from './data/postgres/database-env.js';
export {
  insertIdempotently,
  lookupIdempotencyKey,
  purgeExpiredIdempotencyKeys,
} from './data/postgres/pg-idempotency.js';
export type { AppContext, AppEnv, AppRouteHandler } from './edge/app-env.js';
export {
  ASYMMETRIC_ALGORITHMS,
  type AuthSettings,
  DEFAULT_ALGORITHMS,
  MAX_TOKEN_LENGTH,
} from './edge/auth/auth-settings.js';
export { AUTH_FAILURE_REASONS, type AuthFailureReason } from './edge/auth/authenticate.js';
export {
  type Access,
  accessOf,
  accessUnder,
  ensureReaches,
  notOwner,
  OWN_SUFFIX,
  reaches,
} from './edge/auth/authorize.js';
export { IdentityProviderUnavailable } from './edge/auth/issuer-keys.js';
export { type Principal, scopesOf } from './edge/auth/principal.js';
export { TokenRejected, type TokenRejection, TokenVerifier } from './edge/auth/token-verifier.js';
export { DEFAULT_BODY_LIMIT_BYTES } from './edge/body-limit.js';
export type { ResponseHeaderRecord } from './edge/envelope.js';
export { problemJson } from './edge/error-handler.js';
export { MAX_JSON_DEPTH } from './edge/json-body.js';
export { reply, replyJson } from './edge/reply.js';
export { MAX_REQUEST_ID_LENGTH } from './edge/request-id.js';
export { API_CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY } from './edge/security-headers.js';
export { reserveAnswerOrRefuse, unsentAnswersSpent } from './edge/unsent-answers.js';
export {
  AppError,
  type AppErrorOptions,
  conflict,
  type FieldError,
  notFound,
  serviceUnavailable,
  validationFailed,
} from './problems/app-error.js';
export {
  PROBLEM_TYPES,
  type ProblemSlug,
  type ProblemType,
  type SlugWithStatus,
} from './problems/catalogue.js';
export {
  bodyProblemResponses,
  commonProblemResponses,
  type DocumentedProblem,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  ProblemSchema,
  pageResponse,
  problemResponse,
  problemTypeUri,
  storeFullResponse,
} from './problems/problem-schemas.js';
export { defaultSwaggerAssetsDir } from './routes/docs.js';
export { FAULT_HEADER } from './routes/faults/fault-injector.js';
export { FAULTS_ADMIN_PATH } from './routes/faults/fault-routes.js';
export {
  DEFAULT_FAULT_SETTINGS,
  type DelayRange,
  FAULT_MODES,
  type FaultMode,
  type FaultSettings,
  MAX_FAULT_DELAY_MS,
} from './routes/faults/fault-settings.js';
export { type CheckResult, type HealthCheck, runChecks } from './routes/health/checks.js';
export { createRouter } from './routes/openapi/create-router.js';
export { jsonContent } from './routes/openapi/json-content.js';
export {
  ADMIN_SCOPE,
  authProblemResponses,
  BEARER_SCHEME,
  OPEN_TO_ALL,
  requires,
} from './routes/openapi/secured.js';
export { isStorableText, plainString, resourceId } from './routes/openapi/text.js';
export { memoryPage } from './routes/paging/memory-page.js';
export {
  MAX_PAGE_SIZE,
  type PageRequest,
  PaginationQuerySchema,
  type Positioned,
  pageRequestOf,
} from './routes/paging/page-query.js';
export { DEFAULT_MAX_RESPONSE_BYTES, MIN_MAX_RESPONSE_BYTES, replyPage } from './routes/paging/page-reply.js';
export {
  createPager,
  DEFAULT_MAX_CONCURRENT_LISTS,
  type PageRows,
  type Pager,
  type PagerOptions,
} from './routes/paging/pager.js';
export type { ResourceHandlerDeps } from './routes/resource-handler-deps.js';
export type { ServiceInfo } from './routes/service-routes.js';
