/**
 * The sandbox's page (`GET /`) and its script (`/_sandbox/page.js`): accepted events, rejections
 * and faults, redrawn in place from `/_sandbox/state`. Recorded events are attacker-controlled
 * text: the HTML is escaped, the script builds nodes with textContent only.
 */
import { groupFaults, type AppliedFault, type FaultResponse } from './faults';
import type { ReceivedEvent, RejectedRequest, SandboxStats } from './sandbox-server';

/** Events the page shows (the JSON API has them all). */
export const PAGE_EVENTS = 200;

/** Headers of the page. */
export function htmlHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    // Security: recorded events are attacker-controlled text; escaping plus a CSP without scripts.
    // The page script is a separate same-origin file (no inline script) that only fetches /_sandbox/state.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'",
    'x-content-type-options': 'nosniff',
  };
}

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cell(value: unknown, cls?: string): string {
  if (value === undefined) return '<td class="none">—</td>';
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 1);
  return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;
}

const EMPTY_STATE =
  'Nothing received yet. Start the adapter on its development defaults (npm start, i.e. distinct-adapter serve --dev), ' +
  'then send a signed sample webhook: npx distinct-adapter simulate twilio (or sendgrid, mailgun, … any source). ' +
  'The adapter forwards it here within a second.';

export function renderPage(
  events: readonly ReceivedEvent[],
  rejections: readonly RejectedRequest[],
  faults: readonly FaultResponse[],
  applied: readonly AppliedFault[],
  stats: SandboxStats,
): string {
  const eventRows = events
    .slice(-PAGE_EVENTS)
    .reverse()
    .map((r) => {
      const e = r.event;
      return `<tr${r.duplicate ? ' class="dup"' : ''}>${cell(r.receivedAt)}${cell(`${String(e.feature)} / ${String(e.action)}`)}${cell(e.userId)}${cell(e.email)}${cell(e.phone)}${cell(e.experienceId)}${cell(e.capturedAt)}${cell(e.metadata, 'meta')}${cell(r.idempotencyKey ?? undefined)}</tr>`;
    })
    .join('\n');
  const rejectionRows = [...rejections]
    .reverse()
    .map(
      (r) =>
        `<tr>${cell(r.receivedAt)}${cell(String(r.status))}${cell(r.message)}${cell(r.idempotencyKey ?? undefined)}</tr>`,
    )
    .join('\n');
  const pendingItems = groupFaults(faults)
    .map((g) => `<li>${escapeHtml(g.description)}${g.times > 1 ? ` × ${g.times}` : ''}</li>`)
    .join('');
  const appliedRows = [...applied]
    .reverse()
    .map((a) => `<tr>${cell(a.appliedAt)}${cell(a.description)}${cell(a.idempotencyKey ?? undefined)}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<noscript><meta http-equiv="refresh" content="5"></noscript>
<title>Distinct sandbox</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;max-width:100rem}table{border-collapse:collapse;width:100%;table-layout:auto}td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}td{overflow-wrap:anywhere}td.meta{white-space:pre-wrap;word-break:break-word;max-width:28rem}tr.dup{background:#fff4d6}.none{color:#aaa}h2{font-size:1.05rem;margin-top:1.5rem}code{background:#f3f3f3;padding:0 3px}.empty{color:#555}</style>
</head><body>
<h1>Distinct sandbox</h1>
<p id="stats">${stats.requests} requests · ${events.length} accepted · ${stats.duplicates} duplicates · ${stats.rejected} rejected · max ${stats.maxConcurrent} concurrent. Updates by itself. JSON: <a href="/_sandbox/events">/_sandbox/events</a></p>
<h2>Faults</h2>
<p>Pending (applied to the next requests, in order):</p>
<ul id="pending-faults">${pendingItems || '<li class="none">none — inject with <code>distinct-adapter sandbox fault --status 500 --times 3</code>, <code>--latency 2000</code> or <code>--drop</code></li>'}</ul>
<table><thead><tr><th>applied</th><th>answer</th><th>idempotency-key</th></tr></thead>
<tbody id="applied-faults">
${appliedRows || '<tr><td colspan="3" class="none">No fault applied yet.</td></tr>'}
</tbody></table>
<h2>Accepted events (newest first, last ${PAGE_EVENTS})</h2>
<table><thead><tr><th>received</th><th>feature / action</th><th>userId</th><th>email</th><th>phone</th><th>experienceId</th><th>capturedAt</th><th>metadata</th><th>idempotency-key</th></tr></thead>
<tbody id="events">
${eventRows || `<tr><td colspan="9" class="empty">${escapeHtml(EMPTY_STATE)}</td></tr>`}
</tbody></table>
<h2>Rejected (Distinct's answer)</h2>
<table><thead><tr><th>received</th><th>status</th><th>message</th><th>idempotency-key</th></tr></thead>
<tbody id="rejections">
${rejectionRows || '<tr><td colspan="4" class="none">Nothing rejected.</td></tr>'}
</tbody></table>
<script src="/_sandbox/page.js"></script>
</body></html>
`;
}

/**
 * The page's script: polls /_sandbox/state and redraws the tables in place. Builds DOM nodes with
 * textContent only (recorded events are attacker-controlled text), so the CSP needs no inline script.
 */
export const PAGE_SCRIPT = `'use strict';
(function () {
  var version = -1;
  var EMPTY = ${JSON.stringify(EMPTY_STATE)};
  function td(value, cls) {
    var c = document.createElement('td');
    if (value === undefined || value === null) { c.className = 'none'; c.textContent = '\\u2014'; return c; }
    c.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 1);
    if (cls) c.className = cls;
    return c;
  }
  function fill(id, rows, cols, empty, emptyClass) {
    var body = document.getElementById(id);
    var frag = document.createDocumentFragment();
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var c = document.createElement('td');
      c.colSpan = cols; c.className = emptyClass || 'none'; c.textContent = empty;
      tr.appendChild(c); frag.appendChild(tr);
    }
    rows.forEach(function (cells) {
      var tr = document.createElement('tr');
      if (cells.dup) tr.className = 'dup';
      cells.forEach(function (x) { tr.appendChild(x); });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
  }
  function render(s) {
    var st = s.stats;
    document.getElementById('stats').firstChild.textContent = st.requests + ' requests \\u00b7 ' + s.accepted + ' accepted \\u00b7 ' + st.duplicates +
      ' duplicates \\u00b7 ' + st.rejected + ' rejected \\u00b7 max ' + st.maxConcurrent + ' concurrent. Updates by itself. JSON: ';
    fill('events', s.events.map(function (r) {
      var e = r.event;
      var row = [td(r.receivedAt), td(String(e.feature) + ' / ' + String(e.action)), td(e.userId), td(e.email), td(e.phone),
        td(e.experienceId), td(e.capturedAt), td(e.metadata, 'meta'), td(r.idempotencyKey)];
      row.dup = r.duplicate;
      return row;
    }), 9, EMPTY, 'empty');
    fill('rejections', s.rejections.map(function (r) { return [td(r.receivedAt), td(String(r.status)), td(r.message), td(r.idempotencyKey)]; }), 4, 'Nothing rejected.');
    fill('applied-faults', s.appliedFaults.map(function (a) { return [td(a.appliedAt), td(a.description), td(a.idempotencyKey)]; }), 3, 'No fault applied yet.');
    var list = document.getElementById('pending-faults');
    var frag = document.createDocumentFragment();
    s.pendingFaults.forEach(function (g) {
      var li = document.createElement('li');
      li.textContent = g.description + (g.times > 1 ? ' \\u00d7 ' + g.times : '');
      frag.appendChild(li);
    });
    if (s.pendingFaults.length === 0) {
      var li = document.createElement('li'); li.className = 'none';
      li.textContent = 'none \\u2014 inject with: distinct-adapter sandbox fault --status 500 --times 3 (or --latency 2000, --drop)';
      frag.appendChild(li);
    }
    list.replaceChildren(frag);
  }
  function poll() {
    fetch('/_sandbox/state?after=' + version, { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (s) { if (!s.unchanged) render(s); version = s.version; })
      .catch(function () {})
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
`;
