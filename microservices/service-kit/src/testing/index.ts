export { captureLogger } from './capture-logger.js';
export {
  type CheckedClient,
  type CheckedResponse,
  createCheckedClient,
  httpClient,
  inProcessClient,
  type RequestOptions,
  type Send,
} from './checked-client.js';
export { type ExitResult, watchExit } from './child-exit.js';
export { COMMON_ENV_DEFAULTS } from './common-env-defaults.js';
export { configErrorOf } from './config-error.js';
export { FakeClock } from './fake-clock.js';
export { createFixtureService, FIXTURE_SECRET_FAILURE } from './fixture-service.js';
export { freePort } from './free-port.js';
export { ContractChecker, type ObservedResponse, type OpenApiDocument } from './openapi-contract.js';
export { percentile, percentileOf } from './percentile.js';
export { type PollOptions, pollUntil, within } from './poll.js';
export {
  createTestDatabase,
  findPostgresBinaries,
  noPostgresVerdict,
  startTestPostgres,
  type TestPostgres,
} from './postgres-server.js';
export { type PostgresStoreFactoryOptions, postgresStoreFactory } from './postgres-store-factory.js';
export { expectCompleteProblem } from './problem-assertions.js';
export { parseExposition, type Sample, sampleValue, scrape } from './prometheus-samples.js';
export { describeServiceContract, type ServiceContractTable } from './service-contract.js';
export { type MintOptions, type ProviderMode, TestIdentityProvider } from './test-identity-provider.js';
