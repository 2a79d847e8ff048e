'use strict';
// Shared helpers for Tessera's black-box end-to-end tests.
//
// Every test file builds its own environment (temp dir, SQLite db, master key
// file), runs the REAL `tessera` binary (env TESSERA_BIN) through the CLI and
// `tessera serve`, and talks to it over HTTP (fetch) or raw TCP (net.Socket).

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const assert = require('node:assert/strict');

const BIN = process.env.TESSERA_BIN || path.join(__dirname, '..', '..', 'build', 'test', 'tessera');
const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|ThreadSanitizer/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertNoSanitizer(text, what) {
  const m = SANITIZER_RE.exec(text || '');
  if (m) {
    const start = Math.max(0, m.index - 200);
    assert.fail(`sanitizer report in ${what}:\n${text.slice(start, start + 4000)}`);
  }
}

// ---- environment ----------------------------------------------------------

function makeEnv() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-e2e-'));
  const dbPath = path.join(dir, 'tessera.db');
  const keyFile = path.join(dir, 'master.key');
  const vars = { ...process.env };
  delete vars.TESSERA_MASTER_KEY;
  vars.TESSERA_DB = `sqlite:${dbPath}`;
  vars.TESSERA_MASTER_KEY_FILE = keyFile;
  return {
    dir,
    dbPath,
    dbUrl: `sqlite:${dbPath}`,
    keyFile,
    vars,
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- CLI ------------------------------------------------------------------

// Runs `tessera ...args` synchronously. Options may be given as a last
// argument object: {input} (stdin text), {env} (extra env vars).
function cli(env, ...args) {
  let opts = {};
  if (args.length && typeof args[args.length - 1] === 'object') opts = args.pop();
  const r = spawnSync(BIN, args.map(String), {
    env: { ...env.vars, ...(opts.env || {}) },
    encoding: 'utf8',
    input: opts.input,
    timeout: 30000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  assertNoSanitizer(r.stderr, `stderr of 'tessera ${args.join(' ')}'`);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// ---- secrets: every one a test makes or uses is checked against every server log ----
//
// The harness notes each secret that passes through it (access tokens from the CLI and the admin
// API, session tokens, webhook secrets, Bearer values sent) and, when a server stops or is killed,
// asserts that its whole log (stderr and stdout) contains none of them. So every test file that
// starts a server greps that server's log for every secret of the file.
const secrets = new Set();
const SECRET_FIELDS = ['token', 'key', 'access_token', 'secret', 'client_secret', 'password'];

function noteSecret(value) {
  if (typeof value === 'string' && value.length >= 20) secrets.add(value);
}

function noteSecretsIn(json) {
  if (!json || typeof json !== 'object') return;
  const obj = json.data && typeof json.data === 'object' ? json.data : json;
  for (const f of SECRET_FIELDS) noteSecret(obj[f]);
}

function assertNoSecretIn(text, what) {
  for (const secret of secrets) {
    // The distinctive part: a JWT's signature, an access token's random part.
    const part = secret.includes('.') ? secret.slice(secret.lastIndexOf('.') + 1) : secret.slice(-24);
    if (part.length >= 16 && text.includes(part)) assert.fail(`${what} contains a secret (${secret.slice(0, 8)}...)`);
  }
}

function cliJson(env, ...args) {
  let opts = null;
  if (args.length && typeof args[args.length - 1] === 'object') opts = args.pop();
  const full = [...args, '--json'];
  if (opts) full.push(opts);
  const r = cli(env, ...full);
  assert.equal(r.code, 0, `'tessera ${args.join(' ')} --json' exited ${r.code}: ${r.stderr}`);
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch (e) {
    assert.fail(`'tessera ${args.join(' ')} --json' printed non-JSON: ${JSON.stringify(r.stdout)}`);
  }
  noteSecretsIn(out);
  return out;
}

function auditEvents(env, org) {
  return cliJson(env, 'audit', '--org', org).data;
}

// ---- server ---------------------------------------------------------------

const live = new Set();
const byOrigin = new Map(); // server origin -> server (for failure reports)
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});

// Running every server under a tool (scripts/valgrind-blackbox): TESSERA_WRAPPER is a command line
// split on spaces (e.g. "valgrind --log-file=/tmp/vg.%p.log"); each `tessera serve` is spawned as
// that command with the binary and its arguments appended (CLI calls are not wrapped).
// TESSERA_TIMEOUT_SCALE (a number, default 1) multiplies the start-up and stop deadlines below.
const WRAPPER = (process.env.TESSERA_WRAPPER || '').split(' ').filter(Boolean);
const TIMEOUT_SCALE = Math.max(1, Number(process.env.TESSERA_TIMEOUT_SCALE) || 1);

function startServer(env, extraArgs = [], { timeoutMs: startTimeout = 10000 } = {}) {
  const timeoutMs = startTimeout * TIMEOUT_SCALE;
  const argv = [BIN, 'serve', '--listen', '127.0.0.1:0', ...extraArgs];
  const proc = spawn(WRAPPER.length ? WRAPPER[0] : BIN, WRAPPER.length ? [...WRAPPER.slice(1), ...argv] : argv.slice(1), {
    env: env.vars,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let stderr = '';
  let stdout = '';
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  // 'close' fires after stdio is drained: use it to read the complete log.
  const closed = new Promise((resolve) => proc.on('close', resolve));
  let exitInfo = null;
  exited.then((x) => (exitInfo = x));

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`tessera serve did not print 'listening on' within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        proc.stderr.off('data', onData);
        resolve(m[1].replace(/\/+$/, ''));
      }
    };
    proc.stderr.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr}`));
    });
  });

  let stopping = null;
  const server = {
    proc,
    url: null,
    logs: () => stderr,
    stdout: () => stdout,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    // SIGTERM, wait, and require a clean exit (code 0, no sanitizer report).
    stop({ timeoutMs: stopDeadline = 20000 } = {}) {
      const stopTimeout = stopDeadline * TIMEOUT_SCALE;
      if (!stopping) {
        stopping = (async () => {
          if (!exitInfo) {
            proc.kill('SIGTERM');
          }
          let timer;
          const res = await Promise.race([
            exited,
            new Promise((r) => (timer = setTimeout(() => r(null), stopTimeout))),
          ]);
          clearTimeout(timer);
          if (res === null) {
            proc.kill('SIGKILL');
            await exited;
            assert.fail(`tessera serve did not exit within ${stopTimeout} ms of SIGTERM; stderr:\n${stderr}`);
          }
          await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
          assertNoSanitizer(stderr, 'tessera serve stderr');
          assertNoSecretIn(stderr + stdout, 'the tessera serve log');
          assert.equal(res.signal, null, `tessera serve was killed by ${res.signal}; stderr:\n${stderr}`);
          assert.equal(res.code, 0, `tessera serve exited with ${res.code}; stderr:\n${stderr}`);
          return res;
        })();
      }
      return stopping;
    },
    // Cleanup without the exit checks (for hooks after a failure); the log must still hold no secret.
    async kill() {
      if (!exitInfo) proc.kill('SIGKILL');
      await exited;
      assertNoSecretIn(stderr + stdout, 'the tessera serve log');
      return exitInfo;
    },
  };
  return ready.then(
    (url) => {
      server.url = url;
      byOrigin.set(new URL(url).origin, server);
      return server;
    },
    (err) => {
      proc.kill('SIGKILL');
      throw err;
    },
  );
}

