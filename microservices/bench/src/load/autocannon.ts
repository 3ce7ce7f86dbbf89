import autocannon from 'autocannon';
import {
  type ClosedLoopOptions,
  headersOf,
  type LoadGenerator,
  type LoadResult,
  type LoadTarget,
  userBody,
} from './types.js';

/**
 * autocannon, in this process. The fallback when wrk is missing: it competes with the services for the
 * same cores (its own JavaScript per request), so absolute numbers come out lower than with wrk.
 */
export function autocannonGenerator(): LoadGenerator {
  return {
    tool: 'autocannon',
    describe: (o) => `autocannon -c ${o.connections} -d ${o.durationS} (in-process, Node ${process.version})`,
    async run(target: LoadTarget, options: ClosedLoopOptions): Promise<LoadResult> {
      const { pathname, search } = new URL(target.url);
      const headers = headersOf(target);
      let n = 0;
      const prefix = target.uniqueUserPrefix;
      const request = {
        method: target.method,
        path: pathname + search,
        headers,
        ...(target.body !== undefined ? { body: target.body } : {}),
        ...(prefix !== undefined
          ? { setupRequest: (r: object) => ({ ...r, body: userBody(prefix, 0, ++n) }) }
          : {}),
      };
      const result = await autocannon({
        url: target.url,
        connections: options.connections,
        duration: options.durationS,
        timeout: 5,
        requests: [request],
      });
      const requests = result.requests.total;
      return {
        requests,
        durationS: result.duration,
        rps: requests / result.duration,
        p50Ms: result.latency.p50,
        p90Ms: result.latency.p90,
        p99Ms: result.latency.p99,
        maxMs: result.latency.max,
        non2xx: result.non2xx,
        socketErrors: result.errors, // timeouts included
      };
    },
  };
}
