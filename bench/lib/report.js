'use strict';
/** The final table and bench/results/latest.json. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function num(value, unit) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  const digits = unit === 'MB' ? 1 : unit === 'ms' ? 3 : 0;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

function cells(row) {
  return [
    row.benchmark,
    num(row.measured, row.unit),
    row.baseline === null || row.baseline === undefined
      ? '-'
      : `${num(row.baseline, row.baselineUnit ?? row.unit)} (${row.baselineLabel})`,
    row.ratio === null || row.ratio === undefined || !Number.isFinite(row.ratio) ? '-' : `${row.ratio.toFixed(2)}×`,
    row.goal,
    row.pass === null || row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'FAIL',
  ];
}

/** Prints `benchmark | measured | baseline | ratio | goal | pass/fail` as a Markdown table. */
function printTable(rows, write = (line) => console.log(line)) {
  const header = ['benchmark', 'measured', 'baseline', 'ratio', 'goal', 'pass/fail'];
  const body = rows.map(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  write(line(header));
  write(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of body) write(line(r));
}

/** The machine, as the JSON and the docs describe it. */
function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0] ? cpus[0].model : 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
  };
}

function writeJson(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}

module.exports = { printTable, machine, writeJson };
