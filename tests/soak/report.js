#!/usr/bin/env node
// tests/soak/report.js SAMPLES_CSV SUMMARY_JSON - the verdict of tests/soak/run.
//
// Reads the samples (one row every 5 s) and the run's facts (env SOAK_META, JSON), applies the pass
// criteria of docs/RELIABILITY.md, prints a summary and writes it with the samples to SUMMARY_JSON.
// Exits 0 when every criterion holds, 1 otherwise.
'use strict';
const fs = require('node:fs');

const [csvPath, outPath] = process.argv.slice(2);
const meta = JSON.parse(process.env.SOAK_META || '{}');
const lines = fs.readFileSync(csvPath, 'utf8').trim().split('\n');
const cols = lines[0].split(',');
const samples = lines.slice(1).map((l) => {
  const v = l.split(',');
  const o = {};
  cols.forEach((c, i) => (o[c] = v[i] === '' || v[i] === undefined ? null : Number(v[i])));
  return o;
}).filter((s) => s.t_s !== null && s.rss_kb !== null && s.t_s < meta.duration_s); // wrk ends at D

const D = meta.duration_s;
const MiB = 1024;
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const fmtMiB = (kb) => `${(kb / MiB).toFixed(1)} MiB`;

// Windows: warm-up 60 s, baseline = the next 60 s, end = the last 60 s; for runs shorter than 180 s,
// thirds of the run.
const win = D >= 180 ? 60 : D / 3;
const warm = D >= 180 ? 60 : D / 3;
const baseline = samples.filter((s) => s.t_s > warm && s.t_s <= warm + win);
const last = samples.filter((s) => s.t_s > D - win);
const rss = samples.map((s) => s.rss_kb);
const baseRss = mean(baseline.map((s) => s.rss_kb));
const endRss = mean(last.map((s) => s.rss_kb));
// The bound: max(5 %, 4 MiB). After the warm-up every cache of the server is at its size (the
// SQLite page cache is bounded, libmicrohttpd's per-connection pools are bounded by the connection
// count, malloc's arenas stop growing once every thread has its own), so what is left is noise of a
// few hundred KiB (glibc trimming and re-growing its heaps). A leak of L bytes per request grows RSS
// by L x the requests between the two windows; the figure printed (growth per 1000 requests) says
// how small a leak this run could have seen.
const rssAllowed = Math.max(0.05 * baseRss, 4 * MiB);
const reqsAt = (t) => {
  const s = samples.find((x) => x.t_s >= t);
  return s ? s.wrk_responses : NaN;
};
const reqsBetween = reqsAt(D - win / 2) - reqsAt(warm + win / 2);

const checks = [];
const check = (name, ok, detail) => checks.push({ name, ok: Boolean(ok), detail });

const w = meta.wrk || {};
const e = w.errors || {};
const socketErrors = (e.connect || 0) + (e.read || 0) + (e.write || 0) + (e.timeout || 0);
check('no socket errors (wrk connect/read/write/timeout)', socketErrors === 0, JSON.stringify(e));
const counted = w.counted || {};
check('no non-2xx replies (wrk)', (e.status || 0) === 0 && (counted.non2xx || 0) === 0,
  `wrk status errors ${e.status || 0}, non-2xx counted by soak.lua ${counted.non2xx || 0}`);
check('no non-2xx replies (the server\'s /metrics, during the soak)', meta.server && meta.server.requests_non2xx === 0,
  `${meta.server && meta.server.requests_non2xx} non-2xx of ${meta.server && meta.server.requests_2xx + meta.server.requests_non2xx}`);
const badSamples = samples.filter((s, i) => i > 0 && s.wrk_non2xx > samples[i - 1].wrk_non2xx);
check('no sample saw a new non-2xx', badSamples.length === 0 && !(samples[0] && samples[0].wrk_non2xx > 0),
  badSamples.length ? `at t=${badSamples.map((s) => s.t_s).join(', ')} s` : `${samples.length} samples`);
check('every reply recognised (issuance, /me, JWKS)', (counted.unclassified || 0) === 0, `${counted.unclassified || 0} unrecognised 2xx bodies`);
const achieved = w.rps;
check('the rate held over the run: >= 95 % of the target (wrk: requests / duration)', achieved >= 0.95 * meta.target_rps,
  `${achieved && achieved.toFixed(0)} req/s of ${meta.target_rps} (${((100 * achieved) / meta.target_rps).toFixed(1)} %); issuance ${(counted.issued / w.duration_s).toFixed(0)} req/s of ${meta.issue_rps}`);
// Per minute, from the samples' cumulative counts (each thread writes them once a second, so a
// 60 s window is exact to about +-2 %): no minute fell behind.
const minutes = [];
const step = D >= 120 ? 60 : D;
for (let t = 0; t + step <= D; t += step) {
  const a = t === 0 ? 0 : reqsAt(t);
  const b = reqsAt(t + step === D ? D - 5 : t + step);
  const span = t + step === D ? D - 5 - t : step;
  if (Number.isFinite(a) && Number.isFinite(b)) minutes.push({ t, rps: (b - a) / span });
}
const minRate = Math.min(...minutes.map((m) => m.rps));
check(`the rate held every ${step} s: >= 90 % of the target`, minutes.length > 0 && minRate >= 0.9 * meta.target_rps,
  minutes.map((m) => `${m.t}s: ${m.rps.toFixed(0)}`).join(', '));
