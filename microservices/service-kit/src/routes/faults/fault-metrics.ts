import { Counter, Gauge, type Registry } from 'prom-client';
import { FAULT_MODES, type FaultMode } from './fault-settings.js';

export interface FaultMetrics {
  /** Always exported, so an alert can fire wherever it is 1 in production. */
  enabled: Gauge;
  mode: Gauge<'mode'>;
  injected: Counter<'fault'>;
}

export function createFaultMetrics(registry: Registry): FaultMetrics {
  return {
    enabled: new Gauge({
      name: 'fault_injection_enabled',
      help: '1 when fault injection is enabled (FAULTS_ENABLED=true), else 0. Never 1 in production.',
      registers: [registry],
    }),
    mode: new Gauge({
      name: 'fault_injection_mode',
      help: 'The current fault mode: 1 for the active mode, 0 for the others (only while enabled).',
      labelNames: ['mode'] as const,
      registers: [registry],
    }),
    injected: new Counter({
      name: 'faults_injected_total',
      help: 'Requests that got an injected fault, by kind: delay, error_500, error_503, down.',
      labelNames: ['fault'] as const,
      registers: [registry],
    }),
  };
}

export function showMode(metrics: FaultMetrics, active: FaultMode): void {
  for (const mode of FAULT_MODES) metrics.mode.set({ mode }, mode === active ? 1 : 0);
}
