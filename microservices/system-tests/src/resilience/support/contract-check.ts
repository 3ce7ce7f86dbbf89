import { ContractChecker, type OpenApiDocument } from '@microservices/service-kit/testing';
import type { LoadRecord } from './load-driver.js';

/** The service's own published contract, fetched once (before a test stops the service). */
export async function contractOf(baseUrl: string): Promise<ContractChecker> {
  const res = await fetch(new URL('/openapi.json', baseUrl), { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${baseUrl}/openapi.json answered ${res.status}`);
  return new ContractChecker((await res.json()) as OpenApiDocument);
}

/**
 * Checks every `sampleEvery`-th answered record, and every answer that is not a 2xx, against the contract
 * (status documented, media type, body schema, required headers). Throws listing up to five violations;
 * returns how many responses were checked.
 */
export function checkRecords(
  checker: ContractChecker,
  records: readonly LoadRecord[],
  sampleEvery = 1,
): number {
  const violations: string[] = [];
  let checked = 0;
  records.forEach((record, index) => {
    if (record.status === undefined || record.text === undefined) return;
    const unusual = record.status < 200 || record.status >= 300;
    if (!unusual && index % sampleEvery !== 0) return;
    checked += 1;
    try {
      checker.check({
        method: record.method,
        path: record.path,
        status: record.status,
        contentType: record.headers?.get('content-type') ?? null,
        bodyText: record.text,
        ...(record.headers ? { headers: record.headers } : {}),
      });
    } catch (err) {
      violations.push(`${record.requestId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (violations.length > 0) {
    throw new Error(
      `${violations.length} of ${checked} responses break the contract:\n${violations.slice(0, 5).join('\n')}`,
    );
  }
  return checked;
}
