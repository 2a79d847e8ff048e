'use strict';
// The server process: graceful shutdown, restart on the same database, keys
// at rest, the master key file, request limits, keep-alive, HEAD and JWKS.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const jose = require('jose');
const h = require('./harness');

// Every file of the SQLite database (main file, WAL, journal) as one latin1 string.
function dbBytes(env) {
  return fs
    .readdirSync(env.dir)
    .filter((f) => f.startsWith(path.basename(env.dbPath)))
    .map((f) => fs.readFileSync(path.join(env.dir, f)).toString('latin1'))
    .join('\n');
}

describe('graceful shutdown', () => {
  let env;
  let server;

  before(() => {
    env = h.makeEnv();
  });
  after(async () => {
    try {
      if (server) await server.kill();
    } finally {
      env.cleanup();
    }
  });

  it('SIGTERM with 50 token requests in flight: exit 0, and every 200 is in the audit log', async () => {
    const s = h.seed(env);
    server = await h.startServer(env);
    const url = server.url;
    await h.issue(url, s.embedToken, { email: 'warmup@example.com' });

    let signalled = false;
    const sigterm = () => {
      if (!signalled) {
        signalled = true;
        server.proc.kill('SIGTERM');
      }
    };
    const requests = [];
    for (let i = 0; i < 50; i++) {
      requests.push(
        fetch(`${url}/api/v1/public/token`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.embedToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ email: `user${i}@example.com`, metadata: { i } }),
        }).then(
          async (res) => {
            const text = await res.text();
            sigterm(); // the first reply triggers the shutdown: the rest are in flight
            return { status: res.status, text };
          },
          (err) => ({ status: 0, error: err.cause ? err.cause.code || err.cause.message : err.message }),
        ),
      );
    }
    const results = await Promise.all(requests);
    assert.ok(signalled, 'no request completed');
    const stop = await server.stop({ timeoutMs: 15000 });
    assert.equal(stop.code, 0);

    const ok = results.filter((r) => r.status === 200);
    if (process.env.E2E_DEBUG) console.error('shutdown results', JSON.stringify(results.map((r) => r.status || r.error)));
    assert.ok(ok.length >= 1, `no request succeeded: ${JSON.stringify(results.slice(0, 3))}`);
    for (const r of results) {
      if (r.status === 200 || r.status === 0) continue;
      // A refusal during shutdown must still be a proper JSON error.
      assert.equal(r.status, 503, `unexpected reply during shutdown: ${r.status} ${r.text}`);
      assert.equal(typeof JSON.parse(r.text).error, 'string');
    }
    const audited = new Set(h.auditEvents(env, s.orgId).filter((e) => e.action === 'session.issued').map((e) => e.target));
    for (const r of ok) {
      const jti = h.jwtParts(JSON.parse(r.text).access_token).payload.jti;
      assert.ok(audited.has(jti), `session ${jti} was answered 200 but is not in the audit log`);
    }
  });
});

