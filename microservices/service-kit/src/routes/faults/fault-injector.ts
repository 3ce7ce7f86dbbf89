import { setTimeout as sleepFor } from 'node:timers/promises';
import type { MiddlewareHandler } from 'hono';
import type { Registry } from 'prom-client';
import type { AppEnv } from '../../edge/app-env.js';
import { problemJson } from '../../edge/error-handler.js';
import { problemType } from '../../problems/catalogue.js';
import { problemTypeUri } from '../../problems/problem-schemas.js';
import { createFaultMetrics, type FaultMetrics, showMode } from './fault-metrics.js';
import type { FaultSettings } from './fault-settings.js';

export interface FaultInjectorOptions {
  settings: FaultSettings;
  registry: Registry;
  /** Uniform in [0, 1); injected so tests decide which requests fail. */
  random?: (() => number) | undefined;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Marks every response a fault shaped, so nobody mistakes an injected failure for a real one. */
export const FAULT_HEADER = 'X-Fault-Injected';

/**
 * Holds the current fault settings (changed at run time through the admin route) and applies them to
 * the API routes it is mounted on. Probes, /metrics and /docs are never mounted behind it.
 */
export class FaultInjector {
  #settings: FaultSettings;
  readonly #metrics: FaultMetrics;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;

  constructor(options: FaultInjectorOptions) {
    this.#settings = options.settings;
    this.#metrics = createFaultMetrics(options.registry);
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? sleepFor;
    this.#metrics.enabled.set(1);
    showMode(this.#metrics, this.#settings.mode);
  }

  get settings(): FaultSettings {
    return this.#settings;
  }

  update(settings: FaultSettings): void {
    this.#settings = settings;
    showMode(this.#metrics, settings.mode);
  }

  middleware(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const { mode, delayMs, errorRate } = this.#settings;
      if (mode === 'normal') return next();
      if (mode === 'slow') {
        const delay = delayMs.min + Math.floor(this.#random() * (delayMs.max - delayMs.min + 1));
        this.#metrics.injected.inc({ fault: 'delay' });
        c.header(FAULT_HEADER, `delay=${delay}ms`);
        await this.#sleep(delay);
        return next();
      }
      if (mode === 'error' && this.#random() >= errorRate) return next();
      // A `fault-injected` problem, as the catalogue has it (503), or imitating an `internal` error (500).
      const { status, title } = problemType(
        mode === 'error' && this.#random() < 0.5 ? 'internal' : 'fault-injected',
      );
      this.#metrics.injected.inc({ fault: mode === 'down' ? 'down' : `error_${status}` });
      return problemJson(
        c,
        {
          type: problemTypeUri('fault-injected'),
          title,
          status,
          detail: `Injected fault (fault mode "${mode}"); fault injection is enabled on this service.`,
        },
        { [FAULT_HEADER]: mode, ...(status === 503 ? { 'Retry-After': '1' } : {}) },
      );
    };
  }
}

/** The `fault_injection_enabled` gauge at 0, for services running without fault injection. */
export function exportFaultsDisabled(registry: Registry): void {
  createFaultMetrics(registry).enabled.set(0);
}
