'use strict';
// Shared helpers of the black-box security suite (tests/security/README.md).
//
// Every test file builds a World: a fresh temp directory and SQLite database, two organizations
// (A, the victim the attacker aims at or uses, and B, "another organization") seeded with the CLI,
// and the REAL `tessera serve` (TESSERA_BIN) from tests/e2e/harness.js. Each case then
//   1. takes a snapshot of every table of the database (read-only, with the sqlite3 CLI),
//   2. attacks,
//   3. checks the reply: exact status, the JSON error body of docs/API.md, and that neither the
//      body nor the header fields leak a secret, a stack trace, SQL, a file path or the token,
//   4. checks that nothing was written and that the server is still healthy: GET /healthz, then
//      a legitimate token request and GET /api/v1/me with the new session. The token request is
//      also a barrier: the recorder commits in order, so anything the attack queued is in the
//      database once the legitimate session is; the snapshot diff must then hold exactly the
//      legitimate session and its audit event (plus what the case explicitly allows).

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const assert = require('node:assert/strict');
const h = require('../e2e/harness');

const REPO = path.join(__dirname, '..', '..');
const DEMO_APP = path.join(REPO, 'web', 'demo-app');
const PASSWORD = 'correct horse battery staple';
const COOKIE = 'tessera_console';
const HOST_ORIGIN = 'https://host.example';

// ---- secrets and leaks -------------------------------------------------------------------------

const secrets = new Set();

// Remembers a secret for the leak checks of this file (and for the harness's check of the server log).
function secret(value) {
  if (typeof value === 'string' && value.length >= 16) {
    secrets.add(value);
    h.noteSecret(value);
  }
  return value;
}

// The distinctive part of a secret: a JWT's signature, an access token's random part, else itself.
function secretParts(s) {
  const parts = [s];
  if (s.split('.').length === 3) parts.push(s.slice(s.lastIndexOf('.') + 1));
  if (/^ts[ea]_/.test(s)) parts.push(s.slice(4));
  return parts.filter((p) => p.length >= 16);
}

