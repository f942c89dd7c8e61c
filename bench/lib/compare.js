'use strict';
/**
 * Side-by-side HTTP measurement: every server under comparison runs in its own child process
 * (started one after another, all idle but the one being measured), gets a warm-up, and then the
 * servers are measured in turn for several rounds, so a noisy minute on a shared machine hits
 * the adapter and its baselines alike. Figures are medians over the rounds.
 */
const { startServer } = require('./child');
const { fire } = require('./load');

/**
 * @param {object} o
 * @param {Array<{ label: string, mode: string, env?: object, pool: import('./load').Pool, distinct: boolean }>} o.servers
 * @param {number} o.connections
 * @param {number} o.rounds
 * @param {number} o.seconds        per measurement
 * @param {number} o.warmupSeconds
 * @param {(line: string) => void} [o.log]
 */
async function compareServers({ servers, connections, rounds, seconds, warmupSeconds, log = () => {} }) {
  const running = [];
  try {
    for (const spec of servers) {
      const server = await startServer(spec.mode, { env: spec.env });
      running.push({ spec, server, runs: [], okTotal: 0 });
    }
    for (const r of running) {
      const warm = await fire({
        url: r.server.url,
        pool: r.spec.pool,
        connections,
        seconds: warmupSeconds,
        distinct: r.spec.distinct,
      });
      r.okTotal += warm.ok;
    }
    for (let round = 1; round <= rounds; round += 1) {
      for (const r of running) {
        if (r.spec.distinct && r.spec.pool.remaining < connections * 2) {
          log(`  ${r.spec.label}: request pool used up; round ${round} skipped`);
          continue;
        }
        const before = await r.server.stats();
        const res = await fire({
          url: r.server.url,
          pool: r.spec.pool,
          connections,
          seconds,
          distinct: r.spec.distinct,
        });
        const after = await r.server.stats();
        r.okTotal += res.ok;
        const cpuS = (after.cpuUs - before.cpuUs) / 1e6;
        const run = {
          rps: res.rps,
          ok: res.ok,
          elapsedS: res.elapsedS,
          failed: res.non2xx + res.errors + res.timeouts,
          cpuUsPerRequest: res.ok > 0 ? (cpuS * 1e6) / res.ok : null,
          serverCpuPercent: (100 * cpuS) / res.elapsedS,
          latencyMs: res.latencyMs,
          reused: res.reused,
        };
        r.runs.push(run);
        log(
          `  round ${round} ${r.spec.label.padEnd(24)} ${fmt(run.rps).padStart(8)} req/s  ` +
            `p50 ${run.latencyMs.p50} ms  p99 ${run.latencyMs.p99} ms  server CPU ${Math.round(run.serverCpuPercent)}%  ` +
            `${run.cpuUsPerRequest === null ? '-' : Math.round(run.cpuUsPerRequest)} µs CPU/req` +
            (run.failed ? `  FAILED ${run.failed}` : ''),
        );
      }
    }
    const out = {};
    for (const r of running) {
      const final = await r.server.stats();
      out[r.spec.label] = {
        rps: median(r.runs.map((x) => x.rps)),
        cpuUsPerRequest: median(r.runs.map((x) => x.cpuUsPerRequest).filter((x) => x !== null)),
        p50Ms: median(r.runs.map((x) => x.latencyMs.p50)),
        p99Ms: median(r.runs.map((x) => x.latencyMs.p99)),
        failed: r.runs.reduce((s, x) => s + x.failed, 0),
        reused: r.runs.reduce((s, x) => s + x.reused, 0),
        rounds: r.runs.length,
        runs: r.runs.map((x) => Math.round(x.rps)),
        okTotal: r.okTotal,
        queue: final.queue ?? null,
        commits: final.commits ?? null,
        rssMB: final.rss / 2 ** 20,
      };
    }
    return out;
  } finally {
    for (const r of running) await r.server.stop();
  }
}

function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function fmt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

module.exports = { compareServers, median, fmt };
