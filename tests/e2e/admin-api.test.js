'use strict';
// Black-box tests of the admin API and the console sign-in (docs/API.md, "Admin API and console
// sign-in"), against the real binary: the data is seeded with the CLI (two organizations, owners
// with --password-stdin, a developer, an end user, an admin-type token per org) and every call
// goes over HTTP.
//
//   - every endpoint of the contract, once with an admin access token and once with a console
//     session (cookie + X-CSRF-Token): shapes, statuses and their effect on the token, embed and
//     JWKS endpoints;
//   - security: authentication, roles, CSRF, organization isolation (a table of every route,
//     checked against the contract's own table), sign-in throttling, cookie attributes, logout,
//     body limits.
//
// Each describe block has its own database and server; each test creates the records it changes.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const REPO = path.join(__dirname, '..', '..');
const DEMO_APP = path.join(REPO, 'web', 'demo-app');
const PASSWORD = 'correct horse battery staple';
const LIMIT_MS = 1500; // "within a second" plus scheduling slack
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const COOKIE = 'tessera_console';

// ---- seeding -----------------------------------------------------------------------------------

function addUser(env, orgId, email, role, name, password) {
  const args = ['user', 'add', '--org', orgId, email, '--role', role, '--name', name];
  if (password) args.push('--password-stdin', { input: `${password}\n` });
  const u = h.cliJson(env, ...args);
  assert.match(u.id, h.UUID_RE, `user add ${email}`);
  return { id: u.id, email, name, role };
}

// One organization with every kind of record. key: 'a' or 'b'.
function seedOrg(env, key) {
  const K = key.toUpperCase();
  const org = h.cliJson(env, 'org', 'create', `Org ${K}`);
  const dom = `${key}-corp.example`;
  const users = {
    owner: addUser(env, org.id, `owner@${dom}`, 'owner', `Owner ${K}`, PASSWORD),
    developer: addUser(env, org.id, `dev@${dom}`, 'developer', `Dev ${K}`, PASSWORD),
    enduser: addUser(env, org.id, `end.user@${dom}`, 'end-user', `End ${K}`, PASSWORD),
    member: addUser(env, org.id, `member@${dom}`, 'end-user', `Member ${K}`, null),
  };
  const admin = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', `admin-${key}`, '--type', 'admin');
  const embed = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', `embed-${key}`);
  const group = h.cliJson(env, 'group', 'create', '--org', org.id, `Viewers ${K}`);
  const app = h.cliJson(env, 'app', 'create', '--org', org.id, `Dashboard ${K}`, '--mode', 'sso', '--allow-origin', `https://host-${key}.example`);
  const dep = h.cli(env, 'app', 'deploy', '--org', org.id, app.id, DEMO_APP);
  assert.equal(dep.code, 0, `app deploy: ${dep.stderr}`);
  const grant = h.cli(env, 'group', 'grant', '--org', org.id, group.id, app.id, '--permission', 'apps:view');
  assert.equal(grant.code, 0, `group grant: ${grant.stderr}`);
  const add = h.cli(env, 'group', 'add-member', '--org', org.id, group.id, users.member.email);
  assert.equal(add.code, 0, `group add-member: ${add.stderr}`);
  const idp = h.cliJson(env, 'idp', 'add', '--org', org.id, '--issuer', `https://idp.${dom}/oauth2/default`, '--jwks-uri', `https://idp.${dom}/oauth2/default/v1/keys`, '--audience', 'api://default');
  return {
    key,
    orgId: org.id,
    orgName: `Org ${K}`,
    users,
    adminToken: admin.token,
    adminTokenId: admin.id,
    embedToken: embed.token,
    embedTokenId: embed.id,
    groupId: group.id,
    appId: app.id,
    appName: `Dashboard ${K}`,
    idpId: idp.id,
    integrationId: null, // made through the API once the server runs (startWorld)
    webhookId: null, // likewise
  };
}

// An integration of org o, made with its admin token (integrations have no CLI).
async function addIntegration(base, o) {
  const r = await h.httpRequest(`${base}/api/v1/organizations/${o.orgId}/integrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Orders API ${o.key}`, base_url: `https://api.${o.key}-corp.example/v1`, token_url: `https://idp.${o.key}-corp.example/oauth2/default/v1/token`, client_id: `client-${o.key}`, client_secret: `secret-${o.key}-value`, audience: 'https://api.example', scope: 'orders:read' }),
  });
  assert.equal(r.status, 201, `POST /integrations: ${r.status} ${r.text}`);
  o.integrationId = r.json.data.id;
}

// A webhook of org o, made with its admin token (webhooks have no CLI). Disabled, so nothing is
// ever sent and its state (failures, last error) stays still for the snapshots.
async function addWebhook(base, o) {
  const r = await h.httpRequest(`${base}/api/v1/organizations/${o.orgId}/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `https://hooks.${o.key}-corp.example/tessera`, enabled: false }),
  });
  assert.equal(r.status, 201, `POST /webhooks: ${r.status} ${r.text}`);
  o.webhookId = r.json.data.id;
}

// A fresh environment + server with orgs A and B. Returns {env, server, base, A, B, close()}.
async function startWorld() {
  const env = h.makeEnv();
  let server;
  try {
    const A = seedOrg(env, 'a');
    const B = seedOrg(env, 'b');
    server = await h.startServer(env);
    await addIntegration(server.url, A);
    await addIntegration(server.url, B);
    await addWebhook(server.url, A);
    await addWebhook(server.url, B);
    const w = {
      env,
      server,
      base: server.url,
      A,
      B,
      async close() {
        try {
          await server.stop();
        } finally {
          await server.kill();
          env.cleanup();
        }
      },
    };
    return w;
  } catch (e) {
    if (server) await server.kill();
    env.cleanup();
    throw e;
  }
}

// ---- HTTP helpers --------------------------------------------------------------------------------

const orgPath = (orgId) => `/api/v1/organizations/${orgId}`;

// A caller of the admin API. auth: {token} (admin access token), {cookie, csrf} (console session)
// or null (no credentials).
class Admin {
  constructor(base, orgId, auth, label) {
    this.base = base;
    this.orgId = orgId;
    this.auth = auth;
    this.label = label || (auth && auth.token ? 'admin token' : auth ? 'console session' : 'anonymous');
  }

  // opts: {orgId (path org), abs (p is a full path), csrf (override: null = none), headers, raw body}
  call(method, p, body, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    const a = this.auth;
    if (a && a.token) headers.authorization = `Bearer ${a.token}`;
    if (a && a.cookie) {
      headers.cookie = `${COOKIE}=${a.cookie}`;
      const csrf = 'csrf' in opts ? opts.csrf : a.csrf;
      if (method !== 'GET' && csrf !== null && csrf !== undefined) headers['x-csrf-token'] = csrf;
    }
    let payload;
    if (body !== undefined) {
      if (!headers['content-type']) headers['content-type'] = 'application/json';
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    }
    const url = opts.abs ? `${this.base}${p}` : `${this.base}${orgPath(opts.orgId || this.orgId)}${p}`;
    return h.httpRequest(url, { method, headers, body: payload });
  }

  // Asserts the status and the {"data": ...} envelope; returns data.
  async ok(method, p, body, status = 200, opts = {}) {
    const r = await this.call(method, p, body, opts);
    assert.equal(r.status, status, `${this.label}: ${method} ${p} answered ${r.status} (want ${status}): ${r.text.slice(0, 500)}`);
    assert.ok(r.json && typeof r.json === 'object' && 'data' in r.json, `${method} ${p}: reply is not {"data": ...}: ${r.text.slice(0, 300)}`);
    return r.json.data;
  }

  // Asserts an error status with the JSON error shape; returns the response.
  async fails(method, p, body, status, opts = {}) {
    const r = await this.call(method, p, body, opts);
    assert.equal(r.status, status, `${this.label}: ${method} ${p} answered ${r.status} (want ${status}): ${r.text.slice(0, 500)}`);
    assertErrorShape(r, `${method} ${p}`);
    return r;
  }
}

function assertErrorShape(r, what) {
  assert.ok(r.json && typeof r.json.error === 'string' && typeof r.json.error_description === 'string',
    `${what}: error reply is not {"error","error_description"}: ${r.text.slice(0, 300)}`);
  if (r.status === 401) {
    assert.match(r.headers.get('www-authenticate') || '', /Bearer/, `${what}: a 401 without WWW-Authenticate: Bearer`);
  }
}