// Things an error reply must never contain: internals of the server.
const INTERNALS = [
  [/\bSELECT\b|\bINSERT\b|\bUPDATE\b.*\bSET\b|\bDELETE FROM\b|sqlite|SQLITE_|syntax error|constraint failed/i, 'SQL'],
  [/\/(tmp|work|home|usr|etc|src|build)\/|[a-z_]+\.c:\d+|\.js:\d+/i, 'a file path'],
  [/stack trace|Traceback|Segmentation|AddressSanitizer|runtime error|assert(ion)? failed|\bat [\w.]+ \(/i, 'a stack trace'],
  [/-----BEGIN|"d"\s*:/, 'key material'],
];

function headerEntries(res) {
  if (!res.headers) return [];
  if (typeof res.headers.entries === 'function') return [...res.headers.entries()];
  return Object.entries(res.headers);
}

// The reply (body and every header field) holds no secret of this file, none of `extra` (e.g. the
// forged token that was sent), and nothing of the server's internals.
function assertNoLeak(res, { extra = [], what = 'reply' } = {}) {
  const text = res.text !== undefined ? res.text : res.body ? res.body.toString('latin1') : '';
  const hdrs = headerEntries(res)
    .filter(([k]) => !['date', 'x-request-id'].includes(k.toLowerCase()))
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const all = [...secrets, ...extra.filter((s) => typeof s === 'string' && s.length >= 16)];
  for (const s of all) {
    for (const part of secretParts(s)) {
      assert.ok(!text.includes(part), `${what}: the body echoes a secret (${s.slice(0, 10)}...): ${text.slice(0, 300)}`);
      assert.ok(!hdrs.includes(part), `${what}: a header field echoes a secret (${s.slice(0, 10)}...)`);
    }
  }
  for (const [re, name] of INTERNALS) {
    assert.ok(!re.test(text), `${what}: the body reveals ${name}: ${text.slice(0, 300)}`);
    assert.ok(!re.test(hdrs), `${what}: a header field reveals ${name}: ${hdrs.slice(0, 300)}`);
  }
}

function header(res, name) {
  if (!res.headers) return null;
  if (typeof res.headers.get === 'function') return res.headers.get(name);
  return res.headers[name.toLowerCase()] ?? null;
}

const CODES = {
  400: 'invalid_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  413: 'request_too_large', 415: 'unsupported_media_type', 429: 'rate_limited', 431: 'request_header_fields_too_large',
};

// An error reply of docs/API.md: exact status, JSON {error, error_description} (plus `code` on the
// embed endpoints), the error code of the status, WWW-Authenticate on 401, no caching of a
// credential-bearing reply, and no leak. Returns the body.
function assertError(res, status, { code, embedCode, extra = [], what } = {}) {
  const label = what || `${status} reply`;
  assert.equal(res.status, status, `${label}: expected ${status}, got ${res.status}: ${String(res.text).slice(0, 400)}`);
  assert.match(header(res, 'content-type') || '', /^application\/json\b/, `${label}: not JSON`);
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `${label}: body is not a JSON object: ${res.text}`);
  const keys = embedCode ? ['code', 'error', 'error_description'] : ['error', 'error_description'];
  assert.deepEqual(Object.keys(res.json).sort(), keys, `${label}: body fields ${JSON.stringify(res.json)}`);
  assert.equal(res.json.error, code || CODES[status], `${label}: error code`);
  assert.equal(typeof res.json.error_description, 'string');
  assert.ok(res.json.error_description.trim().length > 0, `${label}: empty error_description`);
  if (embedCode) assert.equal(res.json.code, embedCode, `${label}: embed code`);
  if (status === 401) assert.equal(header(res, 'www-authenticate'), 'Bearer error="invalid_token"', `${label}: WWW-Authenticate`);
  assert.equal(header(res, 'set-cookie'), null, `${label}: an error reply sets a cookie`);
  assert.equal(header(res, 'access-control-allow-credentials'), null, `${label}: Access-Control-Allow-Credentials`);
  assertNoLeak(res, { extra, what: label });
  return res.json;
}

// ---- the database, read-only ----------------------------------------------------------------------