// ---- seed data --------------------------------------------------------------

function seed(env, { orgName = 'Acme E2E', userEmail = 'ada.admin@acme.example' } = {}) {
  const org = cliJson(env, 'org', 'create', orgName);
  const embed = cliJson(env, 'token', 'create', '--org', org.id, '--name', 'embed-main');
  const admin = cliJson(env, 'token', 'create', '--org', org.id, '--name', 'admin-main', '--type', 'admin');
  const group1 = cliJson(env, 'group', 'create', '--org', org.id, 'Engineering');
  const group2 = cliJson(env, 'group', 'create', '--org', org.id, 'Support');
  const app = cliJson(env, 'app', 'create', '--org', org.id, 'Dashboard', '--mode', 'sso', '--allow-origin', 'https://host.example');
  const user = cliJson(env, 'user', 'add', '--org', org.id, userEmail, '--role', 'admin', '--name', 'Ada Admin');
  cliJson(env, 'group', 'add-member', '--org', org.id, group1.id, userEmail);
  return {
    org,
    orgId: org.id,
    embed,
    embedToken: embed.token,
    embedId: embed.id,
    admin,
    adminToken: admin.token,
    group1,
    group2,
    app,
    user,
    userEmail,
  };
}

// ---- HTTP (fetch) -----------------------------------------------------------