function login(base, email, password) {
  return h.httpRequest(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
}

function setCookies(res) {
  if (typeof res.headers.getSetCookie === 'function') return res.headers.getSetCookie();
  const v = res.headers.get('set-cookie');
  return v ? [v] : [];
}

function consoleCookie(res) {
  for (const c of setCookies(res)) {
    const m = new RegExp(`^${COOKIE}=([^;]*)`).exec(c);
    if (m) return { value: m[1], header: c };
  }
  return null;
}

// Signs in (asserts 200) and returns {cookie, csrf, data, setCookie}.
async function signIn(base, email, password = PASSWORD) {
  const res = await login(base, email, password);
  assert.equal(res.status, 200, `sign-in of ${email}: ${res.status} ${res.text}`);
  const c = consoleCookie(res);
  assert.ok(c && c.value, `sign-in of ${email} set no ${COOKIE} cookie: ${JSON.stringify(setCookies(res))}`);
  const data = res.json && res.json.data;
  assert.ok(data && typeof data.csrf_token === 'string' && data.csrf_token.length >= 16, `sign-in reply has no csrf_token: ${res.text}`);
  return { cookie: c.value, csrf: data.csrf_token, data, setCookie: c.header };
}

function authSession(base, cookie) {
  const headers = {};
  if (cookie) headers.cookie = `${COOKIE}=${cookie}`;
  return h.httpRequest(`${base}/api/v1/auth/session`, { headers });
}

// A session token for an embed user (asserts 200).
async function sessionToken(base, embedToken, body) {
  const r = await h.postToken(base, embedToken, body);
  assert.equal(r.status, 200, `POST /api/v1/public/token ${JSON.stringify(body)}: ${r.status} ${r.text}`);
  return r.json.access_token;
}

function embedSession(base, appId, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return h.httpRequest(`${base}/api/v1/embed/session`, { method: 'POST', headers, body: JSON.stringify({ app_id: appId }) });
}

// Sends the request head, and the body only if no reply came within waitMs (a server may refuse a
// body by its Content-Length and close). Resolves with the parsed response.
function headFirst(base, head, body, { waitMs = 2000, timeoutMs = 30000 } = {}) {
  const net = require('node:net');
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err, res) => {
      if (done) return;
      done = true;
      clearTimeout(bodyTimer);
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else {
        res.text = res.body.toString('utf8');
        try {
          res.json = JSON.parse(res.text);
        } catch {
          res.json = undefined;
        }
        resolve(res);
      }
    };
    const check = (closed) => {
      try {
        const r = h.parseResponse(buf, { closed });
        if (r) finish(null, r);
        else if (closed) finish(new Error(`connection closed without a complete response: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`));
      } catch (e) {
        finish(e);
      }
    };
    const timer = setTimeout(() => finish(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    let bodyTimer = null;
    sock.on('connect', () => {
      sock.write(head);
      bodyTimer = setTimeout(() => sock.write(body, () => {}), waitMs);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      check(false);
    });
    sock.on('error', () => check(true));
    sock.on('close', () => check(true));
  });
}

// Polls until fn() is truthy; asserts with `what` otherwise. Returns the value.
async function eventually(fn, what, timeoutMs = LIMIT_MS) {
  let last;
  const r = await h.poll(async () => {
    last = await fn();
    return last && last.ok ? last : null;
  }, { timeoutMs, intervalMs: 50 });
  assert.ok(r.ok, `${what} (not within ${timeoutMs} ms; last: ${last && last.detail})`);
  return r.value;
}

// Read-your-writes: a change made through the admin API is in effect on the node that
// replied before the reply leaves (api/routes.c), so its effect is checked once, at once.
async function immediately(fn, what) {
  const r = await fn();
  assert.ok(r && r.ok, `${what} (right after the change was acknowledged; got: ${r && r.detail})`);
  return r;
}

// The files of a directory as the upload body's files[] (standard base64).
function bundleFiles(dir) {
  return fs.readdirSync(dir).sort().map((name) => ({ path: name, content_base64: fs.readFileSync(path.join(dir, name)).toString('base64') }));
}

function dirBytes(dir) {
  return fs.readdirSync(dir).reduce((n, name) => n + fs.statSync(path.join(dir, name)).size, 0);
}

function assertIsoOrNull(v, what) {
  if (v !== null) assert.match(String(v), ISO_RE, `${what} is not an ISO 8601 UTC time or null: ${JSON.stringify(v)}`);
}

// Everything an admin can read about an organization, for before/after comparisons. The
// last_used_at of tokens is left out (reading with a token updates it).
async function snapshot(reader) {
  const strip = (tokens) => tokens.map(({ last_used_at, ...rest }) => rest);
  const org = await reader.ok('GET', '');
  const tokens = strip(await reader.ok('GET', '/access-tokens'));
  const groups = await reader.ok('GET', '/groups');
  const groupDetails = [];
  for (const g of groups) groupDetails.push(await reader.ok('GET', `/groups/${g.id}`));
  const apps = await reader.ok('GET', '/applications');
  const appDetails = [];
  for (const a of apps) appDetails.push(await reader.ok('GET', `/applications/${a.id}`));
  const members = await reader.ok('GET', '/members');
  const keys = await reader.ok('GET', '/signing-keys');
  const idps = await reader.ok('GET', '/idps');
  const integrations = await reader.ok('GET', '/integrations');
  const webhooks = await reader.ok('GET', '/webhooks');
  const audit = await reader.ok('GET', '/audit?limit=1000');
  return { org, tokens, groups, groupDetails, apps, appDetails, members, keys, idps, integrations, webhooks, audit };
}

// Every route of the contract, with real ids of `o` (an org of seedOrg) in its path and a valid
// body. The table is checked against docs/API.md by a test below.
function routeTable(o) {
  const g = o.groupId;
  const a = o.appId;
  const index = Buffer.from('<!doctype html><p>changed</p>').toString('base64');
  return [
    ['GET', ''],
    ['GET', '/access-tokens'],
    ['POST', '/access-tokens', { name: 'intruder', type: 'embed' }],
    ['PATCH', `/access-tokens/${o.embedTokenId}`, { rate_limit: 'off' }],
    ['DELETE', `/access-tokens/${o.embedTokenId}`],
    ['GET', '/groups'],
    ['POST', '/groups', { name: 'Intruders' }],
    ['GET', `/groups/${g}`],
    ['PATCH', `/groups/${g}`, { name: 'Renamed by intruder' }],
    ['DELETE', `/groups/${g}`],
    ['POST', `/groups/${g}/members`, { email: o.users.developer.email }],
    ['DELETE', `/groups/${g}/members/${o.users.member.id}`],
    ['PUT', `/groups/${g}/permissions`, { app_id: a, permission: 'apps:view', granted: false }],
    ['GET', '/applications'],
    ['POST', '/applications', { name: 'Intruder app', mode: 'public' }],
    ['GET', `/applications/${a}`],
    ['PATCH', `/applications/${a}`, { mode: 'public', allowed_origins: ['https://evil.example'] }],
    ['POST', `/applications/${a}/versions`, { files: [{ path: 'index.html', content_base64: index }] }],
    ['GET', `/applications/${a}/versions`],
    ['GET', `/applications/${a}/embed-snippet`],
    ['GET', '/members'],
    ['POST', '/members', { email: 'intruder@evil.example', role: 'owner', password: 'intruder password 1' }],
    ['PATCH', `/members/${o.users.developer.id}`, { role: 'owner' }],
    ['DELETE', `/members/${o.users.developer.id}`],
    ['GET', '/idps'],
    ['POST', '/idps', { issuer: 'https://evil.example/', jwks_uri: 'https://evil.example/keys' }],
    ['GET', `/idps/${o.idpId}`],
    ['PATCH', `/idps/${o.idpId}`, { audience: 'evil' }],
    ['DELETE', `/idps/${o.idpId}`],
    ['GET', '/integrations'],
    ['POST', '/integrations', { name: 'Intruder', base_url: 'https://evil.example', token_url: 'https://evil.example/token', client_id: 'x', client_secret: 'y' }],
    ['GET', `/integrations/${o.integrationId}`],
    ['PATCH', `/integrations/${o.integrationId}`, { base_url: 'https://evil.example' }],
    ['DELETE', `/integrations/${o.integrationId}`],
    ['GET', '/webhooks'],
    ['POST', '/webhooks', { url: 'https://evil.example/hook' }],
    ['GET', `/webhooks/${o.webhookId}`],
    ['PATCH', `/webhooks/${o.webhookId}`, { url: 'https://evil.example/hook', enabled: true }],
    ['DELETE', `/webhooks/${o.webhookId}`],
    ['POST', `/webhooks/${o.webhookId}/rotate-secret`],
    ['GET', `/webhooks/${o.webhookId}/deliveries`],
    ['POST', `/webhooks/${o.webhookId}/test`],
    ['GET', `/sessions?email=${encodeURIComponent(o.users.member.email)}`],
    ['POST', '/sessions/revoke', { email: o.users.member.email }],
    ['GET', '/signing-keys'],
    ['POST', '/signing-keys/rotate'],
    ['GET', '/audit'],
    ['GET', '/audit/export'],
  ];
}

const isChange = (method) => method !== 'GET';

// The contract's routes: "| `METHOD /path` |" rows of the Resources table of docs/API.md, with
// {placeholders} normalised to {}.
function contractRoutes() {
  const text = fs.readFileSync(path.join(REPO, 'docs', 'API.md'), 'utf8');
  const start = text.indexOf('## Resources (prefix');
  assert.ok(start >= 0, 'docs/API.md has no "## Resources (prefix" section');
  const out = new Set();
  for (const m of text.slice(start).matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) ?([^`]*)`/gm)) {
    out.add(`${m[1]} ${m[2].trim().replace(/\?.*$/, '').replace(/\{[^}]+\}/g, '{}')}`);
  }
  return out;
}

