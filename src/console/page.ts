/**
 * The console page: one self-contained HTML document (no build step, nothing loaded from
 * elsewhere). Data is rendered with `textContent` only, never as HTML. `data-testid` attributes
 * are for test/browser/console.test.ts.
 */

export interface PageOptions {
  /** The per-process token every POST must carry (X-Console-Token). */
  token: string;
  /** CSP nonce of this response's inline script and style. */
  nonce: string;
  reasons: readonly string[];
  sources: readonly string[];
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function consolePage(o: PageOptions): string {
  const boot = scriptJson({ token: o.token, reasons: o.reasons, sources: o.sources });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>distinct-webhook-adapter · console</title>
<link rel="icon" href="data:,">
<style nonce="${o.nonce}">
  :root { --fg:#1d232a; --muted:#5d6b78; --line:#dde3e9; --bg:#f6f8fa; --ok:#1a7f37; --bad:#c62828; --warn:#9a6700; --accent:#0b5cad; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
  header { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#fff; border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
  header h1 { font-size:16px; margin:0; }
  header .meta { color:var(--muted); font-size:12px; }
  #live { margin-left:auto; font-size:12px; }
  #live.on::before { content:"● "; color:var(--ok); } #live.off::before { content:"● "; color:var(--bad); }
  main { padding:16px 20px; display:grid; gap:16px; max-width:1400px; }
  .cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(260px,1fr)); gap:16px; }
  section, .card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 14px; }
  h2 { font-size:14px; margin:0 0 8px; }
  .big { font-size:26px; font-weight:600; }
  .muted { color:var(--muted); }
  .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .badge.closed, .badge.forwarded, .badge.ready { background:#dafbe1; color:var(--ok); }
  .badge.open, .badge.dead_lettered, .badge.not-ready { background:#ffebe9; color:var(--bad); }
  .badge.retry { background:#fff8c5; color:var(--warn); }
  table { border-collapse:collapse; width:100%; font-size:13px; }
  th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { color:var(--muted); font-weight:600; white-space:nowrap; }
  td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
  .small { font-size:12px; }
  .toolbar { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin-bottom:8px; }
  button { font:inherit; padding:3px 10px; border:1px solid var(--line); border-radius:4px; background:#fff; cursor:pointer; }
  button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
  button.danger { background:var(--bad); color:#fff; border-color:var(--bad); }
  select { font:inherit; padding:2px 4px; }
  #confirm { display:none; padding:8px 10px; border:1px solid var(--warn); background:#fff8c5; border-radius:4px; margin-bottom:8px; }
  #confirm.shown { display:flex; gap:8px; align-items:center; }
  pre { background:var(--bg); padding:8px; border-radius:4px; overflow:auto; font-size:12px; margin:6px 0; }
  .bar { height:8px; background:var(--line); border-radius:4px; overflow:hidden; display:flex; }
  .bar .d { background:var(--ok); } .bar .x { background:var(--bad); }
  #notice { min-height:1.2em; }
  .empty { color:var(--muted); font-style:italic; }
  tr.idle td { color:#a0aab4; }
</style>
</head>
<body>
<header>
  <h1>distinct-webhook-adapter</h1>
  <span class="meta" id="meta">…</span>
  <span id="ready" data-testid="ready"></span>
  <span id="live" class="off" data-testid="live">connecting</span>
</header>
<main>
  <div class="cards">
    <div class="card"><h2>Queue</h2>
      <div><span class="big" id="q-depth" data-testid="queue-depth">–</span> <span class="muted">waiting or in flight</span></div>
      <div class="muted small">oldest <span id="q-age" data-testid="queue-age">–</span> · in flight <span id="q-inflight">–</span> · driver <span id="q-driver">–</span></div>
    </div>
    <div class="card"><h2>Forwarding to Distinct</h2>
      <div><span id="c-state" class="badge" data-testid="circuit-state">–</span> <span class="muted small" id="c-since"></span></div>
      <div class="small">last answer: <span id="c-last" data-testid="circuit-last">–</span></div>
      <div class="small muted" id="c-probe"></div>
    </div>
    <div class="card"><h2>Forwarded</h2>
      <div><span class="big" id="forwarded" data-testid="forwarded">–</span> <span class="muted">accepted by Distinct since start</span></div>
    </div>
    <div class="card"><h2>Dead letters</h2>
      <div><span class="big" id="dl-total" data-testid="dead-letter-total">–</span></div>
      <div class="small" id="dl-reasons" data-testid="dead-letter-reasons"></div>
    </div>
  </div>

  <section><h2>Sources <span class="muted small">totals since start</span></h2>
    <table data-testid="sources"><thead><tr>
      <th>source</th><th class="n">requests</th><th class="n">rejected</th><th class="n">queued</th><th class="n">duplicates</th><th class="n">ignored</th><th class="n">dead-lettered</th><th class="n">forwarded</th><th>last request</th>
    </tr></thead><tbody id="sources"></tbody></table>
  </section>

  <section><h2>Recent deliveries <span class="muted small">last 50, newest first</span></h2>
    <table data-testid="recent"><thead><tr><th>time</th><th>source</th><th>type</th><th>pair</th><th>recipient</th><th>outcome</th><th class="n">status</th><th class="n">attempt</th><th>detail</th></tr></thead>
    <tbody id="recent"></tbody></table>
  </section>

  <section id="replays-section"><h2>Replays</h2><div id="replays" data-testid="replays"><span class="empty">none since start</span></div></section>

  <section><h2>Dead letters</h2>
    <div class="toolbar">
      <label>reason <select id="f-reason" data-testid="filter-reason"><option value="">any</option></select></label>
      <label>source <select id="f-source" data-testid="filter-source"><option value="">any</option></select></label>
      <button id="dl-refresh">refresh</button>
      <button id="dl-replay" class="primary" data-testid="replay-matching">replay matching…</button>
      <button id="dl-purge" class="danger" data-testid="purge-matching">purge matching…</button>
      <span id="notice" class="small" data-testid="notice"></span>
    </div>
    <div id="confirm" data-testid="confirm"><span id="confirm-text"></span>
      <button id="confirm-yes" class="danger" data-testid="confirm-yes">yes</button><button id="confirm-no">cancel</button></div>
    <table data-testid="dead-letters"><thead><tr><th>id</th><th>dead-lettered</th><th>reason</th><th>source</th><th>type</th><th>pair</th><th>recipient</th><th class="n">attempts</th><th>detail</th><th></th></tr></thead>
    <tbody id="dead-letters"></tbody></table>
    <div id="dl-more" class="small muted"></div>
    <div id="detail" data-testid="dead-letter-detail"></div>
  </section>
</main>
<script nonce="${o.nonce}">
"use strict";
const BOOT = ${boot};
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return e;
}
const fmtTime = (iso) => iso ? new Date(iso).toLocaleTimeString() : '–';
function fmtAge(s) { if (s < 60) return s + ' s'; if (s < 3600) return Math.floor(s / 60) + ' min'; if (s < 86400) return (s / 3600).toFixed(1) + ' h'; return (s / 86400).toFixed(1) + ' d'; }
const kv = (obj) => Object.entries(obj || {}).map(([k, v]) => k + ' ' + v).join(', ');
function fill(select, values) { for (const v of values) select.append(el('option', { value: v }, v)); }
fill($('f-reason'), BOOT.reasons); fill($('f-source'), BOOT.sources);

let lastDeadLetters = null, lastReplaySig = '';
function render(state) {
  const s = state.status;
  $('meta').textContent = 'v' + s.version + ' · ' + s.role + ' · up since ' + (s.startedAt ? new Date(s.startedAt).toLocaleString() : '–');
  const r = $('ready'); r.className = 'badge ' + (s.ready ? 'ready' : 'not-ready'); r.textContent = s.ready ? 'accepting webhooks' : 'NOT accepting webhooks';
  $('q-depth').textContent = s.queue.depth; $('q-age').textContent = fmtAge(s.queue.oldestAgeSeconds);
  $('q-inflight').textContent = s.queue.inFlight; $('q-driver').textContent = s.queue.driver;
  const c = s.circuit, cs = $('c-state');
  cs.className = 'badge ' + c.state;
  cs.textContent = !s.forwarding ? 'not forwarding here' : c.state === 'open' ? 'PAUSED (circuit open)' : 'forwarding';
  $('c-since').textContent = c.since ? 'since ' + new Date(c.since).toLocaleString() : '';
  $('c-last').textContent = c.lastAnswerAt ? (c.lastStatus === null ? 'no answer' : 'HTTP ' + c.lastStatus) + (c.lastMessage ? ' "' + c.lastMessage + '"' : '') + ' at ' + fmtTime(c.lastAnswerAt) : 'none yet';
  $('c-probe').textContent = c.state === 'open' ? c.reason + '; next probe ' + fmtTime(c.nextProbeAt) : '';
  $('forwarded').textContent = s.forwarded;
  $('dl-total').textContent = s.queue.deadLetters;
  $('dl-reasons').textContent = kv(s.queue.deadLettersByReason);
  const tb = $('sources'); tb.replaceChildren();
  for (const [id, t] of Object.entries(s.sources)) {
    const ignored = el('td', { class: 'n' }, t.ignored);
    if (t.ignored) ignored.append(el('div', { class: 'small muted' }, kv(t.ignoredEvents)));
    const rejected = el('td', { class: 'n' }, t.rejected);
    if (t.rejected) rejected.append(el('div', { class: 'small muted' }, kv(Object.fromEntries(Object.entries(t.rejectedByStatus).map(([k, v]) => ['HTTP ' + k, v])))));
    const dead = el('td', { class: 'n' }, t.deadLettered);
    if (t.deadLettered) dead.append(el('div', { class: 'small muted' }, kv(t.deadLetteredByReason)));
    tb.append(el('tr', { 'data-source': id, class: t.requests || t.forwarded ? '' : 'idle' }, el('td', {}, id), el('td', { class: 'n', 'data-col': 'requests' }, t.requests),
      withCol(rejected, 'rejected'), el('td', { class: 'n', 'data-col': 'queued' }, t.queued),
      el('td', { class: 'n', 'data-col': 'duplicates' }, t.duplicates), withCol(ignored, 'ignored'), withCol(dead, 'deadLettered'),
      el('td', { class: 'n', 'data-col': 'forwarded' }, t.forwarded),
      el('td', { class: 'small' }, t.lastRequestAt ? fmtTime(t.lastRequestAt) + ' (' + t.lastRequestStatus + ')' : '–')));
  }
  if (!Object.keys(s.sources).length) tb.append(el('tr', {}, el('td', { colspan: 9, class: 'empty' }, 'no sources in this process')));
  const rb = $('recent'); rb.replaceChildren();
  for (const d of state.recent) {
    rb.append(el('tr', {}, el('td', { class: 'small' }, fmtTime(d.at)), el('td', {}, d.source), el('td', {}, d.type), el('td', {}, d.pair),
      el('td', {}, d.recipient), el('td', {}, el('span', { class: 'badge ' + d.outcome }, d.outcome === 'dead_lettered' ? 'dead: ' + d.reason : d.outcome)),
      el('td', { class: 'n' }, d.status == null ? '–' : d.status), el('td', { class: 'n' }, d.attempts), el('td', { class: 'small' }, d.detail || '')));
  }
  if (!state.recent.length) rb.append(el('tr', {}, el('td', { colspan: 9, class: 'empty' }, 'no deliveries since start')));
  renderReplays(state.replays, s.forwarding);
  const sig = JSON.stringify(state.replays.map((x) => [x.id, x.delivered, x.deadAgain]));
  if (s.queue.deadLetters !== lastDeadLetters || sig !== lastReplaySig) { lastDeadLetters = s.queue.deadLetters; lastReplaySig = sig; loadDeadLetters(); }
}
function withCol(td, col) { td.setAttribute('data-col', col); return td; }
function renderReplays(replays, forwarding) {
  const box = $('replays'); box.replaceChildren();
  if (!replays.length) { box.append(el('span', { class: 'empty' }, 'none since start')); return; }
  if (!forwarding) box.append(el('div', { class: 'small muted' }, 'This process does not forward (serve --no-forward): the forwarder delivers replayed events, and their progress is not seen here.'));
  for (const p of replays) {
    const w = Math.max(p.watched, 1);
    const bar = el('div', { class: 'bar' }, el('div', { class: 'd' }), el('div', { class: 'x' }));
    bar.children[0].style.width = (100 * p.delivered / w) + '%'; bar.children[1].style.width = (100 * p.deadAgain / w) + '%';
    box.append(el('div', { 'data-testid': 'replay', 'data-done': String(p.done) },
      el('div', {}, 'replay #' + p.id + ' at ' + fmtTime(p.startedAt) + ': ', el('b', { 'data-testid': 'replay-delivered' }, p.delivered), ' of ' + p.total + ' delivered, ',
        el('b', {}, p.deadAgain), ' dead again' + (p.deadAgain ? ' (' + kv(p.deadAgainByReason) + ')' : '') + ', ', el('b', {}, p.pending), ' pending' + (p.retrying ? ' (' + p.retrying + ' retrying)' : '') + (p.done ? ' — done' : '')), bar));
  }
}

async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json', 'x-console-token': BOOT.token }, body: JSON.stringify(body) };
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || ('HTTP ' + res.status));
  return json;
}
function filters() { const f = {}; if ($('f-reason').value) f.reason = $('f-reason').value; if ($('f-source').value) f.source = $('f-source').value; return f; }
let dlSeq = 0;
async function loadDeadLetters() {
  const seq = ++dlSeq;
  const q = new URLSearchParams(filters()).toString();
  let data;
  try { data = await api('/console/api/dead-letters' + (q ? '?' + q : '')); } catch (e) { $('notice').textContent = e.message; return; }
  if (seq !== dlSeq) return;
  const tb = $('dead-letters'); tb.replaceChildren();
  for (const d of data.items) {
    tb.append(el('tr', { 'data-id': d.id }, el('td', {}, d.id), el('td', { class: 'small' }, new Date(d.deadLetteredAt).toLocaleString()), el('td', {}, d.reason),
      el('td', {}, d.source), el('td', {}, d.type), el('td', {}, d.pair), el('td', {}, d.recipient), el('td', { class: 'n' }, d.attempts),
      el('td', { class: 'small' }, d.detail), el('td', {}, el('button', { 'data-testid': 'view', onclick: () => showDetail(d.id) }, 'view'))));
  }
  if (!data.items.length) tb.append(el('tr', {}, el('td', { colspan: 10, class: 'empty' }, 'no dead letters match')));
  $('dl-more').textContent = data.more ? 'showing the newest ' + data.items.length + '; narrow the filter to see others' : '';
}
async function showDetail(id) {
  const box = $('detail'); box.replaceChildren();
  let d;
  try { d = await api('/console/api/dead-letters/' + encodeURIComponent(id)); } catch (e) { box.append(el('p', { class: 'empty' }, e.message)); return; }
  box.append(el('h2', {}, 'Dead letter ' + d.id),
    el('div', {}, el('b', {}, d.reason), ' — ', d.reasonMeaning || ''),
    el('div', { 'data-testid': 'detail-why' }, 'why: ' + d.detail),
    el('div', { class: 'small muted' }, 'source ' + d.source + ' (' + d.provider + '), ' + d.type + ', received ' + new Date(d.receivedAt).toLocaleString() + ', ' + d.attempts + ' earlier failed attempt(s), key ' + d.key),
    el('div', { class: 'small' }, 'The Distinct event (identifiers masked):'), el('pre', { 'data-testid': 'detail-event' }, JSON.stringify(d.event, null, 2)),
    ...(d.providerEvent === undefined ? [] : [el('div', { class: 'small' }, 'What ' + d.provider + ' sent (personal data masked):'), el('pre', { 'data-testid': 'detail-provider-event' }, JSON.stringify(d.providerEvent, null, 2))]),
    el('div', { class: 'toolbar' }, el('button', { class: 'primary', 'data-testid': 'replay-one', onclick: () => ask('replay', { ids: [d.id] }, 'Replay dead letter ' + d.id + '?') }, 'replay this…'),
      el('button', { class: 'danger', 'data-testid': 'purge-one', onclick: () => ask('purge', { ids: [d.id] }, 'Purge dead letter ' + d.id + ' for good?') }, 'purge this…'),
      el('button', { onclick: () => box.replaceChildren() }, 'close')));
}
let pending = null;
function ask(kind, selection, text) {
  pending = { kind, selection };
  $('confirm-text').textContent = text; $('confirm').className = 'shown';
}
function describe(f) { return [f.reason ? 'reason ' + f.reason : '', f.source ? 'source ' + f.source : ''].filter(Boolean).join(', ') || 'ALL dead letters'; }
$('dl-replay').addEventListener('click', () => { const f = filters(); ask('replay', Object.keys(f).length ? f : { all: true }, 'Replay ' + describe(f) + ' (' + $('dead-letters').querySelectorAll('tr[data-id]').length + ' shown)?'); });
$('dl-purge').addEventListener('click', () => { const f = filters(); ask('purge', Object.keys(f).length ? f : { all: true }, 'Purge ' + describe(f) + ' for good?'); });
$('confirm-no').addEventListener('click', () => { pending = null; $('confirm').className = ''; });
$('confirm-yes').addEventListener('click', async () => {
  if (!pending) return;
  const { kind, selection } = pending; pending = null; $('confirm').className = '';
  try {
    const r = await api('/console/api/dead-letters/' + kind, { ...selection, confirm: true });
    $('notice').textContent = kind === 'replay' ? 'replayed ' + r.replayed + (r.more ? ' (more matched: run again)' : '') : 'purged ' + r.purged + (r.more ? ' (more matched: run again)' : '');
    $('detail').replaceChildren(); refresh();
  } catch (e) { $('notice').textContent = kind + ' failed: ' + e.message; }
});
$('dl-refresh').addEventListener('click', () => loadDeadLetters());
$('f-reason').addEventListener('change', () => loadDeadLetters());
$('f-source').addEventListener('change', () => loadDeadLetters());

async function refresh() { try { render(await api('/console/api/state')); } catch (e) { $('notice').textContent = e.message; } }
function connect() {
  const es = new EventSource('/console/api/events');
  es.onmessage = (m) => { $('live').className = 'on'; $('live').textContent = 'live'; render(JSON.parse(m.data)); };
  es.onerror = () => { $('live').className = 'off'; $('live').textContent = 'reconnecting'; };
}
refresh().then(() => loadDeadLetters());
connect();
</script>
</body>
</html>
`;
}
