/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text into samples (comments skipped). */
/** The samples a running service exposes on `/metrics` now. */
export async function scrapeMetrics(service: { url: string }): Promise<Sample[]> {
  return parseMetrics(await (await fetch(`${service.url}/metrics`)).text());
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name = '', rawLabels = '', rawValue = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of rawLabels.matchAll(LABEL)) {
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value: Number(rawValue) });
  }
  return samples;
}

/**
 * The sum of every sample of `name` whose labels include `labels`; 0 when there is none
 * (a counter that was never incremented may not be exported at all).
 */
export function metricValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Every distinct value of `label` across the samples named `name`. */
export function labelValues(samples: readonly Sample[], name: string, label: string): string[] {
  const values = new Set<string>();
  for (const s of samples) {
    const value = s.labels[label];
    if (s.name === name && value !== undefined) values.add(value);
  }
  return [...values].sort();
}
