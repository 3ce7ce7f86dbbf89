#!/usr/bin/env node
// `npm start`: runs the built user-service and order-service side by side for local use.
// user-service starts first; order-service starts once user-service reports ready, pointed at it.
// Ctrl-C or SIGTERM stops both gracefully; if either dies on its own, the other is stopped too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 100;

// Our own messages go to stderr so stdout stays pure JSON lines (pipeable into jq).
const say = (message) => process.stderr.write(`run-pair: ${message}\n`);

function portFromEnv(name, fallback) {
  const raw = process.env[name]?.trim() || String(fallback);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    say(`${name} must be a port number between 1 and 65535 (got "${raw}")`);
    process.exit(1);
  }
  return port;
}

const userPort = portFromEnv('USER_SERVICE_PORT', 8000);
const orderPort = portFromEnv('ORDER_SERVICE_PORT', 8001);
if (userPort === orderPort) {
  say(`USER_SERVICE_PORT and ORDER_SERVICE_PORT are both ${userPort}; they need different ports`);
  process.exit(1);
}

const services = [
  { name: 'user-service', tag: 'user ', colour: 36, port: userPort },
  { name: 'order-service', tag: 'order', colour: 35, port: orderPort },
].map((s) => ({ ...s, entry: join(repoRoot, 'microservices', s.name, 'dist', 'main.js') }));

const missing = services.filter((s) => !existsSync(s.entry));
if (missing.length > 0) {
  for (const s of missing) say(`${relative(process.cwd(), s.entry)} is missing: run npm run build first`);
  process.exit(1);
}

// The drain delay only matters behind a load balancer; locally it would just make Ctrl-C feel slow.
const sharedEnv = { ...process.env, SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS ?? '0' };

/** @type {Map<string, { child: import('node:child_process').ChildProcess, closed: Promise<{ code: number | null, signal: string | null }>, done: boolean }>} */
const running = new Map();
let stopping = false;
let signalsReceived = 0;

function tagFor(service, stream) {
  if (!stream.isTTY) return '';
  const useColour = !process.env.NO_COLOR && stream.hasColors?.() !== false;
  const tag = `[${service.tag}]`;
  return `${useColour ? `\u001b[${service.colour}m${tag}\u001b[0m` : tag} `;
}

/** Copies a child's output line by line, so lines from the two services never interleave mid-line. */
function passLines(input, output, prefix) {
  createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    output.write(`${prefix}${line}\n`);
  });
}

function launch(service, extraEnv) {
  const child = spawn(process.execPath, [service.entry], {
    cwd: dirname(dirname(service.entry)),
    env: { ...sharedEnv, ...extraEnv, PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only this runner, which then sends exactly one
    // SIGTERM. Otherwise each child would get SIGINT and then our SIGTERM, which it treats as a
    // second, impatient signal and exits without draining.
    detached: true,
  });
  passLines(child.stdout, process.stdout, tagFor(service, process.stdout));
  passLines(child.stderr, process.stderr, tagFor(service, process.stderr));
  const entry = { child, done: false, closed: undefined };
  // 'close' (not 'exit') waits for stdout/stderr to end, so the last log lines are not lost.
  entry.closed = new Promise((resolveClosed) => {
    child.once('error', (err) => {
      say(`could not start ${service.name}: ${err.message}`);
      entry.done = true;
      resolveClosed({ code: 1, signal: null });
    });
    child.once('close', (code, signal) => {
      entry.done = true;
      resolveClosed({ code, signal });
    });
  });
  running.set(service.name, entry);
  entry.closed.then((result) => onChildClosed(service, result));
  return entry;
}

function exitCodeOf({ code, signal }) {
  if (code !== null) return code;
  const signalNumbers = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return 128 + (signalNumbers[signal] ?? 1);
}

function describe({ code, signal }) {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

function signalAll(signal) {
  for (const { child, done } of running.values()) {
    if (!done && child.pid !== undefined) {
      try {
        child.kill(signal);
      } catch {
        // Already gone between the check and the kill.
      }
    }
  }
}

/** Stops every running child and exits once all have: 0 if they all stopped cleanly, else the first failure. */
async function stopAll(preferredCode) {
  stopping = true;
  signalAll('SIGTERM');
  const results = await Promise.all([...running.values()].map((r) => r.closed));
  const failed = results.map(exitCodeOf).find((code) => code !== 0);
  process.exitCode = preferredCode ?? failed ?? 0;
}

function onChildClosed(service, result) {
  if (stopping) {
    if (exitCodeOf(result) !== 0) say(`${service.name} ${describe(result)} while stopping`);
    return;
  }
  const others = [...running.keys()].filter((n) => n !== service.name && !running.get(n)?.done);
  say(
    `${service.name} ${describe(result)} unexpectedly` +
      (others.length > 0 ? `; stopping ${others.join(', ')}` : ''),
  );
  void stopAll(exitCodeOf(result));
}

function onSignal(signal) {
  signalsReceived += 1;
  if (signalsReceived === 1) {
    say(`${signal} received: stopping both services (press Ctrl-C again to skip the graceful drain)`);
    void stopAll();
  } else if (signalsReceived === 2) {
    // The services treat a second signal as "exit now".
    signalAll('SIGTERM');
  } else {
    signalAll('SIGKILL');
  }
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
// Detached children do not die with us; if this runner crashes, take them down rather than orphan them.
process.on('exit', () => signalAll('SIGKILL'));

async function waitUntilReady(service, entry) {
  const url = `http://127.0.0.1:${service.port}/health/ready`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (entry.done || stopping) return false;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(READY_POLL_MS);
  }
  say(`${service.name} did not report ready at ${url} within ${READY_TIMEOUT_MS / 1000} s`);
  return false;
}

const [user, order] = services;
say(
  `starting user-service on http://localhost:${user.port}/docs and order-service on ` +
    `http://localhost:${order.port}/docs (Ctrl-C stops both)`,
);
const userEntry = launch(user, {});
if (await waitUntilReady(user, userEntry)) {
  if (!stopping) launch(order, { USER_SERVICE_URL: `http://127.0.0.1:${user.port}` });
} else if (!stopping && !userEntry.done) {
  await stopAll(1);
}
