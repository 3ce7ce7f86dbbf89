// Container healthcheck: distroless images have no shell or curl, so Docker/compose run
// `node dist/healthcheck.js`. Exit 0 when /health/live answers 200 on this container's PROBE_PORT when it
// has one (where a busy service still answers at its next turn), else on its PORT.
const probePort = Number(process.env.PROBE_PORT ?? 0);
const port = probePort > 0 ? probePort : Number(process.env.PORT ?? process.argv[2]);
const timeoutMs = 2_000;

if (!Number.isInteger(port) || port < 1 || port > 65_535) {
  console.error('healthcheck: PORT is not set to a valid port');
  process.exit(1);
}

// A timer that keeps the process alive until it fires (AbortSignal.timeout's does not): a server that
// accepted and never answered left the fetch pending with nothing else to run, and Node exited with 13.
const deadline = new AbortController();
const timer = setTimeout(() => deadline.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
try {
  const res = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: deadline.signal });
  await res.body?.cancel();
  clearTimeout(timer);
  process.exit(res.status === 200 ? 0 : 1);
} catch (err) {
  console.error(`healthcheck: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