// A failed fetch names the server's state and the end of its log.
async function describeFailure(url, err) {
  const origin = new URL(url).origin;
  const server = byOrigin.get(origin);
  let note = '';
  if (server) {
    await Promise.race([server.exited, sleep(300)]);
    const x = server.exitInfo;
    note = x ? ` — tessera serve has EXITED (code ${x.code}, signal ${x.signal})` : ' — tessera serve is still running';
    note += `; end of its stderr:\n${server.logs().slice(-1500)}`;
  }
  const e = new Error(`${err.message} (${err.cause ? err.cause.code || err.cause.message : 'no cause'}) for ${url}${note}`);
  e.cause = err;
  return e;
}

async function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'authorization' && typeof v === 'string') noteSecret(v.replace(/^Bearer\s+/i, ''));
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body, redirect: 'manual' });
  } catch (err) {
    throw await describeFailure(url, err);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  noteSecretsIn(json);
  return { status: res.status, headers: res.headers, text, json };
}

// POST /api/v1/public/token. body: object (JSON-encoded) or string (sent raw).
function postToken(base, token, body, { headers = {}, contentType = 'application/json' } = {}) {
  const h = {};
  if (token !== undefined && token !== null) h.authorization = `Bearer ${token}`;
  if (contentType !== null) h['content-type'] = contentType;
  Object.assign(h, headers);
  const payload = typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array ? body : JSON.stringify(body);
  return httpRequest(`${base}/api/v1/public/token`, { method: 'POST', headers: h, body: payload });
}

// Issues a session token (asserts 200) and returns {accessToken, claims, header, raw, res}.
async function issue(base, token, body) {
  const res = await postToken(base, token, body);
  assert.equal(res.status, 200, `token request failed: ${res.status} ${res.text}`);
  const parts = jwtParts(res.json.access_token);
  return { accessToken: res.json.access_token, claims: parts.payload, header: parts.header, payloadRaw: parts.payloadRaw, res };
}

function me(base, sessionToken) {
  const headers = {};
  if (sessionToken !== undefined && sessionToken !== null) headers.authorization = `Bearer ${sessionToken}`;
  return httpRequest(`${base}/api/v1/me`, { headers });
}

// ---- JWT helpers ------------------------------------------------------------

function b64urlDecode(s) {
  return Buffer.from(s, 'base64url');
}

function b64urlEncode(bufOrString) {
  return Buffer.from(bufOrString).toString('base64url');
}

function jwtParts(token) {
  const segs = token.split('.');
  assert.equal(segs.length, 3, `not a compact JWS: ${token.slice(0, 40)}...`);
  const headerRaw = b64urlDecode(segs[0]).toString('utf8');
  const payloadRaw = b64urlDecode(segs[1]).toString('utf8');
  return { header: JSON.parse(headerRaw), payload: JSON.parse(payloadRaw), headerRaw, payloadRaw, segs };
}

// ---- raw TCP ----------------------------------------------------------------

function hostPort(base) {
  const u = new URL(base);
  return { host: u.hostname, port: Number(u.port) };
}

// Parses one HTTP/1.1 response from buf. Returns null if incomplete, else
// {status, reason, headers (lower-case names), body (Buffer), bytes (consumed)}.
// closed: the peer has closed (a body without length ends there).
function parseResponse(buf, { head = false, closed = false } = {}) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const headText = buf.subarray(0, end).toString('latin1');
  const lines = headText.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
  }
  const status = Number(m[1]);
  let pos = end + 4;
  const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) return { status, reason: m[2] || '', headers, body: Buffer.alloc(0), bytes: pos };
  if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const chunks = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return null;
      const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
      pos = le + 2;
      if (size === 0) {
        const te = buf.indexOf('\r\n', pos);
        if (te < 0) return null;
        pos = te + 2;
        break;
      }
      if (buf.length < pos + size + 2) return null;
      chunks.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
    return { status, reason: m[2] || '', headers, body: Buffer.concat(chunks), bytes: pos };
  }
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < pos + n) return null;
    return { status, reason: m[2] || '', headers, body: buf.subarray(pos, pos + n), bytes: pos + n };
  }
  if (!closed) return null;
  return { status, reason: m[2] || '', headers, body: buf.subarray(pos), bytes: buf.length };
}