// Rows of `query` (an array of objects) from the world's SQLite database, opened read-only.
function sql(env, query) {
  const r = spawnSync('sqlite3', ['-readonly', '-json', env.dbPath, query], { encoding: 'utf8', timeout: 20000, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
  const out = r.stdout.trim();
  return out ? JSON.parse(out) : [];
}

// Columns that change without anyone changing anything: coalesced last-use times of tokens.
const VOLATILE = { access_tokens: ['last_used_at'] };
// Tables of housekeeping (the expiry sweep's progress).
const SKIP_TABLES = new Set(['sweeps', 'sqlite_sequence']);

function schemaOf(env) {
  if (!env._schema) {
    const cols = sql(env, "SELECT m.name AS t, p.name AS c, p.type AS ty FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid");
    const tables = new Map();
    for (const { t, c, ty } of cols) {
      if (SKIP_TABLES.has(t) || t.startsWith('sqlite_')) continue;
      if (!tables.has(t)) tables.set(t, []);
      if ((VOLATILE[t] || []).includes(c)) continue;
      // Blobs by length and hash, so a snapshot stays small.
      tables.get(t).push(/BLOB/i.test(ty) ? `length("${c}") || ':' || hex(substr("${c}", 1, 16))` : `"${c}"`);
    }
    env._schema = tables;
  }
  return env._schema;
}

// Every row of every table: {table: Map(rowid -> JSON text of the row)}.
function snapshot(env) {
  const tables = schemaOf(env);
  const parts = [...tables].map(([t, cols]) => `SELECT '${t}' AS t, (SELECT json_group_array(json_array(rowid, ${cols.join(', ')})) FROM (SELECT rowid, * FROM "${t}" ORDER BY rowid)) AS rows`);
  const out = {};
  for (const { t, rows } of sql(env, parts.join(' UNION ALL '))) {
    const m = new Map();
    for (const row of JSON.parse(rows)) m.set(row[0], JSON.stringify(row.slice(1)));
    out[t] = m;
  }
  return out;
}

// What changed between two snapshots: [{table, kind: added|removed|changed, row}].
function diff(before, after) {
  const changes = [];
  for (const t of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[t] || new Map();
    const b = after[t] || new Map();
    for (const [id, row] of b) {
      if (!a.has(id)) changes.push({ table: t, kind: 'added', row: JSON.parse(row) });
      else if (a.get(id) !== row) changes.push({ table: t, kind: 'changed', row: JSON.parse(row), was: JSON.parse(a.get(id)) });
    }
    for (const [id, row] of a) if (!b.has(id)) changes.push({ table: t, kind: 'removed', row: JSON.parse(row) });
  }
  return changes;
}

// ---- forging tokens ---------------------------------------------------------------------------------

const b64u = (x) => Buffer.from(typeof x === 'string' ? x : x).toString('base64url');
const enc = (x) => (typeof x === 'string' ? b64u(x) : b64u(JSON.stringify(x)));
// P-256's group order n, big-endian.
const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');

// header.payload.signature from parts: objects are JSON-encoded, strings are raw JSON text,
// a Buffer signature is base64url-encoded, a string signature is used as it is.
function compact(hdr, payload, sig = '') {
  return `${enc(hdr)}.${enc(payload)}.${Buffer.isBuffer(sig) ? b64u(sig) : sig}`;
}

function decode(token) {
  const [hs, ps, ss] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(hs, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(ps, 'base64url').toString('utf8')),
    segs: [hs, ps, ss],
  };
}

function hs256(secretKey, hdr, payload) {
  const input = `${enc(hdr)}.${enc(payload)}`;
  return `${input}.${b64u(crypto.createHmac('sha256', secretKey).update(input).digest())}`;
}

// ES256 over header.payload with a KeyObject; r || s.
function es256(privateKey, hdr, payload) {
  const input = `${enc(hdr)}.${enc(payload)}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(sig)}`;
}

// The server's own signing key, as an insider with the database AND the master key file would have
// it: the sealed private JWK (AES-256-GCM, nonce || ciphertext || tag, kid as associated data).
// With it the claim checks are tested behind a valid signature. {kid, privateKey, publicJwk}.
function serverKey(env, { state = 'active' } = {}) {
  const master = Buffer.from(fs.readFileSync(env.keyFile, 'utf8').trim(), 'hex');
  const [row] = sql(env, `SELECT kid, hex(sealed_private) AS sealed, public_jwk FROM signing_keys WHERE state = '${state}'`);
  assert.ok(row, `no ${state} signing key in the database`);
  const box = Buffer.from(row.sealed, 'hex');
  const d = crypto.createDecipheriv('aes-256-gcm', master, box.subarray(0, 12));
  d.setAAD(Buffer.from(row.kid));
  d.setAuthTag(box.subarray(box.length - 16));
  const jwk = JSON.parse(Buffer.concat([d.update(box.subarray(12, box.length - 16)), d.final()]).toString('utf8'));
  return { kid: row.kid, privateKey: crypto.createPrivateKey({ key: jwk, format: 'jwk' }), publicJwk: JSON.parse(row.public_jwk) };
}

// ---- a local listener that must never be contacted ---------------------------------------------------

// A TCP listener that counts connections (an HTTP server on it would be fetched by a server
// following jku/x5u/iss): {url, port, hits, close()}.
async function canary() {
  const c = { hits: 0, lines: [] };
  const srv = net.createServer((sock) => {
    c.hits++;
    sock.once('data', (d) => c.lines.push(d.toString('latin1').split('\r\n')[0]));
    sock.on('error', () => {});
    setTimeout(() => sock.destroy(), 50);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  c.port = srv.address().port;
  c.url = `http://127.0.0.1:${c.port}`;
  c.close = () => new Promise((resolve) => srv.close(() => resolve()));
  return c;
}

// ---- raw HTTP ------------------------------------------------------------------------------------------

// Writes `data` on a fresh connection and collects every response until the server closes the
// connection or `quietMs` pass without more data. {responses: [parsed], closed, raw}.
function exchange(base, data, { quietMs = 1500, head = false } = {}) {
  const u = new URL(base);
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    let buf = Buffer.alloc(0);
    let closed = false;
    let timer;
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      const responses = [];
      let rest = buf;
      for (;;) {
        let r = null;
        try {
          r = h.parseResponse(rest, { head, closed });
        } catch {
          r = null;
        }
        if (!r) break;
        r.text = r.body.toString('utf8');
        try {
          r.json = JSON.parse(r.text);
        } catch {
          r.json = undefined;
        }
        responses.push(r);
        rest = rest.subarray(r.bytes);
        if (!rest.length) break;
      }
      resolve({ responses, closed, raw: buf.toString('latin1') });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    sock.on('connect', () => {
      for (const p of Array.isArray(data) ? data : [data]) sock.write(p);
      arm();
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      arm();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      finish();
    });
  });
}

// ---- the world ----------------------------------------------------------------------------------------

function addUser(env, orgId, email, role, password) {
  const args = ['user', 'add', '--org', orgId, email, '--role', role, '--name', email.split('@')[0]];
  if (password) args.push('--password-stdin', { input: `${password}\n` });
  return { ...h.cliJson(env, ...args), email, role };
}

// One organization: an Embed and an admin token, a group granting apps:view on a deployed sso
// app (allowed origin https://host.example), a group without grants, an owner and a developer with
// passwords, and an end user.
function seedOrg(env, key) {
  const K = key.toUpperCase();
  const dom = `${key}-corp.example`;
  const org = h.cliJson(env, 'org', 'create', `Org ${K}`);
  const embed = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', `embed-${key}`);
  const admin = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', `admin-${key}`, '--type', 'admin');
  const viewers = h.cliJson(env, 'group', 'create', '--org', org.id, `Viewers ${K}`);
  const others = h.cliJson(env, 'group', 'create', '--org', org.id, `Others ${K}`);
  const app = h.cliJson(env, 'app', 'create', '--org', org.id, `Dashboard ${K}`, '--mode', 'sso', '--allow-origin', HOST_ORIGIN);
  const hidden = h.cliJson(env, 'app', 'create', '--org', org.id, `Payroll ${K}`, '--mode', 'sso', '--allow-origin', HOST_ORIGIN);
  for (const a of [app, hidden]) {
    const r = h.cli(env, 'app', 'deploy', '--org', org.id, a.id, DEMO_APP);
    assert.equal(r.code, 0, `app deploy: ${r.stderr}`);
  }
  const g = h.cli(env, 'group', 'grant', '--org', org.id, viewers.id, app.id, '--permission', 'apps:view');
  assert.equal(g.code, 0, `group grant: ${g.stderr}`);
  const users = {
    owner: addUser(env, org.id, `owner@${dom}`, 'owner', PASSWORD),
    developer: addUser(env, org.id, `dev@${dom}`, 'developer', PASSWORD),
    member: addUser(env, org.id, `member@${dom}`, 'end-user', null),
  };
  const m = h.cli(env, 'group', 'add-member', '--org', org.id, viewers.id, users.member.email);
  assert.equal(m.code, 0, `group add-member: ${m.stderr}`);
  secret(embed.token);
  secret(admin.token);
  return {
    key,
    orgId: org.id,
    orgName: `Org ${K}`,
    dom,
    embedToken: embed.token,
    embedTokenId: embed.id,
    adminToken: admin.token,
    adminTokenId: admin.id,
    viewers,
    others,
    app,
    hidden,
    users,
  };
}

class World {
  static async start({ serverArgs = [], orgs = ['a', 'b'] } = {}) {
    if (!fs.existsSync(h.BIN)) throw new Error(`tessera binary not found at ${h.BIN}: build it and set TESSERA_BIN`);
    const w = new World();
    w.env = h.makeEnv();
    try {
      for (const k of orgs) w[k.toUpperCase()] = seedOrg(w.env, k);
      w.server = await h.startServer(w.env, serverArgs);
      w.url = w.server.url;
      w.probes = 0;
      // A live session of org A that sees its app (for "a legitimate request still works").
      w.good = await w.issue(w.A, { email: 'good.user@customer.example', name: 'Good User', groupIds: [w.A.viewers.id] });
    } catch (e) {
      await w.close({ quiet: true });
      throw e;
    }
    return w;
  }

  // A session token of org o (asserts 200). Secret noted.
  async issue(o, body) {
    const res = await h.postToken(this.url, o.embedToken, body);
    assert.equal(res.status, 200, `token request: ${res.status} ${res.text}`);
    return secret(res.json.access_token);
  }

  me(token, headers = {}) {
    return h.httpRequest(`${this.url}/api/v1/me`, { headers: token === null ? headers : { authorization: `Bearer ${token}`, ...headers } });
  }

  // POST /api/v1/embed/session, as the embed page asks (token optional).
  embedSession(token, appId, body) {
    const headers = { 'content-type': 'application/json' };
    if (token !== null && token !== undefined) headers.authorization = `Bearer ${token}`;
    return h.httpRequest(`${this.url}/api/v1/embed/session`, { method: 'POST', headers, body: body || JSON.stringify({ app_id: appId || this.A.app.id }) });
  }

  admin(o, method, p, body, { token, orgId, headers = {} } = {}) {
    const hdrs = { authorization: `Bearer ${token || o.adminToken}`, ...headers };
    if (body !== undefined) hdrs['content-type'] = 'application/json';
    return h.httpRequest(`${this.url}/api/v1/organizations/${orgId || o.orgId}${p}`, { method, headers: hdrs, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  }

  snapshot() {
    return snapshot(this.env);
  }

  // GET /healthz, a legitimate token request and /me with its session: all must work. Returns the
  // probe session's jti.
  async assertHealthy() {
    const hz = await h.httpRequest(`${this.url}/healthz`);
    assert.equal(hz.status, 200, `GET /healthz after the attack: ${hz.status} ${hz.text}`);
    assert.deepEqual(hz.json, { status: 'ok' });
    const email = `probe-${++this.probes}@health.example`;
    const res = await h.postToken(this.url, this.A.embedToken, { email, groupIds: [this.A.viewers.id] });
    assert.equal(res.status, 200, `a legitimate token request after the attack: ${res.status} ${res.text}`);
    const token = secret(res.json.access_token);
    const me = await this.me(token);
    assert.equal(me.status, 200, `GET /api/v1/me with a fresh session after the attack: ${me.status} ${me.text}`);
    assert.equal(me.json.data.user.email, email);
    const old = await this.me(this.good);
    assert.equal(old.status, 200, `the session issued before the attack no longer works: ${old.status} ${old.text}`);
    return { jti: me.json.data.session_id, email };
  }

  // The attack wrote nothing (beyond `allow`: [{table, kind, match(row) -> bool, count}], e.g. the
  // session.denied audit event of a refused token request), and the server is healthy.
  async assertSafe(before, { allow = [] } = {}) {
    const probe = await this.assertHealthy();
    const changes = diff(before, this.snapshot());
    const rest = changes.filter((c) => {
      const text = JSON.stringify(c.row);
      // The probe's own session and its session.issued event.
      if (c.kind === 'added' && c.table === 'sessions' && text.includes(probe.jti)) return false;
      if (c.kind === 'added' && c.table === 'audit_events' && text.includes(probe.jti) && text.includes('session.issued')) return false;
      return true;
    });
    const unexplained = [];
    const used = allow.map(() => 0);
    for (const c of rest) {
      const i = allow.findIndex((a, k) => a.table === c.table && (a.kind || 'added') === c.kind && (!a.match || a.match(c.row)) && used[k] < (a.count ?? Infinity));
      if (i >= 0) used[i]++;
      else unexplained.push(c);
    }
    assert.deepEqual(unexplained, [], 'the attack wrote to the database');
    allow.forEach((a, k) => {
      if (a.exact !== undefined) assert.equal(used[k], a.exact, `expected ${a.exact} ${a.kind || 'added'} row(s) in ${a.table}, found ${used[k]}`);
    });
    return changes;
  }

  // One case: snapshot, run() the attack, check(reply), then assertSafe (nothing written beyond
  // `allow`, server healthy). Returns the reply.
  async attack(run, check, { allow = [] } = {}) {
    const before = this.snapshot();
    const res = await run();
    await check(res);
    await this.assertSafe(before, { allow });
    return res;
  }

  async close({ quiet = false } = {}) {
    try {
      if (this.server && !quiet) await this.server.stop();
    } finally {
      if (this.server) await this.server.kill().catch(() => {});
      if (this.env) this.env.cleanup();
    }
  }
}

// The audit rows a refused token request may leave: one session.denied of the token's org.
const DENIED = (orgId, exact = 1) => ({ table: 'audit_events', match: (r) => r.includes('session.denied') && r.includes(orgId), exact });

// ---- console sessions -----------------------------------------------------------------------------------

async function consoleLogin(base, email, password = PASSWORD, headers = {}) {
  const res = await h.httpRequest(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(res.status, 200, `console sign-in of ${email}: ${res.status} ${res.text}`);
  const set = res.headers.get('set-cookie') || '';
  const m = new RegExp(`${COOKIE}=([^;]*)`).exec(set);
  assert.ok(m && m[1], `no console cookie: ${set}`);
  secret(m[1]);
  secret(res.json.data.csrf_token);
  return { cookie: m[1], csrf: res.json.data.csrf_token, setCookie: set, data: res.json.data };
}

// The routes of src/api/routes.c: [{method, pattern}].
function routesFromSource() {
  const text = fs.readFileSync(path.join(REPO, 'src', 'api', 'routes.c'), 'utf8');
  const defs = {};
  for (const m of text.matchAll(/#define (\w+) "([^"]+)"/g)) defs[m[1]] = m[2];
  const out = [];
  for (const m of text.matchAll(/\{"([A-Z]+)",\s*((?:\w+\s*)?"[^"]*"(?:\s*\w+)?|\w+)\s*,\s*\(const void \*\)/g)) {
    // A macro alone (ORG), or a literal after an optional macro (ORG "/groups").
    const pattern = /^\w+$/.test(m[2]) ? defs[m[2]] : m[2].replace(/(\w+)?\s*"([^"]*)"/, (all, def, lit) => (def ? defs[def] : '') + lit);
    out.push({ method: m[1], pattern });
  }
  return out;
}

const sleep = h.sleep;

module.exports = {
  h,
  REPO,
  DEMO_APP,
  PASSWORD,
  COOKIE,
  HOST_ORIGIN,
  P256_N,
  secret,
  assertNoLeak,
  assertError,
  header,
  sql,
  snapshot,
  diff,
  b64u,
  enc,
  compact,
  decode,
  hs256,
  es256,
  serverKey,
  canary,
  exchange,
  World,
  DENIED,
  addUser,
  consoleLogin,
  routesFromSource,
  sleep,
};
