import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { errorCode } from './error-code.js';

export interface ReadinessProbe {
  /** `performance.now()` just before the probe was sent. */
  sentAt: number;
  /** When the answer (or the failure) arrived. */
  at: number;
  status?: number;
  contentType?: string;
  text?: string;
  /** For probes without an answer: the error code (ECONNREFUSED once the listener is closed). */
  error?: string;
}

export interface ReadinessWatch {
  probes: () => readonly ReadinessProbe[];
  stop: () => void;
  /** Settles once the watch has stopped: on `stop()`, a refused connection, or `maxMs`. */
  finished: Promise<readonly ReadinessProbe[]>;
}

/**
 * Probes `GET /health/ready` back to back (`intervalMs` apart) over a connection of its own, as a load
 * balancer's health checker would, until stopped, refused, or `maxMs` has passed.
 */
export function watchReadiness(baseUrl: string, { intervalMs = 2, maxMs = 15_000 } = {}): ReadinessWatch {
  const probes: ReadinessProbe[] = [];
  const deadline = performance.now() + maxMs;
  let stopped = false;
  const run = async () => {
    const client = new Client(baseUrl, {
      keepAliveTimeout: 60_000,
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
    });
    try {
      while (!stopped && performance.now() < deadline) {
        const sentAt = performance.now();
        try {
          const res = await client.request({ method: 'GET', path: '/health/ready' });
          const text = await res.body.text();
          const contentType = res.headers['content-type'];
          probes.push({
            sentAt,
            at: performance.now(),
            status: res.statusCode,
            text,
            ...(typeof contentType === 'string' ? { contentType } : {}),
          });
        } catch (err) {
          const error = errorCode(err);
          probes.push({ sentAt, at: performance.now(), error });
          if (error === 'ECONNREFUSED') break;
        }
        await sleep(intervalMs);
      }
    } finally {
      await client.destroy();
    }
    return probes;
  };
  return {
    probes: () => probes,
    stop: () => {
      stopped = true;
    },
    finished: run(),
  };
}