check('the samples cover the run', samples.length >= Math.floor(D / 5) - 2, `${samples.length} samples for ${D} s`);
check(`RSS flat: mean of the last ${win.toFixed(0)} s <= mean of ${warm.toFixed(0)}-${(warm + win).toFixed(0)} s + max(5 %, 4 MiB)`,
  baseline.length > 0 && last.length > 0 && endRss <= baseRss + rssAllowed,
  `baseline ${fmtMiB(baseRss)} (${baseline.length} samples), end ${fmtMiB(endRss)} (${last.length} samples), growth ${fmtMiB(endRss - baseRss)}, allowed ${fmtMiB(rssAllowed)}; ` +
  `${reqsBetween} requests between the windows: ${((1024 * (endRss - baseRss)) / (reqsBetween / 1000)).toFixed(0)} bytes per 1000 requests (the bound: ${((1024 * rssAllowed) / reqsBetween).toFixed(1)} bytes per request)`);
const fdStart = samples.length ? samples[0].fds : NaN;
const fdEnd = samples.length ? samples[samples.length - 1].fds : NaN;
check('fds under load: last sample within 8 of the first', Math.abs(fdEnd - fdStart) <= 8, `first ${fdStart}, last ${fdEnd}, max ${Math.max(...samples.map((s) => s.fds))}`);
const idle = meta.idle || {};
check('fds idle: after the load within 4 of before it', Math.abs(idle.fds_after - idle.fds_before) <= 4, `before ${idle.fds_before}, after ${idle.fds_after}`);
const thrStart = samples.length ? samples[0].threads : NaN;
const thrEnd = samples.length ? samples[samples.length - 1].threads : NaN;
check('threads: last sample equal to the first', thrStart === thrEnd, `first ${thrStart}, last ${thrEnd}`);
check('no secret in the server log (access token, session tokens)', meta.log_secret_lines === 0, `${meta.log_secret_lines} lines`);
check('the server is ready after the soak (/readyz 200)', meta.server && meta.server.ready_after === 200, `${meta.server && meta.server.ready_after}`);
check('the server stops cleanly (SIGTERM, exit 0)', meta.server && String(meta.server.stop_exit) === '0', `exit ${meta.server && meta.server.stop_exit}`);

const loads = samples.map((s) => s.load1);
const summary = {
  ...meta,
  achieved_rps: achieved,
  rate_per_window: minutes,
  mix_counted: counted,
  latency_ms: { p50: w.p50_us / 1000, p90: w.p90_us / 1000, p99: w.p99_us / 1000, max: w.max_us / 1000 },
  rss_kb: { first: rss[0], last: rss[rss.length - 1], min: Math.min(...rss), max: Math.max(...rss), baseline_mean: Math.round(baseRss), end_mean: Math.round(endRss) },
  fds: { first: fdStart, last: fdEnd, min: Math.min(...samples.map((s) => s.fds)), max: Math.max(...samples.map((s) => s.fds)) },
  threads: { first: thrStart, last: thrEnd },
  load1: { min: Math.min(...loads), max: Math.max(...loads), mean: Number(mean(loads).toFixed(2)) },
  server_cpu_pct_mean: Number(mean(samples.map((s) => s.server_cpu_pct)).toFixed(1)),
  wrk_cpu_pct_mean: Number(mean(samples.map((s) => s.wrk_cpu_pct)).toFixed(1)),
  machine_busy_pct_mean: Number(mean(samples.map((s) => s.machine_busy_pct)).toFixed(1)),
  checks,
  pass: checks.every((c) => c.ok),
  samples,
};
fs.writeFileSync(outPath, `${JSON.stringify(summary, null, 1)}\n`);

const p = (s) => process.stdout.write(`${s}\n`);
p('');
p(`soak of ${D} s, ${meta.started}, commit ${meta.commit}, ${meta.machine && meta.machine.nproc} CPUs (${meta.machine && meta.machine.cpu_model})`);
p(`  maximum issuance rate ${meta.max_rps === null ? '(not measured)' : `${meta.max_rps} req/s`}; target ${meta.target_rps} req/s (${meta.settings.fraction} of it) in the mix I:M:J ${meta.settings.mix}, of which issuance ${meta.issue_rps} req/s; achieved ${achieved && achieved.toFixed(0)} req/s ` +
  `(${w.requests} requests: ${counted.issued} issued, ${counted.me} /me, ${counted.jwks} JWKS)`);
p(`  latency p50 ${summary.latency_ms.p50.toFixed(2)} ms, p90 ${summary.latency_ms.p90.toFixed(2)} ms, p99 ${summary.latency_ms.p99.toFixed(2)} ms, max ${summary.latency_ms.max.toFixed(1)} ms`);
p(`  RSS first ${fmtMiB(summary.rss_kb.first)}, last ${fmtMiB(summary.rss_kb.last)}, min ${fmtMiB(summary.rss_kb.min)}, max ${fmtMiB(summary.rss_kb.max)}; idle before ${fmtMiB(idle.rss_kb_before)}, after ${fmtMiB(idle.rss_kb_after)}`);
p(`  fds first ${fdStart}, last ${fdEnd} (idle ${idle.fds_before} -> ${idle.fds_after}); threads ${thrStart} -> ${thrEnd}`);
p(`  load average (1 min) ${summary.load1.min}-${summary.load1.max}, mean ${summary.load1.mean}; CPU: server ${summary.server_cpu_pct_mean} %, wrk ${summary.wrk_cpu_pct_mean} %, machine ${summary.machine_busy_pct_mean} % busy`);
p(`  database after: ${meta.server && meta.server.sessions} sessions, ${((meta.server && meta.server.db_bytes) / 1048576).toFixed(0)} MiB`);
for (const c of checks) p(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
p(`${summary.pass ? 'PASS' : 'FAIL'}; samples: ${csvPath}; summary: ${outPath}`);
process.exit(summary.pass ? 0 : 1);
