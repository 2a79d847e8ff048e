#!/usr/bin/env node
// report.js - turns the results bench/run collected (JSON lines) into its table, its ratios with
// the targets of issue 8, and the JSON file.
//
//   node bench/report.js RESULTS.jsonl OUT.json
//
// Lines of RESULTS.jsonl, by "type":
//   meta     {mode, started, commit, settings, machine}
//   openssl  {sign_per_s, verify_per_s, line}
//   row      {key, name, server, runs: [wrk.lua BENCH_RESULT objects]}
//   server   {server, name, peak_rss_kb, processes, startup_ms?, rss_after_start_kb?}
//   skip     {server, reason}
//   timing   {what, seconds, detail?}
// Medians are taken per metric over the runs of a row (req/s, p50, p99 separately).
'use strict';
const fs = require('node:fs');

const [inPath, outPath] = process.argv.slice(2);
const lines = fs.readFileSync(inPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const meta = lines.find((l) => l.type === 'meta');
const openssl = lines.find((l) => l.type === 'openssl') || null;
const servers = Object.fromEntries(lines.filter((l) => l.type === 'server').map((l) => [l.server, l]));
const skips = lines.filter((l) => l.type === 'skip');
const timings = lines.filter((l) => l.type === 'timing');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const rows = lines.filter((l) => l.type === 'row').map((r) => {
  const errors = r.runs.reduce((a, x) => a + x.errors.connect + x.errors.read + x.errors.write +
    x.errors.status + x.errors.timeout, 0);
  const srv = servers[r.server];
  return {
    key: r.key,
    name: r.name,
    server: r.server,
    rps: Math.round(median(r.runs.map((x) => x.rps))),
    p50_ms: median(r.runs.map((x) => x.p50_us)) / 1000,
    p99_ms: median(r.runs.map((x) => x.p99_us)) / 1000,
    peak_rss_mb: srv && srv.peak_rss_kb ? +(srv.peak_rss_kb / 1024).toFixed(1) : null,
    errors,
    other_load: r.runs.map((x) => x.foreign || '').filter(Boolean),
    runs: r.runs,
  };
});
const row = (k) => rows.find((r) => r.key === k);

// ---- ratios and targets ----
const ratios = [];
// shown as a multiple ("x": Tessera against a peer) or as a share ("%": against a ceiling)
function ratio(name, num, den, target, unit = '%') {
  if (num == null || den == null || den === 0) {
    ratios.push({ name, value: null, target, met: null, unit, note: 'not measured' });
    return;
  }
  const value = num / den;
  ratios.push({ name, value: +value.toFixed(4), target, met: target == null ? null : value >= target, unit });
}
function limit(name, value, max, unit) {
  if (value == null) {
    ratios.push({ name, value: null, target_max: max, met: null, note: 'not measured' });
    return;
  }
  ratios.push({ name, value, target_max: max, met: value <= max, unit });
}
const rps = (k) => (row(k) ? row(k).rps : null);
const pool = meta.settings.pool;
const orgs = meta.settings.scale ? meta.settings.scale.orgs.toLocaleString('en-US') : '';
const tokens = meta.settings.scale ? meta.settings.scale.tokens.toLocaleString('en-US') : '';

if (meta.mode === 'standard') {
  ratio('Tessera issuance / C ES256 ceiling', rps('tessera_token'), rps('ceiling_token'), 0.85);
  ratio('Tessera issuance / fastify peer', rps('tessera_token'), rps('fastify_token'), 2.0, 'x');
  limit('Tessera issuance p99 at 64 connections (ms)', row('tessera_token') ? row('tessera_token').p99_ms : null, 5, 'ms');
  ratio('Tessera /me, one token / nginx fixed body', rps('tessera_me_known'), rps('nginx_fixed'), 0.60);
  ratio(`Tessera /me, ${pool.toLocaleString('en-US')} distinct tokens / openssl verify rate (1 core)`, rps('tessera_me_pool'),
    openssl ? openssl.verify_per_s : null, 0.80);
  ratio('Tessera issuance / express peer', rps('tessera_token'), rps('express_token'), null, 'x');
  ratio('Tessera issuance / openssl sign rate (1 core)', rps('tessera_token'), openssl ? openssl.sign_per_s : null, null);
  ratio('C ES256 ceiling / openssl sign rate (1 core)', rps('ceiling_token'), openssl ? openssl.sign_per_s : null, null);
} else {
  ratio(`issuance: ${orgs} orgs / 1 org`, rps('big_token'), rps('small_token'), 0.90);
  ratio(`/me one token: ${orgs} orgs / 1 org`, rps('big_me_known'), rps('small_me_known'), 0.90);
  ratio(`/me ${pool.toLocaleString('en-US')} distinct tokens: ${orgs} orgs / 1 org`, rps('big_me_pool'), rps('small_me_pool'), 0.90);
  ratio(`issuance over ${tokens} access tokens / one token (${orgs} orgs)`, rps('big_token_many'), rps('big_token'), null);
  const big = servers.tessera_big || {};
  limit(`peak RSS at ${orgs} orgs, after its runs (MB)`, big.peak_rss_kb ? +(big.peak_rss_kb / 1024).toFixed(1) : null, 64, 'MB');
  limit(`RSS at ${orgs} orgs, just after start (MB)`, big.rss_after_start_kb ? +(big.rss_after_start_kb / 1024).toFixed(1) : null, 64, 'MB');
  limit(`start-up at ${orgs} orgs, process start to "listening on" (ms)`, big.startup_ms ?? null, 1000, 'ms');
  limit(`issuance p99 at ${orgs} orgs (ms)`, row('big_token') ? row('big_token').p99_ms : null, 5, 'ms');
}

// ---- printing ----
const pad = (s, n, right) => (right ? String(s).padStart(n) : String(s).padEnd(n));
const fmt = (x, d = 2) => (x == null ? '-' : x.toFixed(d));
const out = [];
const m = meta.machine;
out.push(`Tessera bench (${meta.mode}) ${meta.started}, commit ${meta.commit}`);
out.push(`machine: ${m.nproc} CPUs, ${m.cpu_model}; kernel ${m.kernel}; Debian ${m.debian}; ${m.mem_total_mb} MB RAM`);
out.push(`load: wrk ${meta.settings.wrk_version} -t${meta.settings.threads} -c${meta.settings.connections} ` +
  `-d${meta.settings.duration_s}s, ${meta.settings.runs} runs each after a ${meta.settings.warmup_s} s warm-up, medians; ` +
  `servers with ${meta.settings.workers} workers; loopback`);
if (openssl) {
  out.push(`openssl speed -seconds 3 ecdsap256 (${openssl.version}, 1 core): sign ${openssl.sign_per_s.toFixed(0)}/s, ` +
    `verify ${openssl.verify_per_s.toFixed(0)}/s`);
}
out.push('');
const W = Math.max(28, ...rows.map((r) => r.name.length)) + 2;
out.push(pad('name', W) + pad('req/s', 10, true) + pad('p50 ms', 9, true) + pad('p99 ms', 9, true) +
  pad('peak RSS MB', 13, true) + '  errors');
for (const r of rows) {
  out.push(pad(r.name, W) + pad(r.rps, 10, true) + pad(fmt(r.p50_ms), 9, true) + pad(fmt(r.p99_ms), 9, true) +
    pad(r.peak_rss_mb == null ? '-' : r.peak_rss_mb.toFixed(1), 13, true) + '  ' + (r.errors ? `${r.errors} (!)` : '0'));
}
for (const s of skips) out.push(`${pad(s.server, W)}skipped: ${s.reason}`);
const loaded = rows.filter((r) => r.other_load.length);
if (loaded.length) {
  out.push('');
  out.push('OTHER LOAD on the machine during these rows (their numbers are lower than an idle machine gives):');
  for (const r of loaded) out.push(`  ${r.name}: ${r.other_load.length} of ${r.runs.length} runs (${r.other_load.join('; ')})`);
}
out.push('');
out.push('peak RSS: VmHWM after the server\'s runs, summed over its processes');
for (const s of Object.values(servers)) {
  const bits = [`${s.name}: peak ${(s.peak_rss_kb / 1024).toFixed(1)} MB over ${s.processes} process(es)`];
  if (s.startup_ms != null) bits.push(`start-up ${s.startup_ms} ms`);
  if (s.rss_after_start_kb != null) bits.push(`RSS after start ${(s.rss_after_start_kb / 1024).toFixed(1)} MB`);
  out.push('  ' + bits.join(', '));
}
if (timings.length) {
  out.push('');
  for (const t of timings) out.push(`${t.what}: ${t.seconds.toFixed(1)} s${t.detail ? ` (${t.detail})` : ''}`);
}
out.push('');
out.push('targets (issue 8):');
for (const r of ratios) {
  let v;
  let tgt;
  if ('target_max' in r) {
    v = r.value == null ? '-' : `${r.value} ${r.unit}`;
    tgt = `target <= ${r.target_max} ${r.unit}`;
  } else {
    const times = r.unit === 'x';
    v = r.value == null ? '-' : times ? `${r.value.toFixed(2)}x` : `${(r.value * 100).toFixed(1)} %`;
    tgt = r.target == null ? '(no target)' : times ? `target >= ${r.target}x` : `target >= ${Math.round(r.target * 100)} %`;
  }
  const verdict = r.met == null ? (r.note || '') : r.met ? 'met' : 'NOT MET';
  out.push(`  ${pad(r.name, 72)} ${pad(v, 11, true)}   ${pad(tgt, 18)} ${verdict}`);
}
const text = out.join('\n');
console.log(text);

const json = {
  tessera_bench: 1,
  mode: meta.mode,
  started: meta.started,
  finished: new Date().toISOString(),
  commit: meta.commit,
  machine: meta.machine,
  settings: meta.settings,
  openssl,
  rows,
  servers,
  skipped: skips,
  timings,
  targets: ratios,
  table: text,
};
fs.writeFileSync(outPath, JSON.stringify(json, null, 2) + '\n');
