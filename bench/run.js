'use strict';
/**
 * `npm run bench` — runs the four benchmarks of issue #2 item 10 against the compiled build
 * (dist/; built first when missing) and prints one table:
 *   benchmark | measured | baseline | ratio | goal | pass/fail
 * Results also go to bench/results/latest.json. Not part of the test suite: figures depend on
 * the machine (see docs/performance.md for the reference run and how to read them).
 *
 *   npm run bench                    everything (about two minutes on 2 cores; at most ~3)
 *   npm run bench -- ingest memory   a subset: stages, ingest, sendgrid, forward, memory
 *
 * `stages` times the pipeline stages without HTTP (where the time goes); it adds no table row.
 *
 * Environment: BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_CONNECTIONS,
 * BENCH_FORWARD_CONCURRENCY, BENCH_FORWARD_EVENTS, BENCH_MEMORY_EVENTS, BENCH_LOG_LEVEL (default silent),
 * BENCH_DIST (measure another build), BENCH_CANDIDATE_DIST (add a side-by-side line for another
 * build in the ingest, sendgrid and forward benchmarks), BENCH_CANDIDATE_LOG_LEVEL (ingest: a
 * side-by-side line at another log level), BENCH_BUILD=1 (rebuild dist/ first).
 */
const os = require('node:os');
const path = require('node:path');
const { ensureBuilt, DIST } = require('./lib/dist');
const { printTable, machine, writeJson } = require('./lib/report');
const { settings } = require('./lib/settings');

const BENCHMARKS = {
  stages: () => require('./stages'),
  ingest: () => require('./ingest'),
  sendgrid: () => require('./sendgrid'),
  forward: () => require('./forward'),
  memory: () => require('./memory'),
};
const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');

/** Share of all CPUs busy (not idle) over `ms`, in percent, from os.cpus() tick counters. */
async function cpuBusyPercent(ms) {
  const ticks = () =>
    os.cpus().reduce(
      (acc, cpu) => {
        const total = Object.values(cpu.times).reduce((a, b) => a + b, 0);
        return { idle: acc.idle + cpu.times.idle, total: acc.total + total };
      },
      { idle: 0, total: 0 },
    );
  const a = ticks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = ticks();
  const total = b.total - a.total;
  return total > 0 ? (100 * (total - (b.idle - a.idle))) / total : 0;
}

async function main() {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !Object.hasOwn(BENCHMARKS, name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  ensureBuilt();
  const names = requested.length > 0 ? requested : Object.keys(BENCHMARKS);
  const host = machine();
  console.log(
    `distinct-webhook-adapter benchmarks — Node ${host.node}, ${host.cpus} CPUs (${host.cpuModel}), ${host.platform}\n` +
      `build: ${DIST}; log level ${process.env.BENCH_LOG_LEVEL ?? 'silent'}; only 127.0.0.1\n`,
  );
  // Other work on the machine (a test run, a compiler) moves these figures more than any code
  // change: measure how busy it is right now, say so up front, and record it with the results.
  const busyBefore = await cpuBusyPercent(1000);
  console.log(
    `machine busy before the run: ${busyBefore.toFixed(0)}% CPU over 1 s (load average ${os.loadavg()[0].toFixed(2)})`,
  );
  if (busyBefore > 10)
    console.log('WARNING: other processes are using the CPU; these figures will be lower and noisier\n');
  else console.log('');
  const started = Date.now();
  const reports = [];
  for (const name of names) {
    const t0 = Date.now();
    const report = await BENCHMARKS[name]().run({ log: (line) => console.log(line) });
    report.seconds = (Date.now() - t0) / 1000;
    console.log(`${name}: done in ${report.seconds.toFixed(1)} s\n`);
    reports.push(report);
  }
  const rows = reports.flatMap((r) => r.rows);
  printTable(rows);
  const totalSeconds = (Date.now() - started) / 1000;
  console.log(`\ntotal ${totalSeconds.toFixed(0)} s; results in ${path.relative(process.cwd(), RESULTS_FILE)}`);
  writeJson(RESULTS_FILE, {
    date: new Date().toISOString(),
    machine: host,
    build: DIST,
    settings: { ...settings, logLevel: process.env.BENCH_LOG_LEVEL ?? 'silent' },
    totalSeconds,
    machineBusyPercentBefore: busyBefore,
    table: rows,
    benchmarks: reports,
  });
  // Exit code 0 even when a goal is missed: the table is the result, not a test verdict.
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
