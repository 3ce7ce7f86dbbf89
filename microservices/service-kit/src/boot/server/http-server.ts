import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { silentLogger } from '../../base/logger.js';
import { chargedResponseClass, UnsentAnswerBytes } from '../../edge/unsent-answers.js';
import { answerClientErrorsWithProblems } from './client-errors.js';
import {
  CONNECTION_CHECK_INTERVAL_MS,
  DEFAULT_SERVER_LIMITS,
  MAX_HEADER_BYTES,
  MAX_HEADER_FIELDS,
  type ServerLimits,
} from './limits.js';
import { ProbeListener } from './probe-listener.js';
import { RequestAdmission } from './request-admission.js';
import { RequestBodyBytes } from './request-body-bytes.js';
import { createServerMetrics } from './server-metrics.js';
import { throttledWarn } from './throttled-log.js';

export interface HttpServerOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  host: string;
  /** Must outlive any load balancer's idle timeout (60 s on most) so it never reuses a socket we closed. */
  keepAliveTimeoutMs: number;
  /** Default: DEFAULT_SERVER_LIMITS. */
  limits?: Partial<ServerLimits> | undefined;
  /** Where the server's own lines go (caps hit, refusals, cuts); default: nowhere. */
  logger?: Logger | undefined;
  /** Where the server's metrics go; default: a registry of its own. */
  registry?: Registry | undefined;
  /** PROBE_PORT: also accept the health probes on this port (0 picks a free one); default: none. */
  probePort?: number | undefined;
}

export interface RunningServer {
  server: Server;
  port: number;
  admission: RequestAdmission;
  /** The port the probes are accepted on as well, when `probePort` was given. */
  probePort: number | undefined;
  /** Stops accepting probes on `probePort`; the server's own close does not. */
  closeProbes: () => Promise<void>;
}

/** The server's own warnings (a cap hit, a refusal, a cut) are logged at most once per this, per kind. */
const WARN_INTERVAL_MS = 10_000;
/** What listening on `::` fails with where the kernel has no IPv6. */
const IPV6_UNAVAILABLE = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);
const IPV4_ANY = '0.0.0.0';
/** Connections Node accepts beyond MAX_CONNECTIONS while evicted ones are still closing. */
const CONNECTION_HEADROOM = 16;

/** Starts listening and resolves once the port is bound (port 0 picks a free one). */
export function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const logger = options.logger ?? silentLogger();
  const metrics = createServerMetrics(options.registry ?? new Registry());
  const warn = throttledWarn(logger, WARN_INTERVAL_MS);
  const unsentAnswers = new UnsentAnswerBytes(limits.maxUnsentResponseBytes, metrics.unsentBytes);
  const requestBodies = new RequestBodyBytes(limits.maxRequestBodyBytesHeld, metrics.requestBodyBytes);
  const probes = new ProbeListener();
  const admission = new RequestAdmission({
    limits,
    metrics,
    warn,
    unsentAnswers,
    requestBodies,
    probeSockets: probes,
  });
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: options.fetch,
      port: options.port,
      hostname: options.host,
      serverOptions: {
        // Every answer charges its body bytes to the process's unsent-answer budget until it is sent.
        ServerResponse: chargedResponseClass(unsentAnswers),
        // Node checks headersTimeout and requestTimeout only this often (30 s by default): part of the bound.
        connectionsCheckingInterval: CONNECTION_CHECK_INTERVAL_MS,
        maxHeaderSize: MAX_HEADER_BYTES,
        // strict-http.ts answers a missing Host as a problem instead of Node's bare 400.
        requireHostHeader: false,
        // Node refuses a headersTimeout above requestTimeout; headers are part of the request.
        headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs,
      },
      createServer: ((serverOptions: object, listener: Parameters<typeof createServer>[0]) =>
        createServer(
          serverOptions,
          admission.wrap(probes.servingProbesOnly(listener as never)),
        )) as unknown as typeof createServer,
    }) as Server;
    // One more than the limit, so a request with too many header fields can be told from one at the limit.
    server.maxHeadersCount = MAX_HEADER_FIELDS + 1;
    // The cap itself is RequestAdmission's (it evicts the quietest connection for a newcomer); Node's
    // own, a little above it, is the backstop for connections arriving faster than evictions close them.
    server.maxConnections = limits.maxConnections + CONNECTION_HEADROOM;
    // headersTimeout no longer needs to exceed keepAliveTimeout (Node ≥ 18 times headers from a request's
    // first byte, not from the previous answer); server.test.ts holds both to that.
    admission.attach(server);
    answerClientErrorsWithProblems(server, {
      metrics,
      warn,
      ended: (socket) => admission.ended(socket),
    });
    server.on('drop', () => {
      metrics.connectionsDropped.inc();
      warn(
        'drop',
        { max_connections: server.maxConnections },
        'connection refused: hard connection cap reached',
      );
    });
    let fellBack = false;
    const failed = (err: NodeJS.ErrnoException) => {
      // `::` (the chart's dual-stack default) on a kernel with IPv6 turned off (ipv6.disable=1, some
      // hardened nodes): EAFNOSUPPORT / EADDRNOTAVAIL. Crash-looping there helps nobody; IPv4 still works.
      if (options.host === '::' && !fellBack && IPV6_UNAVAILABLE.has(err.code ?? '')) {
        fellBack = true;
        logger.warn(
          { host: '::', code: err.code, fallback_host: IPV4_ANY },
          `cannot listen on :: (${err.code}: IPv6 is off on this host); listening on ${IPV4_ANY}, IPv4 only`,
        );
        server.listen(options.port, IPV4_ANY);
        return;
      }
      reject(err);
    };
    server.on('error', failed);
    server.once('listening', () => {
      server.off('error', failed);
      const port = (server.address() as AddressInfo).port;
      const closeProbes = () => probes.close();
      if (options.probePort === undefined) {
        resolve({ server, port, admission, probePort: undefined, closeProbes });
        return;
      }
      // On the address the server took (IPv4 after the fallback above).
      probes.listen(server, options.probePort, fellBack ? IPV4_ANY : options.host).then(
        (probePort) => resolve({ server, port, admission, probePort, closeProbes }),
        (err: unknown) => server.close(() => reject(err)),
      );
    });
  });
}
