'use strict';
// Rate limits (docs/API.md#limits): per access token on POST /api/v1/public/token (a token
// bucket set per token with the CLI and the admin API), per client address for failed
// authentications, and per session on the integration proxy. Over a limit: 429 rate_limited
// with Retry-After and the RateLimit-* fields, and nothing written.
//
// All test traffic comes from 127.0.0.1. Other client addresses are presented the way a
// reverse proxy does it: the server trusts 127.0.0.1 as a proxy (--trust-proxy) and the
// requests carry X-Forwarded-For. A server without --trust-proxy ignores the header.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');
const { startIdp, startBackend, TOKEN_TYPE_ACCESS, DEFAULTS } = require('./idp');

const LIMIT_MS = 1500; // "within one second", plus scheduling slack
const from = (addr) => ({ headers: { 'x-forwarded-for': addr } });
const fakeToken = () => `tse_${crypto.randomBytes(32).toString('base64url')}`;
const int = (res, name) => {
  const v = res.headers.get(name);
  assert.match(String(v), /^\d+$/, `${name} is not a whole number: ${v}`);
  return Number(v);
};

// A 429 from the rate limits: the JSON error, Retry-After and the RateLimit-* fields.
function assertLimited(res, { limit, window }) {
  assert.equal(res.status, 429, `expected 429: ${res.status} ${res.text}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'error_description']);
  assert.equal(res.json.error, 'rate_limited');
  const retry = int(res, 'retry-after');
  assert.ok(retry >= 1 && retry <= window, `Retry-After ${retry} is outside 1..${window}`);
  assert.equal(int(res, 'ratelimit-limit'), limit);
  assert.equal(int(res, 'ratelimit-remaining'), 0);
  const reset = int(res, 'ratelimit-reset');
  assert.ok(reset >= 1 && reset <= window, `RateLimit-Reset ${reset} is outside 1..${window}`);
  assert.equal(res.headers.get('ratelimit-policy'), `${limit};w=${window}`);
}

describe('rate limits: per access token on the token endpoint', { timeout: 120000 }, () => {
  let env;
  let server;
  let url;
  let A;
  const body = { email: 'jane.wind@customer.example', name: 'Jane Wind' };
  const admin = (method, p, payload, token = A.adminToken) =>
    h.httpRequest(`${url}/api/v1/organizations/${A.orgId}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: payload !== undefined ? JSON.stringify(payload) : undefined,
    });
  const listed = async (id) => (await admin('GET', '/access-tokens')).json.data.find((t) => t.id === id);
  const T = {}; // tokens made with the CLI before the server starts (so it knows them at once)

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Limits A' });
    T.bursty = h.cliJson(env, 'token', 'create', '--org', A.orgId, '--name', 'bursty', '--rate-limit', '1:10');
    T.unlimited = h.cliJson(env, 'token', 'create', '--org', A.orgId, '--name', 'unlimited', '--rate-limit', 'off');
    T.updated = h.cliJson(env, 'token', 'create', '--org', A.orgId, '--name', 'updated', '--rate-limit', '1:2');
    server = await h.startServer(env, ['--trust-proxy', '127.0.0.1']);
    url = server.url;
  });

  after(async () => {
    try {
      if (server) {
        await server.stop();
        const log = server.logs() + server.stdout();
        for (const t of [A.embedToken, A.adminToken, ...Object.values(T).map((x) => x.token)]) {
          assert.ok(!log.includes(t.slice(4)), 'an access token is in the server log');
        }
      }
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  it('a burst of 30 concurrent requests on a 1/s token with a burst of 10: the burst passes, the rest get 429 with the fields; nothing is written for them', async () => {
    const t = T.bursty;
    const auditBefore = h.auditEvents(env, A.orgId).length;
    const t0 = Date.now();
    const replies = await Promise.all(Array.from({ length: 30 }, () => h.postToken(url, t.token, body, from('198.51.100.20'))));
    const elapsedS = (Date.now() - t0) / 1000;
    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    const other = replies.filter((r) => r.status !== 200 && r.status !== 429);
    assert.deepEqual(other.map((r) => `${r.status} ${r.text}`), [], 'replies other than 200 and 429');
    // Exactly the burst, plus at most what refilled (1 per second) while the burst was sent.
    assert.ok(ok.length >= 10 && ok.length <= 10 + Math.ceil(elapsedS), `${ok.length} of 30 passed in ${elapsedS} s; want 10 (+1 per second)`);
    for (const r of limited) assertLimited(r, { limit: 10, window: 10 });
    for (const r of ok) {
      assert.equal(int(r, 'ratelimit-limit'), 10);
      assert.ok(int(r, 'ratelimit-remaining') <= 9);
      assert.ok(int(r, 'ratelimit-reset') <= 10);
      assert.equal(r.headers.get('ratelimit-policy'), null, 'RateLimit-Policy is sent with refusals only');
    }
    // Only the issued sessions were recorded (and their audit events); the refusals wrote nothing.
    const events = h.auditEvents(env, A.orgId).slice(auditBefore);
    assert.deepEqual(events.map((e) => e.action), ok.map(() => 'session.issued'));
    // Another token of the same org is unaffected, with the default limit.
    const other2 = await h.postToken(url, A.embedToken, body);
    assert.equal(other2.status, 200, other2.text);
    assert.equal(int(other2, 'ratelimit-limit'), 400);
    assert.ok(int(other2, 'ratelimit-remaining') >= 398);
  });

  it('--rate-limit off: no limit, and no RateLimit fields', async () => {
    const t = T.unlimited;
    const replies = await Promise.all(Array.from({ length: 30 }, () => h.postToken(url, t.token, body)));
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [200]);
    for (const r of replies) assert.equal(r.headers.get('ratelimit-limit'), null);
  });

  it('tessera token update changes the limit of a running server within a second; token list shows it', async () => {
    const t = T.updated;
    assert.equal((await h.postToken(url, t.token, body)).status, 200);
    assert.equal((await h.postToken(url, t.token, body)).status, 200);
    assertLimited(await h.postToken(url, t.token, body), { limit: 2, window: 2 });

    const off = h.cliJson(env, 'token', 'update', '--org', A.orgId, t.id, '--rate-limit', 'off');
    assert.deepEqual(off, { id: t.id, rate_limit: 'off' });
    const lifted = await h.poll(async () => (await h.postToken(url, t.token, body)).status === 200, { timeoutMs: LIMIT_MS });
    assert.ok(lifted.ok, `still limited ${lifted.elapsed} ms after token update --rate-limit off`);

    const r = h.cli(env, 'token', 'update', '--org', A.orgId, t.id, '--rate-limit', '1:1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rate limit 1:1/);
    const tightened = await h.poll(async () => {
      const res = await h.postToken(url, t.token, body);
      return res.status === 429 ? res : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(tightened.ok, `not limited ${tightened.elapsed} ms after token update --rate-limit 1:1`);
    assertLimited(tightened.value, { limit: 1, window: 1 });

    let row = h.cliJson(env, 'token', 'list', '--org', A.orgId).data.find((x) => x.id === t.id);
    assert.deepEqual(row.rate_limit, { rps: 1, burst: 1, default: false });
    const text = h.cli(env, 'token', 'list', '--org', A.orgId).stdout;
    assert.match(text.split('\n').find((l) => l.startsWith(t.id)), /rate 1:1 /);
    h.cliJson(env, 'token', 'update', '--org', A.orgId, t.id, '--rate-limit', 'default');
    row = h.cliJson(env, 'token', 'list', '--org', A.orgId).data.find((x) => x.id === t.id);
    assert.deepEqual(row.rate_limit, { rps: 200, burst: 400, default: true });
    // RPS alone: the burst is twice the rate.
    h.cliJson(env, 'token', 'update', '--org', A.orgId, t.id, '--rate-limit', '50');
    row = h.cliJson(env, 'token', 'list', '--org', A.orgId).data.find((x) => x.id === t.id);
    assert.deepEqual(row.rate_limit, { rps: 50, burst: 100, default: false });
    const events = h.auditEvents(env, A.orgId).filter((e) => e.action === 'token.rate_limit_set' && e.target === t.id);
    assert.deepEqual(events.map((e) => e.detail.rate_limit), ['off', { rps: 1, burst: 1 }, 'default', { rps: 50, burst: 100 }]);
  });

  it('the CLI refuses bad limits, and limits on admin tokens', () => {
    for (const bad of ['0', '0:5', '5:0', 'abc', '1.5', '-3', '2000000']) {
      const r = h.cli(env, 'token', 'create', '--org', A.orgId, '--name', 'bad', '--rate-limit', bad);
      assert.equal(r.code, 2, `--rate-limit ${bad}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /^tessera: .*rate/);
    }
    const r = h.cli(env, 'token', 'create', '--org', A.orgId, '--name', 'adm', '--type', 'admin', '--rate-limit', '5:10');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Embed tokens/);
    const upd = h.cli(env, 'token', 'update', '--org', A.orgId, A.admin.id, '--rate-limit', '5:10');
    assert.equal(upd.code, 1, upd.stderr);
    assert.equal(h.cli(env, 'token', 'update', '--org', A.orgId, h.randomUuid(), '--rate-limit', '5').code, 1);
    assert.equal(h.cli(env, 'token', 'update', '--org', A.orgId, A.embedId).code, 2, 'update without --rate-limit');
  });

  it('admin API: rate_limit on POST, PATCH applies before the reply, GET shows the limit in effect', async () => {
    const created = await admin('POST', '/access-tokens', { name: 'api-limited', type: 'embed', rate_limit: { rps: 1, burst: 2 } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.data.id;
    const key = created.json.data.key;
    assert.deepEqual((await listed(id)).rate_limit, { rps: 1, burst: 2, default: false });
    assert.equal((await h.postToken(url, key, body)).status, 200);
    assert.equal((await h.postToken(url, key, body)).status, 200);
    assertLimited(await h.postToken(url, key, body), { limit: 2, window: 2 });

    const off = await admin('PATCH', `/access-tokens/${id}`, { rate_limit: 'off' });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.data.rate_limit, 'off');
    assert.ok(!off.text.includes(key), 'the PATCH reply holds the token value');
    const next = await h.postToken(url, key, body); // read-your-writes: in effect on this node already
    assert.equal(next.status, 200, next.text);
    assert.equal(next.headers.get('ratelimit-limit'), null);

    const tight = await admin('PATCH', `/access-tokens/${id}`, { rate_limit: { rps: 1, burst: 1 } });
    assert.deepEqual(tight.json.data.rate_limit, { rps: 1, burst: 1, default: false });
    const limited = await h.poll(async () => {
      const res = await h.postToken(url, key, body);
      return res.status === 429 ? res : null;
    }, { timeoutMs: 500 });
    assert.ok(limited.ok, 'PATCH {rps:1, burst:1} did not limit the token');
    assertLimited(limited.value, { limit: 1, window: 1 });

    const dflt = await admin('PATCH', `/access-tokens/${id}`, { rate_limit: null });
    assert.deepEqual(dflt.json.data.rate_limit, { rps: 200, burst: 400, default: true });
    assert.deepEqual((await listed(id)).rate_limit, { rps: 200, burst: 400, default: true });
    const rpsOnly = await admin('PATCH', `/access-tokens/${id}`, { rate_limit: { rps: 3 } });
    assert.deepEqual(rpsOnly.json.data.rate_limit, { rps: 3, burst: 6, default: false });

    for (const bad of [{}, { rate_limit: { rps: 0 } }, { rate_limit: { rps: 2, burst: 0 } }, { rate_limit: 'on' }, { rate_limit: 5 }, { rate_limit: { burst: 4 } }]) {
      const r = await admin('PATCH', `/access-tokens/${id}`, bad);
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.status} ${r.text}`);
      assert.equal(r.json.error, 'invalid_request');
    }
    assert.equal((await admin('PATCH', `/access-tokens/${A.admin.id}`, { rate_limit: 'off' })).status, 400, 'an admin token takes no limit');
    assert.equal((await admin('PATCH', `/access-tokens/${h.randomUuid()}`, { rate_limit: 'off' })).status, 404);
    assert.equal((await admin('PATCH', `/access-tokens/${id}`, { rate_limit: 'off' }, A.embedToken)).status, 403, 'an Embed token on the admin API');
    const bad = await admin('POST', '/access-tokens', { name: 'x', type: 'admin', rate_limit: { rps: 5 } });
    assert.equal(bad.status, 400, bad.text);
    // Admin tokens show no limit: it applies on the token endpoint only.
    assert.equal((await listed(A.admin.id)).rate_limit, null);
  });
});

describe('rate limits: failed authentications per client address', { timeout: 120000 }, () => {
  let env;
  let proxied; // trusts 127.0.0.1 as a proxy
  let direct; // does not
  let A;
  let session;

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Limits B' });
    proxied = await h.startServer(env, ['--trust-proxy', '127.0.0.1']);
    direct = await h.startServer(env);
    session = (await h.issue(proxied.url, A.embedToken, { email: 'jane@customer.example' })).accessToken;
  });

  after(async () => {
    try {
      for (const s of [proxied, direct]) if (s) await s.stop();
    } finally {
      for (const s of [proxied, direct]) if (s) await s.kill();
      if (env) env.cleanup();
    }
  });

  const me = (base, token, addr) => h.httpRequest(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}`, ...(addr ? { 'x-forwarded-for': addr } : {}) } });
  const adminGet = (base, token, addr) =>
    h.httpRequest(`${base}/api/v1/organizations/${A.orgId}`, { headers: { authorization: `Bearer ${token}`, ...(addr ? { 'x-forwarded-for': addr } : {}) } });

  it('30 failures from one address (any mix of access, session and admin tokens): then 429 there, even with valid credentials, until the window ends; other addresses are unaffected', async () => {
    const attacker = '203.0.113.66';
    const failures = [];
    for (let i = 0; i < 10; i++) failures.push(h.postToken(proxied.url, fakeToken(), { email: 'x@y.example' }, from(attacker)));
    for (let i = 0; i < 10; i++) failures.push(me(proxied.url, `${session.slice(0, -8)}AAAAAAAA`, attacker));
    for (let i = 0; i < 10; i++) failures.push(adminGet(proxied.url, `tsa_${crypto.randomBytes(32).toString('base64url')}`, attacker));
    const statuses = (await Promise.all(failures)).map((r) => r.status);
    assert.deepEqual([...new Set(statuses)], [401], 'the first 30 failures are plain 401s');

    const blocked = [
      await h.postToken(proxied.url, fakeToken(), { email: 'x@y.example' }, from(attacker)),
      await h.postToken(proxied.url, A.embedToken, { email: 'x@y.example' }, from(attacker)),
      await me(proxied.url, session, attacker),
      await adminGet(proxied.url, A.adminToken, attacker),
    ];
    for (const r of blocked) assertLimited(r, { limit: 30, window: 60 });
    assert.match(blocked[0].json.error_description, /failed authentications/);

    // Another address, with valid credentials, is unaffected; so is a loopback client.
    const other = await h.postToken(proxied.url, A.embedToken, { email: 'x@y.example' }, from('203.0.113.67'));
    assert.equal(other.status, 200, other.text);
    assert.equal((await me(proxied.url, session, '203.0.113.67')).status, 200);
    assert.equal((await h.postToken(proxied.url, A.embedToken, { email: 'x@y.example' })).status, 200, 'loopback');
    // Endpoints without credentials stay open to the blocked address.
    assert.equal((await h.httpRequest(`${proxied.url}/.well-known/jwks.json`, from(attacker))).status, 200);
    // The address is logged once when it goes over; no token is.
    assert.match(proxied.logs(), /client address over the failed-authentication limit.*203\.0\.113\.66/);
  });

  it('a missing Authorization header is not a failed authentication', async () => {
    const addr = '203.0.113.80';
    for (let i = 0; i < 40; i++) assert.equal((await h.postToken(proxied.url, null, { email: 'x@y.example' }, from(addr))).status, 401);
    assert.equal((await h.postToken(proxied.url, A.embedToken, { email: 'x@y.example' }, from(addr))).status, 200);
  });

  it('the audit log records the forwarded client address; without --trust-proxy X-Forwarded-For is ignored', async () => {
    const viaProxy = await h.postToken(proxied.url, A.embedToken, { email: 'proxied@customer.example' }, from('198.51.100.31'));
    assert.equal(viaProxy.status, 200, viaProxy.text);
    const spoofed = await h.postToken(direct.url, A.embedToken, { email: 'spoofed@customer.example' }, from('198.51.100.32'));
    assert.equal(spoofed.status, 200, spoofed.text);
    const events = h.auditEvents(env, A.orgId).filter((e) => e.action === 'session.issued');
    const clientOf = (email) => events.find((e) => e.detail.email === email).client;
    assert.equal(clientOf('proxied@customer.example'), '198.51.100.31');
    assert.equal(clientOf('spoofed@customer.example'), '127.0.0.1');
    // A client cannot dodge the proxy's own entry by sending the header itself.
    const chain = await h.postToken(proxied.url, A.embedToken, { email: 'chain@customer.example' }, from('10.9.9.9, 198.51.100.33'));
    assert.equal(chain.status, 200);
    assert.equal(h.auditEvents(env, A.orgId).find((e) => e.detail.email === 'chain@customer.example').client, '198.51.100.33');
    // Without --trust-proxy every request is the loopback peer, whatever the header says:
    // loopback is exempt from the address limit, and a made-up address gains nothing.
    for (let i = 0; i < 35; i++) {
      const r = await h.postToken(direct.url, fakeToken(), { email: 'x@y.example' }, from('203.0.113.99'));
      assert.equal(r.status, 401, `attempt ${i + 1}: ${r.status}`);
    }
  });
});

describe('rate limits: per session on the integration proxy', { timeout: 120000 }, () => {
  let env;
  let server;
  let url;
  let A;
  let idp;
  let api;
  let integration;

  const sessionFor = async (email) => {
    const r = await h.postToken(url, A.embedToken, { email, subject_token: idp.mint({ email }), subject_token_type: TOKEN_TYPE_ACCESS });
    assert.equal(r.status, 200, `session for ${email}: ${r.status} ${r.text}`);
    return r.json.access_token;
  };
  const call = (session) => h.httpRequest(`${url}/api/v1/integrations/${integration.id}/proxy/orders`, { headers: { authorization: `Bearer ${session}` } });

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Limits C' });
    idp = await startIdp();
    api = await startBackend(idp);
    h.cliJson(env, 'idp', 'add', '--org', A.orgId, '--issuer', idp.issuer, '--jwks-uri', idp.jwksUri, '--audience', DEFAULTS.audience);
    server = await h.startServer(env);
    url = server.url;
    const r = await h.httpRequest(`${url}/api/v1/organizations/${A.orgId}/integrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${A.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Orders', base_url: `${api.url}/v1`, token_url: idp.tokenUrl, client_id: 'tessera-client', client_secret: 'tessera-secret', audience: api.audience }),
    });
    assert.equal(r.status, 201, r.text);
    integration = r.json.data;
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      if (api) await api.close();
      if (idp) await idp.close();
      if (env) env.cleanup();
    }
  });

  it('a session gets its burst (40) and then 429 with the fields; another session is unaffected', async () => {
    const s1 = await sessionFor('one@customer.example');
    const s2 = await sessionFor('two@customer.example');
    const t0 = Date.now();
    assert.equal((await call(s1)).status, 200, 'a first call');
    const replies = await Promise.all(Array.from({ length: 70 }, () => call(s1)));
    const elapsedS = (Date.now() - t0) / 1000;
    const ok = replies.filter((r) => r.status === 200).length;
    const limited = replies.filter((r) => r.status === 429);
    assert.equal(ok + limited.length, 70, `other statuses: ${replies.filter((r) => r.status !== 200 && r.status !== 429).map((r) => r.status)}`);
    // 39 left of the burst of 40, plus at most 20 per second of the burst's duration.
    assert.ok(ok >= 39 && ok <= 39 + Math.ceil(elapsedS * 20), `${ok} of 70 passed in ${elapsedS} s`);
    for (const r of limited) assertLimited(r, { limit: 40, window: 2 });
    assert.equal(replies.find((r) => r.status === 200).headers.get('ratelimit-limit'), null, 'the API answer passes unchanged');
    const other = await call(s2);
    assert.equal(other.status, 200, other.text);
  });
});