function withJson(r) {
  if (!r) return r;
  r.text = r.body.toString('utf8');
  try {
    r.json = JSON.parse(r.text);
  } catch {
    r.json = undefined;
  }
  return r;
}

// Sends raw bytes on a fresh connection and resolves with the first response
// (parsed as soon as it is complete, or at close). Data written in pieces:
// pass an array of Buffers/strings. Rejects if the connection ends without a
// complete response.
function rawRequest(base, data, { timeoutMs = 10000, head = false } = {}) {
  const { host, port } = hostPort(base);
  const pieces = Array.isArray(data) ? data : [data];
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err, res) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(withJson(res));
    };
    const timer = setTimeout(() => finish(new Error(`no complete response within ${timeoutMs} ms; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`)), timeoutMs);
    sock.on('connect', () => {
      for (const p of pieces) {
        if (!sock.writable) break;
        sock.write(p, () => {});
      }
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      try {
        const r = parseResponse(buf, { head });
        if (r) finish(null, r);
      } catch (e) {
        finish(e);
      }
    });
    const onEnd = (err) => {
      if (done) return;
      try {
        const r = buf.length ? parseResponse(buf, { head, closed: true }) : null;
        if (r) return finish(null, r);
      } catch (e) {
        return finish(e);
      }
      finish(new Error(`connection ended without a response (${err ? err.code || err.message : 'closed'}); got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
    };
    sock.on('error', (err) => onEnd(err));
    sock.on('end', () => onEnd(null));
    sock.on('close', () => onEnd(null));
  });
}

// One keep-alive connection; request() sends one request and waits for its
// response (sequential use only).
class RawConnection {
  constructor(base) {
    this.base = base;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
    this.closed = false;
    this.error = null;
  }

  connect() {
    const { host, port } = hostPort(this.base);
    return new Promise((resolve, reject) => {
      this.sock = net.connect({ host, port }, resolve);
      this.sock.once('error', reject);
      this.sock.on('data', (d) => {
        this.buf = Buffer.concat([this.buf, d]);
        this._check();
      });
      this.sock.on('error', (e) => {
        this.error = e;
        this.closed = true;
        this._check();
      });
      this.sock.on('close', () => {
        this.closed = true;
        this._check();
      });
    });
  }

  _check() {
    if (!this.waiter) return;
    let r;
    try {
      r = parseResponse(this.buf, { head: this.waiter.head, closed: this.closed });
    } catch (e) {
      const w = this.waiter;
      this.waiter = null;
      return w.reject(e);
    }
    if (r) {
      this.buf = this.buf.subarray(r.bytes);
      const w = this.waiter;
      this.waiter = null;
      clearTimeout(w.timer);
      return w.resolve(withJson(r));
    }
    if (this.closed) {
      const w = this.waiter;
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(new Error(`connection closed before a complete response (${this.error ? this.error.code : 'closed'})`));
    }
  }

  request(text, { head = false, timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { resolve, reject, head, timer };
      if (this.closed) return this._check();
      this.sock.write(text);
      this._check();
    });
  }

  close() {
    if (this.sock) this.sock.destroy();
  }
}

// ---- misc -----------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls fn until it returns a truthy value or timeoutMs passes.
// Resolves {ok, value, elapsed}.
async function poll(fn, { timeoutMs = 1500, intervalMs = 50 } = {}) {
  const start = Date.now();
  let value;
  for (;;) {
    value = await fn();
    const elapsed = Date.now() - start;
    if (value) return { ok: true, value, elapsed };
    if (elapsed >= timeoutMs) return { ok: false, value, elapsed };
    await sleep(intervalMs);
  }
}

function randomUuid() {
  return require('node:crypto').randomUUID();
}

module.exports = {
  noteSecret,
  BIN,
  UUID_RE,
  SANITIZER_RE,
  assertNoSanitizer,
  makeEnv,
  cli,
  cliJson,
  auditEvents,
  startServer,
  seed,
  httpRequest,
  postToken,
  issue,
  me,
  jwtParts,
  b64urlDecode,
  b64urlEncode,
  parseResponse,
  rawRequest,
  RawConnection,
  sleep,
  poll,
  randomUuid,
};
