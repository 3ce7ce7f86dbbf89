import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/service-paths.js';

/** What the cost group takes from the chart as it ships: the heap flags and the liveness probe's timeout. */
export interface ChartRuntime {
  /** `config.nodeOptions`, e.g. `--max-old-space-size=128 --max-semi-space-size=4`. */
  nodeOptions: string;
  /** `probes.liveness.timeoutSeconds`, in milliseconds. */
  livenessTimeoutMs: number;
  /** `resources.limits.memory` (`…Mi`), in MiB: past it the kubelet kills the pod. */
  memoryLimitMb: number;
  /** Whether the kubelet probes a port of its own (`probes.port` set: PROBE_PORT) rather than the http port. */
  probesOnOwnPort: boolean;
}

/**
 * Read from `helm/microservice/values.yaml` rather than copied, so the tests follow the chart. Two fixed
 * lines of a file this repository owns: a pattern each is enough, and a change of shape fails loudly here.
 */
export function chartRuntime(): ChartRuntime {
  const values = readFileSync(join(repoRoot, 'helm', 'microservice', 'values.yaml'), 'utf8');
  const nodeOptions = /^\s+nodeOptions:\s*"([^"]+)"/m.exec(values)?.[1];
  const liveness = /^\s+liveness:\n(?:\s{4,}.*\n)*?\s{4,}timeoutSeconds:\s*(\d+)/m.exec(values)?.[1];
  const memory = /^resources:\n(?:\s+.*\n)*?\s+limits:\n\s+memory:\s*(\d+)Mi$/m.exec(values)?.[1];
  const probePort = /^probes:\n(?:\s+#.*\n)*\s+port:\s*(\d+)$/m.exec(values)?.[1];
  if (
    nodeOptions === undefined ||
    liveness === undefined ||
    memory === undefined ||
    probePort === undefined
  ) {
    throw new Error(
      'helm/microservice/values.yaml: config.nodeOptions, probes.liveness.timeoutSeconds, resources.limits.memory (Mi) or probes.port not found',
    );
  }
  return {
    nodeOptions,
    livenessTimeoutMs: Number(liveness) * 1_000,
    memoryLimitMb: Number(memory),
    probesOnOwnPort: Number(probePort) > 0,
  };
}
