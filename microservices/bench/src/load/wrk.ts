import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosedLoopOptions, LoadGenerator, LoadResult, LoadTarget } from './types.js';

const RESULT_MARKER = 'BENCH_JSON ';

/** Lua string literal (the bodies and prefixes we pass are JSON and [a-z0-9-], but quote properly anyway). */
const lua = (value: string) =>
  `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;

/**
 * A wrk script: method, headers and a static body set once (cheapest), or a `request()` that builds a
 * body with a unique email per request; `done()` prints the numbers as one JSON line we parse.
 */
export function wrkScript(target: LoadTarget): string {
  const lines = [`wrk.method = ${lua(target.method)}`];
  if (target.method === 'POST') lines.push(`wrk.headers["Content-Type"] = "application/json"`);
  for (const [name, value] of Object.entries(target.headers ?? {})) {
    lines.push(`wrk.headers[${lua(name)}] = ${lua(value)}`);
  }
  if (target.body !== undefined) lines.push(`wrk.body = ${lua(target.body)}`);
  if (target.uniqueUserPrefix !== undefined) {
    lines.push(
      `local prefix = ${lua(target.uniqueUserPrefix)}`,
      'local n = 0',
      'local threads = 0',
      '-- setup() runs in the main Lua state; thread:set() gives each thread its own number.',
      'tid = 0',
      'function setup(thread) threads = threads + 1; thread:set("tid", threads) end',
      'function request()',
      '  n = n + 1',
      `  return wrk.format(nil, nil, nil, '{"name":"Bench User","email":"' .. prefix .. '-' .. tid .. '-' .. n .. '@example.com","age":30}')`,
      'end',
    );
  }
  lines.push(
    'function done(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${RESULT_MARKER}{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,` +
      `"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',`,
    '    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  status_errors: number;
  socket_errors: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

/** wrk (C, event loop per thread): far cheaper per request than a Node load generator on the same cores. */
export function wrkGenerator(wrkPath: string, scratchDir: string): LoadGenerator {
  let runs = 0;
  return {
    tool: 'wrk',
    describe: (o) => `wrk -t${o.threads} -c${o.connections} -d${o.durationS}s (${wrkPath})`,
    async run(target: LoadTarget, options: ClosedLoopOptions): Promise<LoadResult> {
      const script = join(scratchDir, `wrk-${++runs}.lua`);
      writeFileSync(script, wrkScript(target));
      const threads = Math.min(options.threads, options.connections);
      const args = [
        `-t${threads}`,
        `-c${options.connections}`,
        `-d${options.durationS}s`,
        '--timeout',
        '5s',
        '-s',
        script,
        target.url,
      ];
      const { stdout, stderr, code } = await new Promise<{
        stdout: string;
        stderr: string;
        code: number | null;
      }>((resolve, reject) => {
        const child = spawn(wrkPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
        });
        child.once('error', reject);
        child.once('close', (c) => resolve({ stdout: out, stderr: err, code: c }));
      });
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) {
        throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stdout}\n${stderr}`);
      }
      const r = JSON.parse(line.slice(RESULT_MARKER.length)) as WrkJson;
      const durationS = r.duration_us / 1e6;
      return {
        requests: r.requests,
        durationS,
        rps: r.requests / durationS,
        p50Ms: r.p50_us / 1000,
        p90Ms: r.p90_us / 1000,
        p99Ms: r.p99_us / 1000,
        maxMs: r.max_us / 1000,
        non2xx: r.status_errors,
        socketErrors: r.socket_errors,
      };
    },
  };
}
