import type { BenchConfig } from './config.js';
import { jsonRequest } from './http.js';
import type { LoadGenerator } from './load/types.js';
import { measureThroughput, type Scenario, type StoreKind, type ThroughputRow } from './measure.js';
import { fillUsersTable } from './postgres.js';

export interface GrowthResult {
  store: StoreKind;
  /** Rows in the grown table before its measurement. */
  usersBefore: number;
  /** POST user on a fresh, empty table, measured right before `grown`. */
  empty: ThroughputRow;
  /** POST user on the table grown to `usersBefore` rows. */
  grown: ThroughputRow;
  /** grown.rps ÷ empty.rps. */
  ratio: number;
  fillSeconds: number;
  fillMethod: string;
}

const FILL_CHUNK_S = 2;
const MAX_FILL_CHUNKS = 60;

/** True when the memory store holds at least `n` users (one page of one user at offset n-1). */
async function holdsAtLeast(userServiceUrl: string, n: number): Promise<boolean> {
  const { json } = await jsonRequest<unknown[]>(
    'GET',
    `${userServiceUrl}/api/v1/users?skip=${n - 1}&limit=1`,
    undefined,
    200,
  );
  return json.length === 1;
}

export interface GrowthSetup {
  /** POST user against the pass's user-service, whose table is grown here. */
  grown: Scenario;
  /** POST user against a fresh user-service with an empty table (own database on PostgreSQL). */
  empty: Scenario;
  /** The grown instance's database, when it is PostgreSQL. */
  databaseUrl?: string | undefined;
}

/**
 * "POST user stays flat as the table grows": fills the pass's users table to `config.growthUsers` rows,
 * then measures POST user on a fresh empty table and on the grown one back to back, so the machine's
 * load drifts as little as possible between the two numbers compared. PostgreSQL is filled with one
 * set-based INSERT; the memory store through the API with the load generator.
 */
export async function measureGrowth(
  generator: LoadGenerator,
  config: BenchConfig,
  store: StoreKind,
  setup: GrowthSetup,
  prefix: () => string,
): Promise<GrowthResult> {
  const started = performance.now();
  let usersBefore: number;
  let fillMethod: string;
  if (setup.databaseUrl) {
    usersBefore = await fillUsersTable(setup.databaseUrl, config.growthUsers, prefix());
    fillMethod = 'one INSERT … SELECT generate_series';
  } else {
    const url = new URL(setup.grown.target.url).origin;
    let chunks = 0;
    while (!(await holdsAtLeast(url, config.growthUsers))) {
      if (++chunks > MAX_FILL_CHUNKS) {
        throw new Error(`could not reach ${config.growthUsers} users through the API`);
      }
      await generator.run(
        { ...setup.grown.target, uniqueUserPrefix: prefix() },
        { connections: config.connections, threads: config.threads, durationS: FILL_CHUNK_S },
      );
    }
    usersBefore = config.growthUsers;
    fillMethod = `POST /api/v1/users, ${chunks} × ${FILL_CHUNK_S} s of ${generator.tool} (≥)`;
  }
  const fillSeconds = (performance.now() - started) / 1000;
  const empty = await measureThroughput(generator, config, store, setup.empty, prefix);
  const grown = await measureThroughput(generator, config, store, setup.grown, prefix);
  return { store, usersBefore, empty, grown, ratio: grown.rps / empty.rps, fillSeconds, fillMethod };
}
