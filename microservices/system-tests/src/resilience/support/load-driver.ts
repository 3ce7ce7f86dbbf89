import { Client } from 'undici';
import { errorCode } from './error-code.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One request a worker wants sent. */
export interface LoadRequest {
  method: Method;
  path: string;
  /** Sent as JSON. */
  json?: unknown;
  headers?: Record<string, string>;
}

/** What happened to one request, timed on this process's monotonic clock (`performance.now()`). */
export interface LoadRecord {
  worker: number;
  method: Method;
  path: string;
  json?: unknown;
  /** The `X-Request-Id` sent, so a request can be found in the service's access log. */
  requestId: string;
  /** Just before the request was handed to the worker's connection. */
  sentAt: number;
  /** When the response headers arrived (absent when there was no response). */
  headersAt?: number;
  /** When the body was read, or the request failed. */
  endAt: number;
  status?: number;
  headers?: Headers;
  /** The response body as text. */
  text?: string;
  /** For requests without a response: the error code (ECONNREFUSED, UND_ERR_SOCKET, ECONNRESET, …). */
  error?: string;
}

/** Sends one request on the worker's own keep-alive connection; never throws, failures are in the record. */
export type WorkerSend = (request: LoadRequest) => Promise<LoadRecord>;

export interface LoadOptions {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Concurrent workers, each with one keep-alive connection and one request at a time (closed loop). */
  workers: number;
  /** One step of a worker's loop: sends one or more requests through `send`; called until the load stops. */
  step: (worker: number, send: WorkerSend) => Promise<void>;
  /** Hard bound on the whole run: every worker stops after this, whatever else happens. */
  maxMs: number;
  /** A worker stops once a connection is refused (the listener is gone): for drain tests. */
  stopWorkerOnRefusal?: boolean;
  /** Prefix of every `X-Request-Id`, so runs can be told apart in logs. */
  requestIdPrefix?: string;
  /** Per-request bound on waiting for headers and for the body. */
  requestTimeoutMs?: number;
}

export interface RunningLoad {
  /** Every request sent so far, in the order they finished. */
  records: () => readonly LoadRecord[];
  /** TCP connections the workers opened so far: `workers` while keep-alive holds. */
  connectionsOpened: () => number;
  /** Asks every worker to stop after its current step. */
  stop: () => void;
  /** Settles when every worker has stopped and every connection is closed. */
  finished: Promise<readonly LoadRecord[]>;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) headers.append(name, v);
  }
  return headers;
}

/**
 * Steady, bounded load: `workers` closed-loop workers, each on its own undici keep-alive connection
 * (like the members of a client's connection pool), running `step` until `stop()` or `maxMs`.
 * Every request carries a unique `X-Request-Id` and is recorded with its timings, status, headers and body.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const records: LoadRecord[] = [];
  const deadline = performance.now() + options.maxMs;
  const prefix = options.requestIdPrefix ?? 'load';
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  let stopped = false;
  let sequence = 0;
  let connectionsOpened = 0;

  async function runWorker(worker: number): Promise<void> {
    const client = new Client(options.url, {
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    client.on('connect', () => {
      connectionsOpened += 1;
    });
    let refused = false;
    const send: WorkerSend = async (request) => {
      sequence += 1;
      const requestId = `${prefix}-w${worker}-${sequence}`;
      const headers: Record<string, string> = { 'x-request-id': requestId, ...request.headers };
      if (request.json !== undefined) headers['content-type'] = 'application/json';
      const sentAt = performance.now();
      const base = {
        worker,
        method: request.method,
        path: request.path,
        ...(request.json === undefined ? {} : { json: request.json }),
        requestId,
        sentAt,
      };
      let record: LoadRecord;
      try {
        const res = await client.request({
          method: request.method,
          path: request.path,
          headers,
          ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
        });
        const headersAt = performance.now();
        const text = await res.body.text();
        record = {
          ...base,
          headersAt,
          endAt: performance.now(),
          status: res.statusCode,
          headers: toHeaders(res.headers),
          text,
        };
      } catch (err) {
        record = { ...base, endAt: performance.now(), error: errorCode(err) };
        if (record.error === 'ECONNREFUSED') refused = true;
      }
      records.push(record);
      return record;
    };
    try {
      while (!stopped && performance.now() < deadline) {
        await options.step(worker, send);
        if (refused && options.stopWorkerOnRefusal) break;
      }
    } finally {
      await client.destroy();
    }
  }

  const finished = Promise.all(Array.from({ length: options.workers }, (_, i) => runWorker(i))).then(
    () => records,
  );
  return {
    records: () => records,
    connectionsOpened: () => connectionsOpened,
    stop: () => {
      stopped = true;
    },
    finished,
  };
}
