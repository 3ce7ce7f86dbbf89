import { z } from 'zod';
import { booleanVar, decimalVar } from '../../base/env-vars.js';
import {
  DEFAULT_FAULT_SETTINGS,
  type DelayRange,
  FAULT_MODES,
  type FaultSettings,
  parseDelayRange,
} from './fault-settings.js';

/** A zod transform from `"500"` or `"200-800"` to a DelayRange; parseDelayRange's message becomes the issue. */
export function toDelayRange(text: string, ctx: z.RefinementCtx): DelayRange {
  const parsed = parseDelayRange(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
}

const delayRangeVar = z.string().transform(toDelayRange).optional();

/**
 * Fault injection variables. Only `FAULTS_ENABLED=true` turns it on; the other three have no default
 * here so that start-up can tell "set but ignored" (warned about) from "unset".
 */
export const faultEnvShape = {
  FAULTS_ENABLED: booleanVar(false),
  FAULT_MODE: z.enum(FAULT_MODES, { error: `must be one of ${FAULT_MODES.join(', ')}` }).optional(),
  FAULT_DELAY_MS: delayRangeVar,
  FAULT_ERROR_RATE: decimalVar(0, 1).optional(),
};

export type FaultEnv = z.output<z.ZodObject<typeof faultEnvShape>>;

/** The start-up fault settings, or undefined when fault injection is off (the default). */
export function faultSettingsFromEnv(env: FaultEnv): FaultSettings | undefined {
  if (!env.FAULTS_ENABLED) return undefined;
  return {
    mode: env.FAULT_MODE ?? DEFAULT_FAULT_SETTINGS.mode,
    delayMs: env.FAULT_DELAY_MS ?? DEFAULT_FAULT_SETTINGS.delayMs,
    errorRate: env.FAULT_ERROR_RATE ?? DEFAULT_FAULT_SETTINGS.errorRate,
  };
}

/** The FAULT_* variables that are set although FAULTS_ENABLED is not true: they have no effect. */
export function ignoredFaultVariables(env: FaultEnv): string[] {
  if (env.FAULTS_ENABLED) return [];
  const set = {
    FAULT_MODE: env.FAULT_MODE,
    FAULT_DELAY_MS: env.FAULT_DELAY_MS,
    FAULT_ERROR_RATE: env.FAULT_ERROR_RATE,
  };
  return Object.entries(set)
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);
}
