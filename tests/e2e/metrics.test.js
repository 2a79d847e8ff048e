'use strict';
// Observability: GET /metrics (Prometheus text format 0.0.4; loopback only, or a bearer
// token from --metrics-token-file / TESSERA_METRICS_TOKEN), GET /readyz and /healthz.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./harness');

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// Parses the exposition strictly: HELP then TYPE once per family, before its samples;
// every other line is `name{label="value",...} number`. Returns {samples, types}.
function parseExposition(text) {
  assert.ok(text.endsWith('\n'), 'the exposition does not end with a newline');
  const types = {};
  const helps = {};
  const samples = [];
  const family = (name) => {
    if (types[name]) return name;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return types[base] === 'histogram' ? base : null;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      assert.ok(!(m[1] in helps), `two HELP lines for ${m[1]}`);
      helps[m[1]] = m[2];
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (m) {
      assert.ok(!(m[1] in types), `two TYPE lines for ${m[1]}`);
      assert.ok(m[1] in helps, `TYPE before HELP for ${m[1]}`);
      types[m[1]] = m[2];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const name = m[1];
    assert.ok(family(name), `sample of ${name} before (or without) its TYPE line`);
    const labels = {};
    if (m[2] !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let lm;
      let consumed = 0;
      while ((lm = re.exec(m[2])) !== null) {
        labels[lm[1]] = lm[2];
        consumed = re.lastIndex;
      }
      assert.equal(consumed, m[2].length, `bad labels: ${m[2]}`);
    }
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), `not a number: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

const same = (a, b) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
const value = (m, name, labels = {}) => {
  const s = m.samples.find((x) => x.name === name && same(x.labels, labels));
  return s ? s.value : undefined;
};

// Every series of a histogram: buckets ascending and cumulative, +Inf = _count.
function checkHistogram(m, name) {
  const series = new Map();
  for (const s of m.samples.filter((x) => x.name === `${name}_bucket`)) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    if (!series.has(key)) series.set(key, { labels: rest, buckets: [] });
    series.get(key).buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
  }
  assert.ok(series.size > 0, `${name} has no series`);
  for (const { labels, buckets } of series.values()) {
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i][0] > buckets[i - 1][0], `${name} ${JSON.stringify(labels)}: le not ascending`);
      assert.ok(buckets[i][1] >= buckets[i - 1][1], `${name} ${JSON.stringify(labels)}: buckets not cumulative`);
    }
    const inf = buckets[buckets.length - 1];
    assert.equal(inf[0], Infinity, `${name} ${JSON.stringify(labels)}: no +Inf bucket`);
    assert.equal(value(m, `${name}_count`, labels), inf[1], `${name} ${JSON.stringify(labels)}: +Inf != _count`);
    const sum = value(m, `${name}_sum`, labels);
    assert.ok(sum >= 0, `${name} ${JSON.stringify(labels)}: _sum missing`);
  }
  return series;
}

async function scrape(base, headers = {}) {
  const r = await h.httpRequest(`${base}/metrics`, { headers });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), CONTENT_TYPE);
  return parseExposition(r.text);
}

describe('GET /metrics', { timeout: 60000 }, () => {
  let env;
  let server;
  let url;
  let A;
  let slow;

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Metrics A' });
    slow = h.cliJson(env, 'token', 'create', '--org', A.orgId, '--name', 'slow', '--rate-limit', '1:1');
    server = await h.startServer(env, ['--trust-proxy', '127.0.0.1']);
    url = server.url;
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  it('counters move with the right labels; route labels are patterns, never raw paths', async () => {
    for (let i = 0; i < 3; i++) await h.issue(url, A.embedToken, { email: `user${i}@customer.example` });
    for (let i = 0; i < 2; i++) assert.equal((await h.postToken(url, 'tse_nope', { email: 'x@y.example' })).status, 401);
    assert.equal((await h.postToken(url, A.embedToken, '{bad json')).status, 400);
    assert.equal((await h.postToken(url, slow.token, { email: 'x@y.example' })).status, 200);
    assert.equal((await h.postToken(url, slow.token, { email: 'x@y.example' })).status, 429);
    assert.equal((await h.httpRequest(`${url}/no/such/path-${crypto.randomUUID()}`)).status, 404);
    assert.equal((await h.httpRequest(`${url}/embed/applications/${A.app.id}`)).status, 200);
    assert.equal((await h.httpRequest(`${url}/healthz`)).status, 200);

    const m = await scrape(url);
    const req = (route, method, status) => value(m, 'tessera_http_requests_total', { route, method, status: String(status) });
    assert.equal(req('/api/v1/public/token', 'POST', 200), 4);
    assert.equal(req('/api/v1/public/token', 'POST', 401), 2);
    assert.equal(req('/api/v1/public/token', 'POST', 400), 1);
    assert.equal(req('/api/v1/public/token', 'POST', 429), 1);
    assert.equal(req('unmatched', 'GET', 404), 1);
    assert.equal(req('/embed/applications/{app}/{path*}', 'GET', 200), 1);
    assert.equal(req('/healthz', 'GET', 200), 1);
    for (const s of m.samples.filter((x) => x.labels.route !== undefined)) {
      assert.ok(!/no\/such|[0-9a-f]{8}-[0-9a-f]{4}-/.test(s.labels.route), `a raw path as a label: ${s.labels.route}`);
    }
    assert.equal(value(m, 'tessera_sessions_issued_total'), 4);
    assert.equal(value(m, 'tessera_sessions_refused_total', { reason: 'unauthorized' }), 2);
    assert.equal(value(m, 'tessera_sessions_refused_total', { reason: 'invalid_request' }), 1);
    assert.equal(value(m, 'tessera_sessions_refused_total', { reason: 'rate_limited' }), 1);
    assert.equal(value(m, 'tessera_rate_limited_total', { limit: 'token' }), 1);
    for (const [name, type] of Object.entries({
      tessera_http_requests_total: 'counter',
      tessera_http_request_duration_seconds: 'histogram',
      tessera_sessions_issued_total: 'counter',
      tessera_sessions_refused_total: 'counter',
      tessera_rate_limited_total: 'counter',
      tessera_integration_calls_total: 'counter',
      tessera_revocations_total: 'counter',
      tessera_webhook_deliveries_total: 'counter',
      tessera_store_commit_duration_seconds: 'histogram',
      process_resident_memory_bytes: 'gauge',
      process_open_fds: 'gauge',
      process_start_time_seconds: 'gauge',
    })) assert.equal(m.types[name], type, `${name} is not a ${type}`);

    // The scrape itself is counted once it has been answered.
    const m2 = await scrape(url);
    assert.equal(value(m2, 'tessera_http_requests_total', { route: '/metrics', method: 'GET', status: '200' }), 1);
  });

  it('histograms are well-formed: cumulative buckets, +Inf = _count = the requests of the route', async () => {
    const m = await scrape(url);
    const http = checkHistogram(m, 'tessera_http_request_duration_seconds');
    for (const { labels } of http.values()) {
      const total = m.samples
        .filter((s) => s.name === 'tessera_http_requests_total' && s.labels.route === labels.route)
        .reduce((n, s) => n + s.value, 0);
      assert.equal(value(m, 'tessera_http_request_duration_seconds_count', labels), total, `route ${labels.route}`);
    }
    const commits = checkHistogram(m, 'tessera_store_commit_duration_seconds');
    assert.ok(value(m, 'tessera_store_commit_duration_seconds_count') >= 1, 'no group commit observed');
    assert.equal(commits.size, 1);
  });

  it('process metrics are plausible', async () => {
    const m = await scrape(url);
    const rss = value(m, 'process_resident_memory_bytes');
    assert.ok(rss > 1e6 && rss < 8e9, `rss ${rss}`);
    const fds = value(m, 'process_open_fds');
    assert.ok(fds >= 3 && fds < 10000, `fds ${fds}`);
    const start = value(m, 'process_start_time_seconds');
    assert.ok(Math.abs(start - Date.now() / 1000) < 600, `start time ${start}`);
  });

  it('only loopback clients may read it: a forwarded (non-loopback) client gets 403, so does a proxied loopback request', async () => {
    const remote = await h.httpRequest(`${url}/metrics`, { headers: { 'x-forwarded-for': '198.51.100.9' } });
    assert.equal(remote.status, 403, remote.text);
    assert.equal(remote.json.error, 'forbidden');
    const viaProxy = await h.httpRequest(`${url}/metrics`, { headers: { forwarded: 'for=127.0.0.1' } });
    assert.equal(viaProxy.status, 403, viaProxy.text);
  });
});

describe('GET /metrics with a metrics token', { timeout: 60000 }, () => {
  let env;
  const token = crypto.randomBytes(24).toString('base64url');
  const servers = [];

  before(() => {
    env = h.makeEnv();
    h.seed(env, { orgName: 'Metrics B' });
  });

  after(async () => {
    try {
      for (const s of servers) await s.stop();
      for (const s of servers) assert.ok(!(s.logs() + s.stdout()).includes(token), 'the metrics token is in the server log');
    } finally {
      for (const s of servers) await s.kill();
      if (env) env.cleanup();
    }
  });

  it('--metrics-token-file: missing or wrong bearer -> 401, the right one -> 200 (also from a non-loopback client)', async () => {
    const file = path.join(env.dir, 'metrics.token');
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const server = await h.startServer(env, ['--metrics-token-file', file, '--trust-proxy', '127.0.0.1']);
    servers.push(server);
    const missing = await h.httpRequest(`${server.url}/metrics`);
    assert.equal(missing.status, 401, missing.text);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    const wrong = await h.httpRequest(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } });
    assert.equal(wrong.status, 401, wrong.text);
    assert.ok(!wrong.text.includes(token), 'the error echoes the token');
    await scrape(server.url, { authorization: `Bearer ${token}` });
    await scrape(server.url, { authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.9' });
  });

  it('TESSERA_METRICS_TOKEN does the same', async () => {
    const server = await h.startServer({ ...env, vars: { ...env.vars, TESSERA_METRICS_TOKEN: token } });
    servers.push(server);
    assert.equal((await h.httpRequest(`${server.url}/metrics`)).status, 401);
    await scrape(server.url, { authorization: `Bearer ${token}` });
  });

  it('a short or unreadable token file stops tessera serve with a usage error', () => {
    const short = path.join(env.dir, 'short.token');
    fs.writeFileSync(short, 'abc\n');
    const r1 = h.cli(env, 'serve', '--listen', '127.0.0.1:0', '--metrics-token-file', short);
    assert.equal(r1.code, 2, r1.stderr);
    assert.match(r1.stderr, /metrics token must be/);
    const r2 = h.cli(env, 'serve', '--listen', '127.0.0.1:0', '--metrics-token-file', path.join(env.dir, 'absent'));
    assert.equal(r2.code, 2, r2.stderr);
  });
});

describe('GET /readyz and /healthz', { timeout: 60000 }, () => {
  let env;
  let server;

  before(async () => {
    env = h.makeEnv();
    h.seed(env, { orgName: 'Ready' });
    server = await h.startServer(env);
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  it('200 {"status":"ready"} when the database answers and a signing key is loaded; /healthz stays 200', async () => {
    const r = await h.httpRequest(`${server.url}/readyz`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'ready' });
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual((await h.httpRequest(`${server.url}/healthz`)).json, { status: 'ok' });
  });

  // Every signing key retired behind the server's back (as a broken rotation could leave
  // it): the server cannot issue, so it is not ready; it is still alive.
  const sqlite = spawnSync('sqlite3', ['-version']).status === 0;
  it('503 with the reason when no signing key is loaded', { skip: !sqlite && 'the sqlite3 command is not installed' }, async () => {
    const sql = ".timeout 5000\nUPDATE signing_keys SET state = 'retired';\n" +
      "INSERT INTO change_log (kind, org_id, id, at) SELECT 'key', '', kid, strftime('%s','now') FROM signing_keys LIMIT 1;\n";
    const done = spawnSync('sqlite3', [env.dbPath], { input: sql, encoding: 'utf8' });
    assert.equal(done.status, 0, done.stderr);
    const r = await h.poll(async () => {
      const res = await h.httpRequest(`${server.url}/readyz`);
      return res.status === 503 ? res : null;
    }, { timeoutMs: 1500 });
    assert.ok(r.ok, '/readyz stayed 200 without a signing key');
    assert.equal(r.value.json.status, 'not_ready');
    assert.equal(r.value.json.error, 'temporarily_unavailable');
    assert.match(r.value.json.error_description, /no signing key/);
    assert.equal((await h.httpRequest(`${server.url}/healthz`)).status, 200, 'liveness does not depend on readiness');
  });
});
