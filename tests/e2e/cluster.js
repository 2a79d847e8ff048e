'use strict';
// Helpers for the tests that run several `tessera serve` nodes on one PostgreSQL database
// (multinode.test.js, nginx.test.js): a throwaway PostgreSQL server (tests/e2e/pg.js), one
// environment whose TESSERA_DB is its URL and whose master key (TESSERA_MASTER_KEY, 64 hex
// characters) every node and every CLI call shares, `tessera migrate` run once, and nodes started
// with the same --base-url (the issuer must be equal on every node).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const h = require('./harness');

// Starts PostgreSQL and migrates it. Resolves {pg, env, masterKey}; the caller stops pg and
// cleans env up.
async function pgEnv() {
  const { startPostgres } = require('./pg');
  const pg = await startPostgres();
  const env = h.makeEnv();
  const masterKey = crypto.randomBytes(32).toString('hex');
  // The harness checks every server log for every secret it knows: the master key is one.
  h.noteSecret(masterKey);
  delete env.vars.TESSERA_MASTER_KEY_FILE;
  env.vars.TESSERA_MASTER_KEY = masterKey;
  env.vars.TESSERA_DB = pg.url;
  env.dbUrl = pg.url;
  env.keyFile = null;
  const m = h.cli(env, 'migrate');
  assert.equal(m.code, 0, `tessera migrate on PostgreSQL exited ${m.code}: ${m.stderr}`);
  return { pg, env, masterKey };
}

// One node: `tessera serve` on a free 127.0.0.1 port with the shared base URL.
function startNode(env, baseUrl, extra = []) {
  return h.startServer(env, ['--base-url', baseUrl, '--workers', '2', ...extra]);
}

// Polls fn (returning {ok, detail}) every intervalMs while less than deadlineMs have passed since
// the call. Resolves {ok, ms (when the first ok reply arrived), detail (of the last reply)}.
async function within(deadlineMs, fn, { intervalMs = 10 } = {}) {
  const t0 = performance.now();
  let last = null;
  for (;;) {
    if (performance.now() - t0 > deadlineMs) return { ok: false, ms: performance.now() - t0, detail: last && last.detail };
    last = await fn();
    if (last && last.ok) return { ok: true, ms: performance.now() - t0, detail: last.detail, value: last.value };
    await h.sleep(intervalMs);
  }
}

// The sum of the samples of a metric whose labels include every label given.
function metric(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = {};
    for (const lm of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[lm[1]] = lm[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

// GET /metrics of a node, directly (loopback, no proxy).
async function scrape(url) {
  const r = await h.httpRequest(`${url}/metrics`);
  assert.equal(r.status, 200, `GET ${url}/metrics: ${r.status} ${r.text}`);
  return r.text;
}

// A session token request without the harness's error decoration (a load generator expects
// connection errors): resolves {status, jti} or {error}.
async function tokenRequest(url, accessToken, body, { timeoutMs = 5000 } = {}) {
  try {
    const r = await fetch(`${url}/api/v1/public/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    const out = { status: r.status, text };
    if (r.status === 200) {
      const token = JSON.parse(text).access_token;
      h.noteSecret(token);
      out.token = token;
      out.jti = h.jwtParts(token).payload.jti;
    }
    return out;
  } catch (e) {
    return { error: (e.cause && (e.cause.code || e.cause.message)) || e.name || e.message };
  }
}

// Runs `concurrency` loops of `request(i)` (i counts requests from 0) until durationMs have passed
// since the start. Each result is recorded with {i, start, end} (ms since the start). Resolves
// {results, t0}. at: [{ms, fn}] run once each when their time comes (e.g. a SIGKILL).
async function load({ concurrency, durationMs, request, at = [] }) {
  const t0 = performance.now();
  const results = [];
  let next = 0;
  const timers = at.map(({ ms, fn }) => new Promise((resolve) => setTimeout(() => resolve(fn(performance.now() - t0)), ms)));
  const loop = async () => {
    while (performance.now() - t0 < durationMs) {
      const i = next++;
      const start = performance.now() - t0;
      const r = await request(i);
      results.push({ ...r, i, start, end: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  await Promise.all(timers);
  return { results, t0 };
}

module.exports = { pgEnv, startNode, within, metric, scrape, tokenRequest, load };