describe('graceful shutdown of half-sent requests', () => {
  it('requests whose headers arrived before SIGTERM are completed and recorded', async () => {
    const env = h.makeEnv();
    let sv;
    const conns = [];
    try {
      const s = h.seed(env);
      sv = await h.startServer(env);
      await h.issue(sv.url, s.embedToken, { email: 'warmup@example.com' });
      const bodies = [];
      for (let i = 0; i < 5; i++) {
        const c = new h.RawConnection(sv.url);
        await c.connect();
        conns.push(c);
        const body = JSON.stringify({ email: `half${i}@example.com`, metadata: { i } });
        bodies.push(body);
        // Headers and half of the body now; the rest after SIGTERM.
        c.sock.write(`POST /api/v1/public/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.embedToken}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      }
      await h.sleep(200);
      sv.proc.kill('SIGTERM');
      await h.sleep(300);
      const replies = await Promise.all(conns.map((c, i) => c.request(bodies[i].slice(10), { timeoutMs: 8000 }).catch((e) => ({ status: 0, text: e.message }))));
      await sv.stop();
      for (const r of replies) assert.equal(r.status, 200, `an in-flight request was not completed: ${r.status} ${r.text}`);
      const audited = new Set(h.auditEvents(env, s.orgId).map((e) => e.target));
      for (const r of replies) assert.ok(audited.has(h.jwtParts(r.json.access_token).payload.jti));
      sv = null;
    } finally {
      for (const c of conns) c.close();
      if (sv) await sv.kill();
      env.cleanup();
    }
  });
});

describe('restart and keys at rest', () => {
  let env;
  let server;

  before(() => {
    env = h.makeEnv();
  });
  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      env.cleanup();
    }
  });

  it('old session tokens still verify after a restart; the private key is not in the db in clear', async () => {
    const s = h.seed(env);
    server = await h.startServer(env);
    const first = await h.issue(server.url, s.embedToken, { email: 'restart@example.com', name: 'Re Start', groupIds: [s.group1.id], metadata: { k: [1, 2] } });
    const jwks1 = (await h.httpRequest(`${server.url}/.well-known/jwks.json`)).json;
    await server.stop();
    const oldUrl = server.url;

    // The db holds no private key in clear, no access token and no session token.
    const bytes = dbBytes(env);
    assert.ok(bytes.length > 0);
    assert.ok(!bytes.includes('"d":'), 'the database contains a JWK private member "d"');
    assert.ok(!bytes.includes('PRIVATE KEY'), 'the database contains a PEM private key');
    assert.ok(!bytes.includes(s.embedToken), 'the database contains an access token value');
    assert.ok(!bytes.includes(s.embedToken.slice(12)), 'the database contains the secret part of an access token');
    assert.ok(!bytes.includes(first.accessToken.split('.')[2]), 'the database contains a session token');
    for (const k of jwks1.keys) assert.ok(bytes.includes(k.kid), 'the key id is not stored');

    // Restart on the same database and (maybe) another port.
    server = await h.startServer(env, ['--base-url', oldUrl]);
    const jwks2 = (await h.httpRequest(`${server.url}/.well-known/jwks.json`)).json;
    assert.deepEqual(jwks2.keys.map((k) => [k.kid, k.x, k.y]), jwks1.keys.map((k) => [k.kid, k.x, k.y]), 'signing keys changed across a restart');
    const m = await h.me(server.url, first.accessToken);
    assert.equal(m.status, 200, m.text);
    assert.equal(m.json.data.session_id, first.claims.jti);
    assert.deepEqual(m.json.data.user.groups, [{ id: s.group1.id, name: 'Engineering' }]);
    // And new sessions are signed with the same key.
    const second = await h.issue(server.url, s.embedToken, { email: 'restart@example.com' });
    assert.equal(second.header.kid, first.header.kid);
    assert.equal(second.claims.sub, first.claims.sub);
    assert.equal(h.cliJson(env, 'keys', 'list').data.length, 1, 'a restart created another key');
  });

  it('a restart without --base-url still publishes the key that signed earlier tokens', async () => {
    const e2 = h.makeEnv();
    let sv;
    try {
      const s = h.seed(e2);
      sv = await h.startServer(e2);
      const t = await h.issue(sv.url, s.embedToken, { email: 'port@example.com' });
      await sv.stop();
      sv = await h.startServer(e2);
      const jwks = jose.createLocalJWKSet((await h.httpRequest(`${sv.url}/.well-known/jwks.json`)).json);
      const { payload } = await jose.jwtVerify(t.accessToken, jwks, { audience: 'tessera:session', algorithms: ['ES256'] });
      assert.equal(payload.jti, t.claims.jti);
      await sv.stop();
      sv = null;
    } finally {
      if (sv) await sv.kill();
      e2.cleanup();
    }
  });
});

describe('master key file', () => {
  it('is created with mode 0600', async () => {
    const env = h.makeEnv();
    let sv;
    try {
      assert.ok(!fs.existsSync(env.keyFile));
      sv = await h.startServer(env);
      const st = fs.statSync(env.keyFile);
      assert.equal(st.mode & 0o777, 0o600, `master key file mode is ${(st.mode & 0o777).toString(8)}`);
      assert.match(fs.readFileSync(env.keyFile, 'utf8'), /^[0-9a-f]{64}\n?$/);
      await sv.stop();
      sv = null;
    } finally {
      if (sv) await sv.kill();
      env.cleanup();
    }
  });

  it('serve with a master key that does not decrypt the signing keys exits 1 with a one-line error', async () => {
    const env = h.makeEnv();
    let sv;
    try {
      sv = await h.startServer(env);
      await sv.stop();
      sv = null;
      fs.writeFileSync(env.keyFile, 'cd'.repeat(32) + '\n');
      fs.chmodSync(env.keyFile, 0o600);
      const r = spawnSync(h.BIN, ['serve', '--listen', '127.0.0.1:0'], { env: env.vars, encoding: 'utf8', timeout: 10000 });
      h.assertNoSanitizer(r.stderr, 'serve stderr');
      assert.equal(r.signal, null, `serve did not exit by itself; stderr: ${r.stderr}`);
      assert.equal(r.status, 1, `serve exited ${r.status}; stderr: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      assert.equal(lines.length, 1, `expected one stderr line: ${JSON.stringify(r.stderr)}`);
      assert.ok(!lines[0].includes('cd'.repeat(32)), 'the error shows the key');
    } finally {
      if (sv) await sv.kill();
      env.cleanup();
    }
  });

  it('a master key file readable by others (0644) makes serve exit 1 with a one-line error', () => {
    const env = h.makeEnv();
    try {
      fs.writeFileSync(env.keyFile, 'ab'.repeat(32) + '\n');
      fs.chmodSync(env.keyFile, 0o644);
      const r = spawnSync(h.BIN, ['serve', '--listen', '127.0.0.1:0'], { env: env.vars, encoding: 'utf8', timeout: 10000 });
      h.assertNoSanitizer(r.stderr, 'serve stderr');
      assert.equal(r.signal, null, `serve did not exit by itself (killed by ${r.signal}); stderr: ${r.stderr}`);
      assert.equal(r.status, 1, `serve exited ${r.status}; stderr: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      assert.equal(lines.length, 1, `expected one stderr line: ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0], /master key|key file|600|permission/i);
      assert.ok(!lines[0].includes('ab'.repeat(32)), 'the error shows the key');
      assert.ok(!/listening on/.test(r.stderr));
    } finally {
      env.cleanup();
    }
  });
});

describe('HTTP limits and protocol', () => {
  let env;
  let server;
  let url;
  let s;

  before(async () => {
    env = h.makeEnv();
    s = h.seed(env);
    server = await h.startServer(env);
    url = server.url;
  });
  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      env.cleanup();
    }
  });

  const alive = async () => {
    const r = await h.httpRequest(`${url}/healthz`);
    assert.equal(r.status, 200, 'the server is not healthy any more');
  };

  it('GET /healthz -> 200', async () => {
    const r = await h.httpRequest(`${url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ok');
  });

  it('a request header over 16 KiB gets a 4xx, and the server lives on', async () => {
    for (const size of [17 * 1024, 40 * 1024, 100 * 1024]) {
      const res = await h.rawRequest(url, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Padding: ${'a'.repeat(size)}\r\n\r\n`);
      assert.ok(res.status >= 400 && res.status < 500, `header of ${size} bytes: got ${res.status}`);
      await alive();
    }
  });

  it('an oversized header on the token endpoint gets a 4xx and no token', async () => {
    const body = '{"email":"big.hdr@example.com"}';
    const res = await h.rawRequest(
      url,
      `POST /api/v1/public/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${s.embedToken}\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(20 * 1024)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.ok(!res.text.includes('access_token'), 'a token was issued');
    assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
    await alive();
  });

  it('errors produced by the HTTP layer are JSON too (431 for a huge header)', async () => {
    const res = await h.rawRequest(url, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Padding: ${'a'.repeat(24 * 1024)}\r\n\r\n`);
    assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
    assert.match(res.headers['content-type'] || '', /^application\/json\b/, `not JSON: ${res.text.slice(0, 200)}`);
    assert.equal(typeof res.json.error, 'string');
    assert.equal(typeof res.json.error_description, 'string');
  });

  it('200 keep-alive requests on one connection', async () => {
    const c = new h.RawConnection(url);
    await c.connect();
    try {
      const body = JSON.stringify({ email: 'keepalive@example.com' });
      const jtis = new Set();
      for (let i = 0; i < 200; i++) {
        let res;
        if (i % 4 === 0) {
          res = await c.request(`POST /api/v1/public/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.embedToken}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          assert.equal(res.status, 200, `request ${i}: ${res.status} ${res.text}`);
          jtis.add(h.jwtParts(res.json.access_token).payload.jti);
        } else if (i % 4 === 1) {
          res = await c.request('GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          assert.equal(res.status, 200, `request ${i}`);
          assert.ok(Array.isArray(res.json.keys));
        } else if (i % 4 === 2) {
          res = await c.request('GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          assert.equal(res.status, 404, `request ${i}`);
        } else {
          res = await c.request('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          assert.equal(res.status, 200, `request ${i}`);
        }
        assert.notEqual((res.headers.connection || '').toLowerCase(), 'close', `server closed the connection at request ${i}`);
      }
      assert.equal(jtis.size, 50);
      assert.ok(!c.closed, 'connection closed');
    } finally {
      c.close();
    }
  });

  it('HEAD /.well-known/jwks.json -> 200 with no body', async () => {
    const c = new h.RawConnection(url);
    await c.connect();
    try {
      const head = await c.request('HEAD /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { head: true });
      assert.equal(head.status, 200);
      assert.match(head.headers['content-type'] || '', /^application\/json\b/);
      // No body bytes follow: the next response on the connection starts right away.
      const next = await c.request('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      assert.equal(next.status, 200);
      assert.equal(next.json.status, 'ok');
    } finally {
      c.close();
    }
    const viaFetch = await h.httpRequest(`${url}/.well-known/jwks.json`, { method: 'HEAD' });
    assert.equal(viaFetch.status, 200);
    assert.equal(viaFetch.text, '');
  });

  it('JWKS: EC P-256 ES256 signing keys with kid and no private part', async () => {
    const res = await h.httpRequest(`${url}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
    assert.ok(Array.isArray(res.json.keys) && res.json.keys.length >= 1);
    assert.ok(!res.text.includes('"d"'), 'JWKS contains a "d" member');
    const kids = new Set();
    for (const k of res.json.keys) {
      assert.equal(k.kty, 'EC');
      assert.equal(k.crv, 'P-256');
      assert.equal(k.alg, 'ES256');
      assert.equal(k.use, 'sig');
      assert.equal(typeof k.kid, 'string');
      assert.ok(k.kid.length > 0);
      assert.ok(!kids.has(k.kid), 'duplicate kid');
      kids.add(k.kid);
      assert.ok(!('d' in k), 'private key member "d" in the JWKS');
      for (const c of ['x', 'y']) assert.match(k[c], /^[A-Za-z0-9_-]{43}$/);
      const key = await jose.importJWK(k, 'ES256');
      assert.equal(key.type, 'public');
    }
    // The key signing the tokens is the one published.
    const t = await h.issue(url, s.embedToken, { email: 'jwks@example.com' });
    assert.ok(kids.has(t.header.kid));
  });

  it('unknown methods and odd targets get JSON errors, and the server lives on', async () => {
    const r1 = await h.rawRequest(url, 'BREW /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.ok(r1.status >= 400 && r1.status < 500, `BREW: ${r1.status}`);
    const r2 = await h.rawRequest(url, 'GET /%00%ff/../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.equal(r2.status, 404);
    const r3 = await h.rawRequest(url, `GET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.ok(r3.status >= 400 && r3.status < 500, `long path: ${r3.status}`);
    await alive();
  });
});