function tableRouteKeys(o) {
  const ids = [o.groupId, o.appId, o.embedTokenId, o.users.developer.id, o.users.member.id, o.idpId, o.integrationId, o.webhookId];
  return new Set(routeTable(o).map(([m, p]) => {
    let q = p.replace(/\?.*$/, '');
    for (const id of ids) q = q.split(id).join('{}');
    return `${m} ${q}`;
  }));
}

// ---- the endpoints, once per kind of caller -------------------------------------------------------

for (const mode of ['admin token', 'console session']) {
  describe(`admin API endpoints (${mode})`, { timeout: 90000 }, () => {
    let w;
    let base;
    let A;
    let api; // the caller under test (org A)
    let actorHint; // what the audit actor of this caller should mention

    before(async () => {
      w = await startWorld();
      base = w.base;
      A = w.A;
      if (mode === 'admin token') {
        api = new Admin(base, A.orgId, { token: A.adminToken }, mode);
        actorHint = [A.adminTokenId, `admin-${A.key}`];
      } else {
        const s = await signIn(base, A.users.owner.email);
        api = new Admin(base, A.orgId, { cookie: s.cookie, csrf: s.csrf }, mode);
        actorHint = [A.users.owner.email, A.users.owner.id];
      }
    });

    after(async () => {
      if (w) await w.close();
    });

    it('GET the organization: {id, name, session_ttl}', async () => {
      const org = await api.ok('GET', '');
      assert.deepEqual(org, { id: A.orgId, name: A.orgName, session_ttl: 86400 });
    });

    it('access tokens: create shows the key once, lists never show it, it works at /public/token, DELETE revokes it within a second', async () => {
      const t0 = Date.now();
      const created = await api.ok('POST', '/access-tokens', { name: `Host backend (${mode})`, type: 'embed' }, 201);
      assert.deepEqual(Object.keys(created).sort(), ['expiresAt', 'id', 'key'], `create reply: ${JSON.stringify(Object.keys(created))}`);
      assert.match(created.id, h.UUID_RE);
      assert.match(created.key, /^tse_[A-Za-z0-9_-]{43}$/, 'an embed token value');
      assert.match(created.expiresAt, ISO_RE);
      const days = (Date.parse(created.expiresAt) - t0) / 86400000;
      assert.ok(Math.abs(days - 90) < 0.01, `default expiry is ${days} days ahead, want 90`);

      // The list: the entry with its prefix, never the value.
      const listRes = await api.call('GET', '/access-tokens');
      assert.equal(listRes.status, 200, listRes.text);
      assert.ok(!listRes.text.includes(created.key), 'GET /access-tokens contains the token value');
      assert.ok(!listRes.text.includes(created.key.slice(12)), 'GET /access-tokens contains the secret part of the token');
      const entry = listRes.json.data.find((t) => t.id === created.id);
      assert.ok(entry, 'the new token is not listed');
      assert.deepEqual(Object.keys(entry).sort(), ['created_at', 'created_by', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'rate_limit', 'revoked_at', 'type']);
      assert.deepEqual(entry.rate_limit, { rps: 200, burst: 400, default: true }, 'the default token endpoint limit');
      assert.equal(entry.name, `Host backend (${mode})`);
      assert.equal(entry.type, 'embed');
      assert.equal(entry.prefix, created.key.slice(0, 12), 'prefix = the first 12 characters');
      assert.equal(entry.revoked_at, null);
      assert.equal(entry.expires_at, created.expiresAt);
      assert.match(entry.created_at, ISO_RE);
      assertIsoOrNull(entry.last_used_at, 'last_used_at');
      assert.equal(typeof entry.created_by, 'string');
      assert.ok(entry.created_by.length > 0, 'created_by is empty');
      // The seeded tokens are listed too (prefixes only).
      const seeded = listRes.json.data.find((t) => t.id === A.embedTokenId);
      assert.ok(seeded && seeded.prefix === A.embedToken.slice(0, 12), 'the CLI-made embed token is listed with its prefix');
      assert.ok(!listRes.text.includes(A.embedToken) && !listRes.text.includes(A.adminToken), 'the list contains a seeded token value');

      // The value works at the token endpoint.
      const ok = await immediately(async () => {
        const r = await h.postToken(base, created.key, { email: 'jane.wind@customer.example', name: 'Jane Wind' });
        return { ok: r.status === 200, detail: `${r.status} ${r.text}`, r };
      }, 'the new Embed token does not work at POST /api/v1/public/token');
      const claims = h.jwtParts(ok.r.json.access_token).payload;
      assert.equal(claims.org_id, A.orgId);
      assert.equal(claims.atid, created.id, 'the session names the new token (atid)');
      const sess = ok.r.json.access_token;

      // An explicit expiresAt is kept.
      const at = new Date(Date.now() + 10 * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const explicit = await api.ok('POST', '/access-tokens', { name: 'ten days', type: 'embed', expiresAt: at }, 201);
      assert.equal(explicit.expiresAt, at);
      // Bad bodies.
      await api.fails('POST', '/access-tokens', { type: 'embed' }, 400);
      await api.fails('POST', '/access-tokens', { name: 'x', type: 'superuser' }, 400);
      await api.fails('POST', '/access-tokens', { name: 'x', type: 'embed', expiresAt: '2001-01-01T00:00:00Z' }, 400);

      // Revoke.
      const rev = await api.ok('DELETE', `/access-tokens/${created.id}`);
      assert.deepEqual(rev, { id: created.id, revoked: true });
      await immediately(async () => {
        const r = await h.postToken(base, created.key, { email: 'jane.wind@customer.example' });
        return { ok: r.status === 401, detail: `${r.status} ${r.text}` };
      }, 'a revoked token still works at POST /api/v1/public/token');
      await immediately(async () => {
        const r = await h.me(base, sess);
        return { ok: r.status === 401, detail: `${r.status} ${r.text}` };
      }, 'a session minted with a revoked token is still accepted by /api/v1/me');
      const after = await api.ok('GET', '/access-tokens');
      const revoked = after.find((t) => t.id === created.id);
      assert.match(String(revoked.revoked_at), ISO_RE, 'revoked_at is set');
      await api.fails('DELETE', `/access-tokens/${h.randomUuid()}`, undefined, 404);

      // The value never shows up again: lists, audit (JSON and export), the server's log.
      const audit = await api.call('GET', '/audit?limit=1000');
      const exp = await api.call('GET', '/audit/export');
      const cli = h.cli(w.env, 'token', 'list', '--org', A.orgId);
      for (const [what, text] of [['GET /access-tokens', JSON.stringify(after)], ['GET /audit', audit.text], ['GET /audit/export', exp.text], ['tessera serve log', w.server.logs()], ['tessera token list', cli.stdout]]) {
        assert.ok(!text.includes(created.key.slice(4)), `${what} contains the token value`);
      }
      assert.ok(audit.json.data.some((e) => e.action === 'token.created' && JSON.stringify(e).includes(created.id)), 'no token.created audit event names the new token');
      assert.ok(audit.json.data.some((e) => e.action === 'token.revoked' && JSON.stringify(e).includes(created.id)), 'no token.revoked audit event names the token');
    });

    it('access tokens: a new admin-type token acts on the admin API', async () => {
      const created = await api.ok('POST', '/access-tokens', { name: 'script', type: 'admin' }, 201);
      assert.match(created.key, /^tsa_[A-Za-z0-9_-]{43}$/, 'an admin token value');
      const script = new Admin(base, A.orgId, { token: created.key }, 'new admin token');
      const org = await immediately(async () => {
        const r = await script.call('GET', '');
        return { ok: r.status === 200, detail: `${r.status} ${r.text}` };
      }, 'a new admin token does not work on the admin API');
      assert.ok(org);
      // ... and not as an Embed token.
      const r = await h.postToken(base, created.key, { email: 'x@customer.example' });
      assert.equal(r.status, 403, `an admin token at /public/token: ${r.status} ${r.text}`);
    });

    it('groups: create, rename, members add/remove, permissions grant/revoke (and their effect on the embed), delete', async () => {
      // An app with a deployed bundle to grant access to.
      const app = await api.ok('POST', '/applications', { name: `Orders (${mode})`, mode: 'sso', allowed_origins: ['https://host-a.example'] }, 201);
      await api.ok('POST', `/applications/${app.id}/versions`, { files: bundleFiles(DEMO_APP) }, 201);

      const g = await api.ok('POST', '/groups', { name: `Customers (${mode})` }, 201);
      assert.match(g.id, h.UUID_RE);
      assert.equal(g.name, `Customers (${mode})`);
      assert.deepEqual(g.members, []);
      assert.deepEqual(g.permissions, []);
      await api.fails('POST', '/groups', { name: '' }, 400);
      await api.fails('POST', '/groups', {}, 400);

      let list = await api.ok('GET', '/groups');
      let item = list.find((x) => x.id === g.id);
      assert.deepEqual(item, { id: g.id, name: `Customers (${mode})`, member_count: 0, permissions: [] });

      const renamed = await api.ok('PATCH', `/groups/${g.id}`, { name: `Portal users (${mode})` });
      assert.equal(renamed.id, g.id);
      assert.equal(renamed.name, `Portal users (${mode})`);
      assert.equal((await api.ok('GET', `/groups/${g.id}`)).name, `Portal users (${mode})`);

      // Members.
      const dev = A.users.developer;
      const added = await api.ok('POST', `/groups/${g.id}/members`, { email: dev.email });
      assert.deepEqual(added, { group_id: g.id, user_id: dev.id });
      let detail = await api.ok('GET', `/groups/${g.id}`);
      assert.deepEqual(detail.members, [{ id: dev.id, email: dev.email, name: dev.name, role: 'developer' }]);
      item = (await api.ok('GET', '/groups')).find((x) => x.id === g.id);
      assert.equal(item.member_count, 1);
      await api.fails('POST', `/groups/${g.id}/members`, { email: 'nobody@a-corp.example' }, 404);
      await api.fails('POST', `/groups/${g.id}/members`, { email: A.users.member.email.replace('a-corp', 'b-corp') }, 404);
      // Effect: a platform-user session token carries the group.
      const groupsOf = async () => {
        const r = await h.postToken(base, A.embedToken, { email: dev.email, isSuperblocksUser: true });
        return r.status === 200 ? h.jwtParts(r.json.access_token).payload.rbac_group_objects.map((x) => x.id) : [`${r.status}`];
      };
      await immediately(async () => {
        const ids = await groupsOf();
        return { ok: ids.includes(g.id), detail: JSON.stringify(ids) };
      }, 'a member added through the API is not in the group of its platform-user session token');
      const removed = await api.ok('DELETE', `/groups/${g.id}/members/${dev.id}`);
      assert.deepEqual(removed, { group_id: g.id, user_id: dev.id, removed: true });
      assert.deepEqual((await api.ok('GET', `/groups/${g.id}`)).members, []);
      await immediately(async () => {
        const ids = await groupsOf();
        return { ok: !ids.includes(g.id) && !ids.some((x) => /^\d+$/.test(x)), detail: JSON.stringify(ids) };
      }, 'a removed member is still in the group of its platform-user session token');

      // Permissions and their effect on POST /api/v1/embed/session.
      const opens = async () => {
        const tok = await h.postToken(base, A.embedToken, { email: 'jane.wind@customer.example', groupIds: [g.id] });
        if (tok.status !== 200) return { status: `token ${tok.status}`, text: tok.text };
        const r = await embedSession(base, app.id, tok.json.access_token);
        return { status: r.status, text: r.text };
      };
      const before = await immediately(async () => {
        const r = await opens();
        return { ok: r.status === 403, detail: `${r.status} ${r.text}` };
      }, 'before the grant, a token with the group must be refused by /api/v1/embed/session (403)');
      assert.ok(before);
      const granted = await api.ok('PUT', `/groups/${g.id}/permissions`, { app_id: app.id, permission: 'apps:view', granted: true });
      assert.equal(granted.id, g.id);
      assert.deepEqual(granted.permissions, [{ app_id: app.id, app_name: app.name, permission: 'apps:view' }]);
      item = (await api.ok('GET', '/groups')).find((x) => x.id === g.id);
      assert.deepEqual(item.permissions, [{ app_id: app.id, permission: 'apps:view' }]);
      await immediately(async () => {
        const r = await opens();
        return { ok: r.status === 200 && JSON.parse(r.text).data.frame_url.startsWith(`/apps/${app.id}/`), detail: `${r.status} ${r.text}` };
      }, 'after the grant, a token with the group cannot open the app via /api/v1/embed/session');
      await api.fails('PUT', `/groups/${g.id}/permissions`, { app_id: app.id, permission: 'apps:delete', granted: true }, 400);
      await api.fails('PUT', `/groups/${g.id}/permissions`, { app_id: h.randomUuid(), permission: 'apps:view', granted: true }, 404);
      await api.fails('PUT', `/groups/${g.id}/permissions`, { app_id: app.id, permission: 'apps:view' }, 400);
      const revokedPerm = await api.ok('PUT', `/groups/${g.id}/permissions`, { app_id: app.id, permission: 'apps:view', granted: false });
      assert.deepEqual(revokedPerm.permissions, []);
      await immediately(async () => {
        const r = await opens();
        return { ok: r.status === 403, detail: `${r.status} ${r.text}` };
      }, 'after the revoke, a token with the group still opens the app');

      // Delete.
      const del = await api.ok('DELETE', `/groups/${g.id}`);
      assert.deepEqual(del, { id: g.id, deleted: true });
      await api.fails('GET', `/groups/${g.id}`, undefined, 404);
      await api.fails('PATCH', `/groups/${g.id}`, { name: 'ghost' }, 404);
      await api.fails('DELETE', `/groups/${g.id}`, undefined, 404);
      list = await api.ok('GET', '/groups');
      assert.ok(!list.some((x) => x.id === g.id), 'a deleted group is still listed');
      await immediately(async () => {
        const r = await h.postToken(base, A.embedToken, { email: 'jane.wind@customer.example', groupIds: [g.id] });
        return { ok: r.status === 400 && r.text.includes(g.id), detail: `${r.status} ${r.text}` };
      }, 'a deleted group id is still accepted in groupIds');
    });

    it('applications: create, patch mode and origins, upload versions (base64), list, embed snippet, and the embed serves the upload', async () => {
      const name = `Billing (${mode})`;
      const a = await api.ok('POST', '/applications', { name, mode: 'sso', allowed_origins: ['https://app.acme.example'] }, 201);
      assert.deepEqual(Object.keys(a).sort(), ['allowed_origins', 'created_at', 'id', 'latest_version', 'mode', 'name']);
      assert.match(a.id, h.UUID_RE);
      assert.equal(a.name, name);
      assert.equal(a.mode, 'sso');
      assert.deepEqual(a.allowed_origins, ['https://app.acme.example']);
      assert.equal(a.latest_version, null);
      assert.match(a.created_at, ISO_RE);
      const dflt = await api.ok('POST', '/applications', { name: `Defaults (${mode})` }, 201);
      assert.equal(dflt.mode, 'sso', 'mode defaults to sso');
      assert.deepEqual(dflt.allowed_origins, []);
      await api.fails('POST', '/applications', { name: 'bad mode', mode: 'open' }, 400);
      await api.fails('POST', '/applications', { name: 'bad origin', allowed_origins: ['https://x.example/path'] }, 400);
      await api.fails('POST', '/applications', { name: 'bad origin', allowed_origins: ['ftp://x.example'] }, 400);

      // Patch.
      const p1 = await api.ok('PATCH', `/applications/${a.id}`, { mode: 'public', allowed_origins: ['https://two.example', 'http://localhost:3000'] });
      assert.equal(p1.mode, 'public');
      assert.deepEqual(p1.allowed_origins, ['https://two.example', 'http://localhost:3000']);
      assert.equal(p1.name, name, 'PATCH without name keeps it');
      const p2 = await api.ok('PATCH', `/applications/${a.id}`, { name: `${name} v2` });
      assert.equal(p2.name, `${name} v2`);
      assert.equal(p2.mode, 'public', 'PATCH without mode keeps it');
      assert.deepEqual(p2.allowed_origins, ['https://two.example', 'http://localhost:3000'], 'PATCH without origins keeps them');
      await api.fails('PATCH', `/applications/${a.id}`, { mode: 'open' }, 400);
      await api.fails('PATCH', `/applications/${h.randomUuid()}`, { mode: 'sso' }, 404);

      // Versions.
      const files = bundleFiles(DEMO_APP);
      const v1 = await api.ok('POST', `/applications/${a.id}/versions`, { files }, 201);
      assert.deepEqual(Object.keys(v1).sort(), ['bytes', 'files', 'id', 'version']);
      assert.equal(v1.version, 1);
      assert.equal(v1.files, files.length);
      assert.equal(v1.bytes, dirBytes(DEMO_APP));
      const page2 = `<!doctype html><title>v2</title><p id="marker">version two of ${mode}</p>`;
      const b64url = Buffer.from(page2).toString('base64url'); // base64url is accepted too
      const v2 = await api.ok('POST', `/applications/${a.id}/versions`, { files: [{ path: 'index.html', content_base64: b64url, content_type: 'text/html; charset=utf-8' }] }, 201);
      assert.equal(v2.version, 2);
      assert.equal(v2.files, 1);
      assert.equal(v2.bytes, Buffer.byteLength(page2));
      await api.fails('POST', `/applications/${a.id}/versions`, { files: [{ path: 'app.js', content_base64: 'AAAA' }] }, 400); // no index.html
      await api.fails('POST', `/applications/${a.id}/versions`, { files: [{ path: 'index.html', content_base64: '***' }] }, 400);
      await api.fails('POST', `/applications/${a.id}/versions`, { files: [] }, 400);

      const versions = await api.ok('GET', `/applications/${a.id}/versions`);
      assert.equal(versions.length, 2);
      for (const v of versions) {
        assert.deepEqual(Object.keys(v).sort(), ['bytes', 'created_at', 'created_by', 'files', 'id', 'version']);
        assert.match(v.created_at, ISO_RE);
        assert.ok(typeof v.created_by === 'string' && v.created_by.length > 0, 'created_by');
      }
      assert.deepEqual(versions.map((v) => v.version).sort(), [1, 2]);
      const full = await api.ok('GET', `/applications/${a.id}`);
      assert.equal(full.latest_version, 2);
      assert.equal(full.mode, 'public');
      assert.deepEqual(full.versions.map((v) => v.id).sort(), [v1.id, v2.id].sort());
      const listed = (await api.ok('GET', '/applications')).find((x) => x.id === a.id);
      assert.ok(listed, 'the app is not listed');
      assert.deepEqual(Object.keys(listed).sort(), ['allowed_origins', 'created_at', 'id', 'latest_version', 'mode', 'name']);
      assert.equal(listed.latest_version, 2);
      assert.ok((await api.ok('GET', '/applications')).some((x) => x.id === A.appId), 'the CLI-made app is listed');

      // Snippet.
      const snip = await api.ok('GET', `/applications/${a.id}/embed-snippet`);
      const url = `${base}/embed/applications/${a.id}`;
      assert.equal(snip.url, url);
      assert.ok(snip.javascript.includes(url), `the JavaScript snippet lacks the app URL:\n${snip.javascript}`);
      assert.ok(snip.javascript.includes(`${base}/sdk/embed.js`), 'the JavaScript snippet does not load /sdk/embed.js');
      assert.ok(snip.react.includes(url), `the React snippet lacks the app URL:\n${snip.react}`);
      await api.fails('GET', `/applications/${h.randomUuid()}/embed-snippet`, undefined, 404);

      // Effect: the embed runtime sees the new mode and origins and serves version 2.
      await immediately(async () => {
        const r = await h.httpRequest(`${base}/api/v1/embed/apps/${a.id}`);
        const d = r.json && r.json.data;
        return { ok: r.status === 200 && d.mode === 'public' && d.allowed_origins.includes('http://localhost:3000'), detail: `${r.status} ${r.text}` };
      }, 'GET /api/v1/embed/apps does not show the patched mode and origins');
      const frame = await immediately(async () => {
        const r = await embedSession(base, a.id, null);
        if (r.status !== 200) return { ok: false, detail: `${r.status} ${r.text}` };
        const f = await h.httpRequest(`${base}${r.json.data.frame_url}`);
        return { ok: f.status === 200 && f.text === page2, detail: `${f.status} ${f.text.slice(0, 200)}` };
      }, 'the embed does not serve the uploaded version 2');
      assert.ok(frame);
    });

    it('members: add, patch role, delete; the last owner can be neither demoted nor removed (409)', async () => {
      const email = `new.dev.${mode.replace(/ /g, '-')}@a-corp.example`;
      const m = await api.ok('POST', '/members', { email, name: 'New Dev', role: 'developer', password: 'a long enough password' }, 201);
      assert.deepEqual(Object.keys(m).sort(), ['created_at', 'email', 'has_password', 'id', 'name', 'role']);
      assert.match(m.id, h.UUID_RE);
      assert.equal(m.email, email);
      assert.equal(m.name, 'New Dev');
      assert.equal(m.role, 'developer');
      assert.equal(m.has_password, true);
      assert.match(m.created_at, ISO_RE);
      assert.ok(!JSON.stringify(m).includes('a long enough password'), 'the reply echoes the password');
      await api.fails('POST', '/members', { email: 'x@a-corp.example', role: 'emperor' }, 400);
      await api.fails('POST', '/members', { email: 'not-an-email', role: 'developer' }, 400);
      await api.fails('POST', '/members', { email: 'short.pw@a-corp.example', role: 'developer', password: 'short' }, 400);
      const list = await api.ok('GET', '/members');
      for (const u of list) assert.deepEqual(Object.keys(u).sort(), ['created_at', 'email', 'has_password', 'id', 'name', 'role']);
      assert.ok(list.some((u) => u.id === m.id), 'the new member is not listed');
      const owner = list.find((u) => u.id === A.users.owner.id);
      assert.deepEqual({ email: owner.email, role: owner.role, has_password: owner.has_password }, { email: A.users.owner.email, role: 'owner', has_password: true });
      assert.equal(list.find((u) => u.id === A.users.member.id).has_password, false);
      assert.ok(!JSON.stringify(list).includes('argon2'), 'GET /members leaks a password hash');

      // The new member is known at once and signs in; the role change shows in their session.
      await immediately(async () => {
        const r = await h.postToken(base, A.embedToken, { email, isSuperblocksUser: true });
        return { ok: r.status === 200, detail: `${r.status} ${r.text}` };
      }, 'a member added through the API is not known to the token endpoint');
      const s = await signIn(base, email, 'a long enough password');
      assert.equal(s.data.user.role, 'developer');
      const patched = await api.ok('PATCH', `/members/${m.id}`, { role: 'admin' });
      assert.equal(patched.role, 'admin');
      assert.equal(patched.id, m.id);
      await immediately(async () => {
        const r = await authSession(base, s.cookie);
        return { ok: r.status === 200 && r.json.data.user.role === 'admin', detail: `${r.status} ${r.text}` };
      }, 'the session of a member whose role changed does not show the new role');
      await api.fails('PATCH', `/members/${m.id}`, { role: 'emperor' }, 400);
      await api.fails('PATCH', `/members/${h.randomUuid()}`, { role: 'admin' }, 404);

      const del = await api.ok('DELETE', `/members/${m.id}`);
      assert.deepEqual(del, { id: m.id, removed: true });
      assert.ok(!(await api.ok('GET', '/members')).some((u) => u.id === m.id), 'a removed member is still listed');
      await immediately(async () => {
        const r = await authSession(base, s.cookie);
        return { ok: r.status === 401, detail: `${r.status} ${r.text}` };
      }, 'the console session of a removed member still works');
      await api.fails('DELETE', `/members/${m.id}`, undefined, 404);

      // The last owner.
      await api.fails('PATCH', `/members/${A.users.owner.id}`, { role: 'developer' }, 409);
      await api.fails('DELETE', `/members/${A.users.owner.id}`, undefined, 409);
      assert.equal((await api.ok('GET', '/members')).find((u) => u.id === A.users.owner.id).role, 'owner', 'the last owner lost the role');
      // With a second owner, that one can be demoted and removed.
      const o2 = await api.ok('POST', '/members', { email: `second.owner.${mode.replace(/ /g, '-')}@a-corp.example`, role: 'owner' }, 201);
      assert.equal(o2.has_password, false);
      assert.equal((await api.ok('PATCH', `/members/${o2.id}`, { role: 'developer' })).role, 'developer');
      await api.ok('PATCH', `/members/${o2.id}`, { role: 'owner' });
      assert.deepEqual(await api.ok('DELETE', `/members/${o2.id}`), { id: o2.id, removed: true });
      await api.fails('PATCH', `/members/${A.users.owner.id}`, { role: 'admin' }, 409);
    });

    it('signing keys: list, rotate; the new kid is in the JWKS and signs new sessions', async () => {
      const keys = await api.ok('GET', '/signing-keys');
      assert.ok(keys.length >= 1);
      for (const k of keys) {
        assert.deepEqual(Object.keys(k).sort(), ['alg', 'created_at', 'kid', 'state']);
        assert.equal(k.alg, 'ES256');
        assert.match(k.created_at, ISO_RE);
        assert.ok(['active', 'retiring', 'retired'].includes(k.state), `state ${k.state}`);
      }
      const active = keys.filter((k) => k.state === 'active');
      assert.equal(active.length, 1, `one active key: ${JSON.stringify(keys)}`);
      const rot = await api.ok('POST', '/signing-keys/rotate');
      assert.deepEqual(Object.keys(rot), ['kid']);
      assert.notEqual(rot.kid, active[0].kid);
      const after = await api.ok('GET', '/signing-keys');
      assert.equal(after.find((k) => k.kid === rot.kid).state, 'active');
      assert.equal(after.find((k) => k.kid === active[0].kid).state, 'retiring');
      assert.equal(after.filter((k) => k.state === 'active').length, 1);
      await immediately(async () => {
        const r = await h.httpRequest(`${base}/.well-known/jwks.json`);
        const kids = r.json ? r.json.keys.map((k) => k.kid) : [];
        return { ok: kids.includes(rot.kid) && kids.includes(active[0].kid), detail: JSON.stringify(kids) };
      }, 'the rotated-in kid (and the retiring one) are not in /.well-known/jwks.json');
      await immediately(async () => {
        const r = await h.postToken(base, A.embedToken, { email: 'kid.check@customer.example' });
        const kid = r.status === 200 ? h.jwtParts(r.json.access_token).header.kid : null;
        return { ok: kid === rot.kid, detail: `${r.status} kid=${kid}` };
      }, 'new session tokens are not signed with the new key');
    });

    it('audit: newest first, filters action/actor/since/limit, and the JSON-lines export round-trips', async () => {
      const marker = `Audit marker (${mode}) ${Date.now()}`;
      const g = await api.ok('POST', '/groups', { name: marker }, 201);
      await api.ok('PATCH', `/groups/${g.id}`, { name: `${marker} renamed` });

      const res = await api.call('GET', '/audit?limit=1000');
      assert.equal(res.status, 200, res.text);
      const all = res.json.data;
      assert.ok(all.length >= 10, `only ${all.length} audit events`);
      assert.ok(all.length < 1000, 'too many events for a full comparison');
      for (const e of all) {
        assert.deepEqual(Object.keys(e).sort(), ['action', 'actor', 'at', 'client', 'detail', 'id', 'request_id', 'target'], `event shape ${JSON.stringify(e)}`);
        assert.match(e.at, ISO_RE);
        assert.equal(typeof e.detail, 'object');
      }
      assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'duplicate event ids');
      for (let i = 1; i < all.length; i++) {
        assert.ok(all[i - 1].at >= all[i].at, `not newest first at ${i}: ${all[i - 1].at} before ${all[i].at}`);
      }
      // Our two changes are the newest events, named after the caller.
      const created = all.find((e) => e.action === 'group.created' && e.target === g.id);
      assert.ok(created, `no group.created event with target ${g.id}`);
      assert.ok(all.indexOf(created) <= 1, `group.created is not among the newest: index ${all.indexOf(created)}`);
      assert.ok(actorHint.some((x) => created.actor.includes(x)), `the audit actor ${JSON.stringify(created.actor)} does not name the caller (${actorHint.join(' or ')})`);
      assert.ok(all.slice(0, 2).some((e) => e.target === g.id && e.action !== 'group.created'), 'the rename is not the newest event');
      // Default limit 200, and limit=.
      const dflt = await api.ok('GET', '/audit');
      assert.deepEqual(dflt, all.slice(0, 200));
      const three = await api.ok('GET', '/audit?limit=3');
      assert.deepEqual(three, all.slice(0, 3), 'limit=3 is not the three newest');
      for (const bad of ['0', '1001', 'abc', '-5']) await api.fails('GET', `/audit?limit=${bad}`, undefined, 400);
      // action=
      const createdOnly = await api.ok('GET', '/audit?action=group.created&limit=1000');
      assert.ok(createdOnly.length >= 3, 'action=group.created');
      assert.ok(createdOnly.every((e) => e.action === 'group.created'), 'action= filter lets other actions through');
      assert.deepEqual(createdOnly, all.filter((e) => e.action === 'group.created'));
      assert.deepEqual(await api.ok('GET', '/audit?action=group%2Ecreated&limit=1000'), createdOnly, '%2E decodes');
      // An escape that is not two hex digits (or is %00) stays as it is: the filter is not cut short.
      assert.deepEqual(await api.ok('GET', '/audit?action=group.created%zz&limit=1000'), []);
      assert.deepEqual(await api.ok('GET', '/audit?action=group.created%00&limit=1000'), []);
      // actor=
      const mine = await api.ok('GET', `/audit?actor=${encodeURIComponent(created.actor)}&limit=1000`);
      assert.ok(mine.length >= 2);
      assert.deepEqual(mine, all.filter((e) => e.actor === created.actor), 'actor= filter');
      assert.deepEqual(await api.ok('GET', '/audit?actor=nobody%40nowhere.example'), []);
      // since=
      const mid = all[Math.floor(all.length / 2)].at;
      const since = await api.ok('GET', `/audit?since=${encodeURIComponent(mid)}&limit=1000`);
      assert.ok(since.every((e) => e.at >= mid), 'since= lets older events through');
      assert.deepEqual(since, all.filter((e) => since.some((x) => x.id === e.id)), 'since= is not the newest-first subset of the full list');
      const newer = all.filter((e) => e.at > mid);
      assert.ok(newer.every((e) => since.some((x) => x.id === e.id)), 'since= misses newer events');
      assert.ok(since.length > 0);
      await api.fails('GET', '/audit?since=yesterday', undefined, 400);
      assert.deepEqual(await api.ok('GET', '/audit?since=2999-01-01T00:00:00Z'), []);

      // Export: JSON lines, oldest first, the same events.
      const exp = await api.call('GET', '/audit/export');
      assert.equal(exp.status, 200, exp.text.slice(0, 300));
      assert.match(exp.headers.get('content-type') || '', /^application\/x-ndjson/);
      assert.ok(exp.text.endsWith('\n'), 'the export does not end with a newline');
      const lines = exp.text.slice(0, -1).split('\n');
      const parsed = lines.map((l, i) => {
        try {
          return JSON.parse(l);
        } catch (e) {
          return assert.fail(`export line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
        }
      });
      // Events written after the list above (none expected: reads are not audited).
      assert.deepEqual(parsed, [...all].reverse(), 'the export is not the JSON list, oldest first');
      const expSince = await api.call('GET', `/audit/export?since=${encodeURIComponent(mid)}`);
      const sinceLines = expSince.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(sinceLines, [...since].reverse(), 'export?since= is not the JSON list with since=');
    });
  });
}

// ---- security -------------------------------------------------------------------------------------

describe('admin API security', { timeout: 90000 }, () => {
  let w;
  let base;
  let A;
  let B;
  let adminA; // admin token of org A
  let adminB; // admin token of org B (reads B's data for comparisons)

  before(async () => {
    w = await startWorld();
    base = w.base;
    A = w.A;
    B = w.B;
    adminA = new Admin(base, A.orgId, { token: A.adminToken }, 'admin token A');
    adminB = new Admin(base, B.orgId, { token: B.adminToken }, 'admin token B');
  });

  after(async () => {
    if (w) await w.close();
  });

  it('the route table of these tests covers every route of the contract', () => {
    const contract = contractRoutes();
    assert.ok(contract.size >= 25, `only ${contract.size} routes parsed from docs/API.md`);
    const mine = tableRouteKeys(A);
    const missing = [...contract].filter((r) => !mine.has(r));
    const extra = [...mine].filter((r) => !contract.has(r));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
  });

  it('no credentials: 401 with the JSON error and WWW-Authenticate on every route', async () => {
    const anon = new Admin(base, A.orgId, null);
    for (const [method, p, body] of routeTable(A)) await anon.fails(method, p, body, 401);
    for (const bad of ['Bearer', 'Bearer ', 'Basic YWJjOmRlZg==', `Bearer ${A.adminToken}x`, 'Bearer tsa_not-a-real-token-0000000000000000000000000000']) {
      const r = await anon.call('GET', '/groups', undefined, { headers: { authorization: bad } });
      assert.equal(r.status, 401, `Authorization: ${bad} -> ${r.status} ${r.text}`);
      assertErrorShape(r, `Authorization: ${bad}`);
    }
    const garbageCookie = await anon.call('GET', '/groups', undefined, { headers: { cookie: `${COOKIE}=${'x'.repeat(43)}` } });
    assert.equal(garbageCookie.status, 401, `an unknown console cookie: ${garbageCookie.status}`);
  });

  it('an Embed access token: 403 on every route', async () => {
    const embed = new Admin(base, A.orgId, { token: A.embedToken }, 'embed token');
    for (const [method, p, body] of routeTable(A)) await embed.fails(method, p, body, 403);
  });

  it('an expired admin token and a revoked admin token: 401', async () => {
    const soon = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const short = await adminA.ok('POST', '/access-tokens', { name: 'short-lived admin', type: 'admin', expiresAt: soon }, 201);
    const doomed = await adminA.ok('POST', '/access-tokens', { name: 'doomed admin', type: 'admin' }, 201);
    const shortApi = new Admin(base, A.orgId, { token: short.key }, 'short-lived admin token');
    const doomedApi = new Admin(base, A.orgId, { token: doomed.key }, 'doomed admin token');
    await immediately(async () => {
      const r1 = await shortApi.call('GET', '');
      const r2 = await doomedApi.call('GET', '');
      return { ok: r1.status === 200 && r2.status === 200, detail: `${r1.status} ${r2.status}` };
    }, 'new admin tokens do not work');
    await adminA.ok('DELETE', `/access-tokens/${doomed.id}`);
    await immediately(async () => {
      const r = await doomedApi.call('GET', '/groups');
      return { ok: r.status === 401, detail: `${r.status} ${r.text}` };
    }, 'a revoked admin token still works');
    await doomedApi.fails('POST', '/groups', { name: 'by a revoked token' }, 401);
    await h.sleep(Math.max(0, Date.parse(soon) - Date.now() + 200));
    await eventually(async () => {
      const r = await shortApi.call('GET', '/groups');
      return { ok: r.status === 401, detail: `${r.status} ${r.text}` };
    }, 'an expired admin token still works', 3000);
    await shortApi.fails('POST', '/groups', { name: 'by an expired token' }, 401);
    assert.ok(!(await adminA.ok('GET', '/groups')).some((g) => /by an? (revoked|expired) token/.test(g.name)), 'a refused token created a group');
  });

  it('a developer session: every GET works, every change is 403 (creating a token too) and writes nothing', async () => {
    const s = await signIn(base, A.users.developer.email);
    assert.equal(s.data.user.role, 'developer');
    const dev = new Admin(base, A.orgId, { cookie: s.cookie, csrf: s.csrf }, 'developer session');
    const before = await snapshot(adminA);
    for (const [method, p, body] of routeTable(A)) {
      if (isChange(method)) await dev.fails(method, p, body, 403);
      else {
        const r = await dev.call(method, p);
        assert.equal(r.status, 200, `developer: GET ${p} -> ${r.status} ${r.text.slice(0, 300)}`);
      }
    }
    const tok = await dev.fails('POST', '/access-tokens', { name: 'dev token', type: 'embed' }, 403);
    assert.ok(!/tse_|tsa_/.test(tok.text), 'a refused token creation shows a token value');
    await dev.fails('POST', '/access-tokens', { name: 'dev admin token', type: 'admin' }, 403);
    assert.deepEqual(await snapshot(adminA), before, 'a developer changed something');
  });

  it('an end user cannot sign in to the console (403, no cookie)', async () => {
    const r = await login(base, A.users.enduser.email, PASSWORD);
    assert.equal(r.status, 403, `end-user sign-in: ${r.status} ${r.text}`);
    assertErrorShape(r, 'end-user sign-in');
    const c = consoleCookie(r);
    assert.ok(!c || c.value === '', `an end user got a console cookie: ${c && c.header}`);
  });

  it('the console cookie without X-CSRF-Token, or with a wrong one, is refused on every change (403) and writes nothing', async () => {
    const s = await signIn(base, A.users.owner.email);
    const owner = new Admin(base, A.orgId, { cookie: s.cookie, csrf: s.csrf }, 'owner session');
    const other = await signIn(base, A.users.developer.email);
    const before = await snapshot(adminA);
    const wrong = `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}`;
    for (const [method, p, body] of routeTable(A).filter(([m]) => isChange(m))) {
      for (const csrf of [null, '', wrong, s.csrf.slice(0, 10)]) {
        const r = await owner.fails(method, p, body, 403, { csrf });
        assert.match(r.json.error_description, /csrf/i, `${method} ${p}: the 403 does not name the CSRF token`);
      }
    }
    // Another session's CSRF token does not fit this session.
    await owner.fails('POST', '/groups', { name: 'cross-session csrf' }, 403, { csrf: other.csrf });
    // A CSRF token alone (no cookie) is no credential.
    const r = await h.httpRequest(`${base}${orgPath(A.orgId)}/groups`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body: '{"name":"no cookie"}' });
    assert.equal(r.status, 401, `CSRF token without cookie: ${r.status}`);
    const afterSnap = await snapshot(adminA);
    const newEvents = afterSnap.audit.filter((e) => !before.audit.some((x) => x.id === e.id));
    assert.deepEqual(newEvents, [], 'refused requests wrote audit events');
    assert.deepEqual(afterSnap, before, 'a request without a valid CSRF token changed something');
    // Logout needs the CSRF token too.
    const lo = await h.httpRequest(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: `${COOKIE}=${s.cookie}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(lo.status, 403, `logout without X-CSRF-Token: ${lo.status} ${lo.text}`);
    assert.equal((await authSession(base, s.cookie)).status, 200, 'a refused logout ended the session');
    // With it, the same change works (the refusals were about CSRF only).
    await owner.ok('POST', '/groups', { name: 'with csrf' }, 201);
  });

  it("an admin of org A gets 404 on every org-B path and for every org-B resource, and org B's data is unchanged", async () => {
    const s = await signIn(base, A.users.owner.email);
    const callers = [adminA, new Admin(base, A.orgId, { cookie: s.cookie, csrf: s.csrf }, 'owner A session')];
    const beforeB = await snapshot(adminB);
    const beforeA = await snapshot(adminA);
    const seen = [];
    for (const caller of callers) {
      // Org B's id in the path.
      for (const [method, p, body] of routeTable(B)) {
        const r = await caller.call(method, p, body, { orgId: B.orgId });
        seen.push(`${caller.label} ${method} B${p} -> ${r.status}`);
        assert.equal(r.status, 404, `${caller.label}: ${method} ${orgPath(B.orgId)}${p} -> ${r.status} ${r.text.slice(0, 300)}`);
        assertErrorShape(r, `${method} B${p}`);
        assert.ok(!r.text.includes(B.orgName) && !r.text.includes(B.groupId) && !r.text.includes(B.appId), `a 404 reveals org B data: ${r.text}`);
      }
      // Org A's id in the path, org B's resources.
      const mixed = routeTable(B).filter(([, p]) => /\/[0-9a-f-]{36}/.test(p));
      for (const [method, p, body] of mixed) {
        const r = await caller.call(method, p, body, { orgId: A.orgId });
        assert.equal(r.status, 404, `${caller.label}: ${method} ${orgPath(A.orgId)}${p} (org B ids) -> ${r.status} ${r.text.slice(0, 300)}`);
      }
      // Org B's app granted to an org-A group, org B's member added to an org-A group.
      await caller.fails('PUT', `/groups/${A.groupId}/permissions`, { app_id: B.appId, permission: 'apps:view', granted: true }, 404);
      await caller.fails('DELETE', `/groups/${A.groupId}/members/${B.users.member.id}`, undefined, 404);
      const addB = await caller.call('POST', `/groups/${A.groupId}/members`, { email: B.users.member.email });
      assert.equal(addB.status, 404, `adding org B's member to an org-A group: ${addB.status} ${addB.text}`);
      // An org-A token cannot carry org B's group either.
      const t = await h.postToken(base, A.embedToken, { email: 'x@customer.example', groupIds: [B.groupId] });
      assert.equal(t.status, 400, `org B's group in an org-A token request: ${t.status}`);
    }
    assert.ok(seen.length >= 2 * 27);
    const afterB = await snapshot(adminB);
    assert.deepEqual(afterB, beforeB, "org B's data changed");
    // session.denied events are committed by the recorder after the 400 reply (group commit, not
    // awaited by a refusal): wait for them, then check nothing else was written.
    let newA = [];
    await h.poll(async () => {
      const afterA = await snapshot(adminA);
      newA = afterA.audit.filter((e) => !beforeA.audit.some((x) => x.id === e.id)).map((e) => e.action);
      return newA.filter((a) => a === 'session.denied').length >= callers.length;
    });
    // Only the sign-in and the audit of the refused token request (session.denied) are new in org A.
    assert.deepEqual(newA.filter((a) => a !== 'console.signed_in' && a !== 'session.denied'), [], 'refused cross-org requests wrote audit events in org A');
    assert.equal(newA.filter((a) => a === 'session.denied').length, callers.length, 'each refused token request is audited once');
  });

  it('console sign-in: cookie HttpOnly + SameSite=Strict + Path=/, /auth/session mirrors it, logout ends the session', async () => {
    const res = await login(base, A.users.owner.email, PASSWORD);
    assert.equal(res.status, 200, `sign-in: ${res.status} ${res.text}`);
    const c = consoleCookie(res);
    assert.ok(c, 'no console cookie');
    assert.match(c.header, /;\s*HttpOnly/i, `no HttpOnly: ${c.header}`);
    assert.match(c.header, /;\s*SameSite=Strict/i, `no SameSite=Strict: ${c.header}`);
    assert.match(c.header, /;\s*Path=\/(;|$)/i, `no Path=/: ${c.header}`);
    assert.doesNotMatch(c.header, /;\s*Secure/i, 'Secure on an http base URL (cookie would never be sent back)');
    const maxAge = /Max-Age=(\d+)/i.exec(c.header);
    if (maxAge) assert.ok(Number(maxAge[1]) > 3600 && Number(maxAge[1]) <= 43200, `Max-Age ${maxAge[1]}: want 12 hours at most`);
    const data = res.json.data;
    assert.deepEqual(Object.keys(data).sort(), ['csrf_token', 'org', 'user']);
    assert.deepEqual(data.user, { id: A.users.owner.id, email: A.users.owner.email, name: A.users.owner.name, role: 'owner', org_id: A.orgId });
    assert.deepEqual(data.org, { id: A.orgId, name: A.orgName });
    assert.ok(!res.text.includes(c.value), 'the cookie value is in the body');
    assert.ok(!w.server.logs().includes(c.value), 'the cookie value is in the server log');
    assert.ok(!w.server.logs().includes(data.csrf_token), 'the CSRF token is in the server log');
    assert.ok(!w.server.logs().includes(PASSWORD), 'the password is in the server log');

    const sess = await authSession(base, c.value);
    assert.equal(sess.status, 200, sess.text);
    assert.deepEqual(sess.json.data, data, 'GET /api/v1/auth/session differs from the sign-in reply');
    const none = await authSession(base, null);
    assert.equal(none.status, 401);
    assertErrorShape(none, 'GET /auth/session without cookie');

    const lo = await h.httpRequest(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: `${COOKIE}=${c.value}`, 'x-csrf-token': data.csrf_token, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(lo.status, 200, `logout: ${lo.status} ${lo.text}`);
    const cleared = consoleCookie(lo);
    assert.ok(cleared && cleared.value === '' && /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(cleared.header), `logout does not clear the cookie: ${cleared && cleared.header}`);
    const gone = await authSession(base, c.value);
    assert.equal(gone.status, 401, `the session endpoint after logout: ${gone.status} ${gone.text}`);
    const ended = new Admin(base, A.orgId, { cookie: c.value, csrf: data.csrf_token }, 'ended session');
    await ended.fails('GET', '/groups', undefined, 401);
    await ended.fails('POST', '/groups', { name: 'after logout' }, 401);

    // Wrong password and unknown email: the same 401.
    const wrong = await login(base, A.users.developer.email, 'wrong password!!');
    const unknown = await login(base, 'nobody@a-corp.example', 'wrong password!!');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.json.error_description, unknown.json.error_description, 'a wrong password and an unknown email are told apart');
    assert.equal(consoleCookie(wrong), null, 'a failed sign-in set a cookie');
    const bad = await h.httpRequest(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":1}' });
    assert.equal(bad.status, 400);
  });

  it('a password reset (tessera user passwd) ends every console session of that user; the old password no longer signs in', async () => {
    const NEW_PASSWORD = 'a brand new passphrase';
    const u = addUser(w.env, A.orgId, 'reset.me@a-corp.example', 'admin', 'Reset Me', PASSWORD);
    // A CLI change reaches the server through its change-log poll; probed without spending sign-in attempts.
    await eventually(async () => {
      const t = await h.postToken(base, A.embedToken, { email: u.email, isSuperblocksUser: true });
      return { ok: t.status === 200, detail: `${t.status} ${t.text}` };
    }, 'a user added with the CLI is not known to the server');
    const s1 = await signIn(base, u.email);
    const s2 = await signIn(base, u.email);
    const other = await signIn(base, A.users.owner.email);

    // Refusals change nothing: unknown email, a too-short password, no password at all.
    for (const [args, input, why] of [[['Nobody@A-corp.example'], `${NEW_PASSWORD}\n`, 'an unknown email'], [[u.email], 'short\n', 'a short password'], [[u.email], '', 'no input']]) {
      const r = h.cli(w.env, 'user', 'passwd', '--org', A.orgId, ...args, { input });
      assert.notEqual(r.code, 0, `user passwd with ${why} succeeded`);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(NEW_PASSWORD), `user passwd with ${why} echoes the password`);
    }
    assert.equal((await authSession(base, s1.cookie)).status, 200, 'a refused reset ended a session');

    const r = h.cli(w.env, 'user', 'passwd', '--org', A.orgId, 'Reset.Me@A-Corp.example', { input: `${NEW_PASSWORD}\n` });
    assert.equal(r.code, 0, `user passwd: ${r.stderr}`);
    assert.equal(r.stdout.trim(), u.id);
    assert.ok(!`${r.stdout}${r.stderr}${w.server.logs()}`.includes(NEW_PASSWORD), 'the new password was printed or logged');
    for (const [what, s] of [['first', s1], ['second', s2]]) {
      const after = await authSession(base, s.cookie);
      assert.equal(after.status, 401, `the ${what} console session survived the reset: ${after.status} ${after.text}`);
    }
    assert.equal((await authSession(base, other.cookie)).status, 200, "another user's session ended with the reset");
    // Sign-in checks the password the store holds now, so the reset applies at once.
    assert.equal((await login(base, u.email, PASSWORD)).status, 401, 'the old password still signs in');
    await signIn(base, u.email, NEW_PASSWORD);
    const audit = await adminA.ok('GET', '/audit?action=user.password_set');
    assert.ok(audit.some((e) => e.target === u.id && e.actor === 'cli'), `no user.password_set audit event: ${JSON.stringify(audit)}`);
  });

  it('bodies over the limits: an upload over 16 MiB and other bodies over 64 KiB are 413 and write nothing', async () => {
    const before = await snapshot(adminA);
    // 64 KiB on a normal route.
    const big = JSON.stringify({ name: 'x'.repeat(70 * 1024) });
    const r1 = await adminA.call('POST', '/groups', big);
    assert.equal(r1.status, 413, `POST /groups with 70 KiB: ${r1.status} ${r1.text.slice(0, 200)}`);
    assertErrorShape(r1, 'POST /groups 70 KiB');
    const r2 = await adminA.call('PATCH', `/applications/${A.appId}`, JSON.stringify({ name: 'y', pad: 'z'.repeat(65 * 1024) }));
    assert.equal(r2.status, 413, `PATCH /applications with 65 KiB: ${r2.status}`);
    // An upload between 64 KiB and 16 MiB is fine ...
    const mid = Buffer.alloc(1024 * 1024, 'a');
    const okUp = await adminA.ok('POST', `/applications/${A.appId}/versions`, { files: [{ path: 'index.html', content_base64: Buffer.from('<p>big</p>').toString('base64') }, { path: 'pad.txt', content_base64: mid.toString('base64') }] }, 201);
    assert.equal(okUp.bytes, mid.length + '<p>big</p>'.length);
    const mid2 = await snapshot(adminA);
    // ... one over 16 MiB is not (sent raw: the server may answer before reading it all).
    const pad = 'A'.repeat(16 * 1024 * 1024 + 1024);
    const body = `{"files":[{"path":"index.html","content_base64":"${pad}"}]}`;
    const { host, port } = new URL(base);
    const head = `POST ${orgPath(A.orgId)}/applications/${A.appId}/versions HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${A.adminToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    const r3 = await headFirst(base, head, body);
    assert.equal(r3.status, 413, `an upload of ${Buffer.byteLength(body)} bytes: ${r3.status} ${r3.text.slice(0, 200)}`);
    assert.ok(port);
    const after = await snapshot(adminA);
    assert.deepEqual(after, mid2, 'a refused upload changed something');
    assert.equal(after.apps.find((a) => a.id === A.appId).latest_version, before.apps.find((a) => a.id === A.appId).latest_version + 1);
  });
});

describe('console sign-in throttling', { timeout: 60000 }, () => {
  let w;
  before(async () => {
    w = await startWorld();
  });
  after(async () => {
    if (w) await w.close();
  });

  it('5 failed sign-ins for one email: the 6th attempt (even with the right password) is 429 with Retry-After; other emails still sign in', async () => {
    const { base, A } = w;
    const email = A.users.owner.email;
    for (let i = 1; i <= 5; i++) {
      const r = await login(base, email, `wrong password #${i}`);
      assert.equal(r.status, 401, `failure ${i}: ${r.status} ${r.text}`);
    }
    for (const pw of ['wrong password #6', PASSWORD]) {
      const r = await login(base, email, pw);
      assert.equal(r.status, 429, `attempt after 5 failures (${pw === PASSWORD ? 'right' : 'wrong'} password): ${r.status} ${r.text}`);
      assertErrorShape(r, 'throttled sign-in');
      const ra = r.headers.get('retry-after');
      assert.match(ra || '', /^\d+$/, `Retry-After: ${ra}`);
      assert.ok(Number(ra) >= 1 && Number(ra) <= 900, `Retry-After ${ra} s (window is 15 minutes)`);
      assert.equal(consoleCookie(r), null, 'a throttled sign-in set a cookie');
    }
    // Case does not get around it.
    assert.equal((await login(base, email.toUpperCase(), PASSWORD)).status, 429, 'the upper-case email is not throttled');
    // Another account from the same client is not locked out.
    const other = await login(base, A.users.developer.email, PASSWORD);
    assert.equal(other.status, 200, `another email after 5 failures of one: ${other.status} ${other.text}`);
  });
});

describe('console sign-in throttling per client address', { timeout: 60000 }, () => {
  let w;
  before(async () => {
    w = await startWorld();
  });
  after(async () => {
    if (w) await w.close();
  });

  it('20 failed sign-ins from one address (different emails): the next one is 429 with Retry-After, even for a right password', async () => {
    const { base, A } = w;
    for (let i = 1; i <= 20; i++) {
      const r = await login(base, `guess${i}@a-corp.example`, 'wrong password!!');
      assert.equal(r.status, 401, `failure ${i}: ${r.status} ${r.text}`);
    }
    const r = await login(base, A.users.owner.email, PASSWORD);
    assert.equal(r.status, 429, `a sign-in after 20 failures from this address: ${r.status} ${r.text}`);
    assert.match(r.headers.get('retry-after') || '', /^\d+$/, 'Retry-After');
    assert.equal(consoleCookie(r), null, 'a throttled sign-in set a cookie');
  });
});
