// `npm run bench`: builds the services for production, runs them the way their images do, and measures
// them against a bare Hono ceiling in the same run (see MICROSERVICES_README.md, "Performance and sizing").
// Everything listens on 127.0.0.1; every process and the PostgreSQL cluster it starts is stopped on exit,
// on error and on Ctrl-C.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildCeiling } from './ceiling/build-ceiling.js';
import { type BenchConfig, BenchConfigError, findWrk, readConfig } from './config.js';
import { autocannonGenerator } from './load/autocannon.js';
import type { LoadGenerator } from './load/types.js';
import { wrkGenerator } from './load/wrk.js';
import { type PassResult, runPass } from './pass.js';
import { repoRoot, resultsDir } from './paths.js';
import { acquirePostgres, type BenchPostgres } from './postgres.js';
import { loadAverage } from './proc-stats.js';
import { ProcessGroup } from './processes.js';
import { extrasTables, fixedRateTable, throughputTable, verdictTable } from './report.js';
import { READY_POLL_MS } from './start-to-ready.js';
import { evaluateTargets } from './targets.js';

const startedAt = performance.now();
const log = (message: string) =>
  process.stderr.write(
    `bench [${((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${message}\n`,
  );
const print = (text: string) => process.stdout.write(`${text}\n`);

let config: BenchConfig;
try {
  config = readConfig(process.env);
} catch (err) {
  if (!(err instanceof BenchConfigError)) throw err;
  console.error(`bench: ${err.message}`);
  process.exit(2);
}

const group = new ProcessGroup();
const scratch = mkdtempSync(join(tmpdir(), 'bench-'));
let postgres: BenchPostgres | null = null;
let cleaningUp: Promise<void> | null = null;
let interrupted = false;

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    await group.stopAll(5_000).catch(() => group.killAllNow());
    await postgres
      ?.dispose()
      .catch((err: unknown) => console.error(`bench: stopping PostgreSQL failed: ${String(err)}`));
    rmSync(scratch, { recursive: true, force: true });
  })();
  return cleaningUp;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // A second Ctrl-C: stop waiting for graceful exits.
      group.killAllNow();
      process.exit(130);
    }
    interrupted = true;
    log(`${signal}: stopping every process this run started`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

function gitCommit(): string {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: repoRoot,
    encoding: 'utf8',
  }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'microservices'], {
    cwd: repoRoot,
    encoding: 'utf8',
  }).stdout.trim();
  return rev ? `${rev}${dirty ? ' (uncommitted changes)' : ''}` : 'unknown';
}

function freshDir(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

async function main(): Promise<void> {
  if (!config.skipBuild) {
    log('npm run build (production bundles)');
    const build = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
    if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`);
  }
  const ceilingScript = await buildCeiling(scratch);
  const wrk = findWrk();
  const generator: LoadGenerator =
    config.tool === 'wrk' && wrk ? wrkGenerator(wrk, scratch) : autocannonGenerator();
  const closedLoop = {
    connections: config.connections,
    threads: config.threads,
    durationS: config.durationS,
  };
  const loadAtStart = loadAverage();
  log(
    `load generator: ${generator.describe(closedLoop)}; load average ${loadAtStart.join(' ')} on ${cpus().length} CPUs`,
  );

  const settings = {
    node: config.node,
    nodeOptions: config.nodeOptions,
    logLevel: config.logLevel,
    cpuProfDir: config.cpuProf ? freshDir(join(resultsDir, 'profiles')) : undefined,
    logsDir: config.keepLogs ? freshDir(join(resultsDir, 'logs')) : undefined,
  };
  let counter = 0;
  const runId = Date.now().toString(36);
  const ctx = {
    config,
    group,
    generator,
    settings,
    ceilingScript,
    log,
    prefix: () => `b${runId}-${++counter}`,
    scratch,
  };

  const passes: PassResult[] = [];
  passes.push(await runPass(ctx, 'memory', null, { startToReady: true, fastFail: true, auth: true }));
  let postgresSource = 'skipped (BENCH_POSTGRES=false)';
  if (config.postgres) {
    log('PostgreSQL: BENCH_DATABASE_URL or a throwaway local cluster');
    postgres = await acquirePostgres(config.databaseUrl);
    if (postgres) {
      postgresSource = postgres.source;
      passes.push(
        await runPass(ctx, 'postgres', postgres, { startToReady: true, fastFail: false, auth: false }),
      );
    } else {
      postgresSource = 'skipped: no BENCH_DATABASE_URL and no PostgreSQL binaries (pg_ctl) on this machine';
      log(`PostgreSQL ${postgresSource}`);
    }
  }
  await cleanup();

  const verdicts = evaluateTargets(passes);
  const loadAtEnd = loadAverage();
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const meta = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: spawnSync(config.node, ['--version'], { encoding: 'utf8' }).stdout.trim(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadAtEnd,
    loadGenerator: generator.describe(closedLoop),
    fixedRate: `open-loop pacer (undici pool) at ${config.rate} req/s for ${config.rateDurationS} s after 0.5 s`,
    readinessPollMs: READY_POLL_MS,
    postgres: postgresSource,
    serviceEnv:
      `NODE_ENV=production LOG_LEVEL=${config.logLevel}` +
      (config.nodeOptions ? ` NODE_OPTIONS="${config.nodeOptions}"` : '') +
      ` (stdout ${config.keepLogs ? 'kept' : 'to /dev/null'})`,
    config,
    wallSeconds,
  };

  print('');
  print(
    `Benchmark ${meta.date} · ${meta.commit} · Node ${meta.node} · ${meta.cpus} × ${meta.cpuModel} · ` +
      `load average ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
  );
  print(`closed loop: ${meta.loadGenerator}, ${config.warmupS} s warm-up each; services: ${meta.serviceEnv}`);
  print(`PostgreSQL: ${postgresSource}`);
  print('');
  print(throughputTable(passes));
  print(
    '(CPU %: of one core, for the measured process during the measured window; CPU µs/req: that CPU time per ' +
      'request. POST order shows order-service + user-service.)',
  );
  print('');
  print(
    `Latency at a fixed rate (${meta.fixedRate}; latency from handing each request to the pool, see README):`,
  );
  print(fixedRateTable(passes));
  print('');
  print(extrasTables(passes));
  print('');
  print(verdictTable(verdicts));
  const missed = verdicts.filter((v) => !v.pass).length;
  print(`\n${verdicts.length - missed} PASS, ${missed} MISS · wall time ${wallSeconds.toFixed(0)} s`);

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'latest.json');
  writeFileSync(file, `${JSON.stringify({ meta, passes, verdicts }, null, 2)}\n`);
  print(`results: ${relative(repoRoot, file)}`);
}

try {
  await main();
} catch (err) {
  // After Ctrl-C the services are being stopped under the running scenario; its failure is expected noise.
  if (!interrupted) {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
