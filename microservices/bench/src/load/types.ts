import type { LoadTool } from '../config.js';

/** One HTTP request shape that a load run repeats. */
export interface LoadTarget {
  /** Full URL on 127.0.0.1. */
  url: string;
  method: 'GET' | 'POST';
  /** A static JSON body. */
  body?: string;
  /** POST user bodies whose emails are unique across the run: `<prefix>-<thread>-<n>@example.com`. */
  uniqueUserPrefix?: string;
  /** Headers sent on every request besides Content-Type (a bearer token). */
  headers?: Readonly<Record<string, string>>;
}

/** Every header a request of `target` carries. */
export const headersOf = (target: LoadTarget): Record<string, string> => ({
  ...(target.method === 'POST' ? JSON_HEADERS : {}),
  ...target.headers,
});

export interface ClosedLoopOptions {
  connections: number;
  threads: number;
  durationS: number;
}

/** What a closed-loop (as fast as the server answers) run measured. */
export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** HTTP responses that were not 2xx (wrk: status ≥ 400, the only kind these endpoints send). */
  non2xx: number;
  /** Connect/read/write errors and timeouts. */
  socketErrors: number;
}

export interface LoadGenerator {
  tool: LoadTool;
  /** A human-readable description for the report. */
  describe(options: ClosedLoopOptions): string;
  run(target: LoadTarget, options: ClosedLoopOptions): Promise<LoadResult>;
}

/** A valid POST /api/v1/users body with a unique email. */
export const userBody = (prefix: string, thread: number, n: number) =>
  JSON.stringify({ name: 'Bench User', email: `${prefix}-${thread}-${n}@example.com`, age: 30 });

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;
