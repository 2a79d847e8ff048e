'use strict';
// nginx in front of three nodes (issue 7, docs/OPERATIONS.md): a real nginx runs the documented
// docs/ops/nginx.conf, changed only where a test must (see generateConfig), in front of three
// `tessera serve` nodes on one PostgreSQL database, started with --trust-proxy 127.0.0.1.
// Checked through nginx: issuance and /me; requests spread over the nodes; the client address in
// the audit log is the client's (not nginx's, not one the client wrote into X-Forwarded-For);
// body limits equal to Tessera's (JSON 413 beyond); the embed's long poll held its 25 s and ended
// by a revocation taken by another node; a node stopped with SIGTERM drained without a failed
// request (a rolling upgrade); a SIGKILLed node routed around (no failed request later than a
// second after the kill); no token in nginx's access log.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const h = require('./harness');
const c = require('./cluster');

const DOC_CONF = path.join(__dirname, '..', '..', 'docs', 'ops', 'nginx.conf');
const CLIENT_ADDR = '127.0.0.2'; // the test's client address: not nginx's (127.0.0.1)
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p)) || 'nginx';

// docs/ops/nginx.conf with, and only with:
//   - the upstream's server lines replaced by the nodes (keeping the documented parameters);
//   - the HTTP->HTTPS redirect server dropped and the TLS server listening on 127.0.0.1:port in
//     plain HTTP (its ssl_* lines dropped): the test has no certificate;
//   - pid (given with -g), error_log and access_log in the temp dir, and the temp paths of
//     nginx too: Debian's nginx has /var/lib/nginx/... compiled in, which only root can create;
//   - the user directive dropped when the test does not run as root (it only means something to a
//     master process running as root, and nginx warns about it otherwise). As root it stays, and
//     the workers run as www-data: the temp dir is then made traversable (0755) for them.
//     (worker_rlimit_nofile stays: as a user whose hard limit is lower, nginx logs an [alert] that
//     it could not raise it, and runs.)
// Every replacement must match, so the test fails if the documented file changes shape.
function generateConfig(doc, { dir, port, nodes }) {
  let conf = doc;
  const sub = (re, to, what) => {
    assert.ok(re.test(conf), `docs/ops/nginx.conf no longer has ${what}`);
    conf = conf.replace(re, to);
  };
  const serverLines = /^(\s*)server\s+10\.0\.0\.\d+:8080(\s[^;]*)?;\n/gm;
  const found = [...doc.matchAll(serverLines)];
  assert.equal(found.length, 3, 'docs/ops/nginx.conf: the upstream no longer lists three example nodes');
  const [, indent, params = ''] = found[0];
  conf = conf.replace(serverLines, '');
  sub(/(upstream tessera \{\n(?:\s*#.*\n)*)/, `$1${nodes.map((n) => `${indent}server ${n}${params};\n`).join('')}`, 'the upstream block');
  sub(/\n    # Plain HTTP only redirects to HTTPS\.\n    server \{[\s\S]*?\n    \}\n/, '\n', 'the redirect server');
  sub(/^\s*listen 443 ssl http2;\n/m, `        listen 127.0.0.1:${port};\n`, 'listen 443');
  sub(/^\s*listen \[::\]:443 ssl http2;\n/m, '', 'listen [::]:443');
  sub(/^\s*ssl_[a-z_]+ [^;]*;\n/gm, '', 'the ssl_ directives');
  sub(/^pid [^;]*;\n/m, '', 'pid');
  sub(/^error_log [^;]*;/m, `error_log ${dir}/error.log warn;`, 'error_log');
  sub(/^(\s*)access_log [^;]*;/m, `$1access_log ${dir}/access.log;\n` +
    ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `$1${t}_temp_path ${dir}/${t}_temp;`).join('\n'), 'access_log');
  if (process.getuid() === 0) fs.chmodSync(dir, 0o755);
  else sub(/^user [^;]*;\n/m, '', 'user');
  return conf;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// An HTTP request from a chosen local address (fetch cannot bind one).
function requestFrom(localAddress, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('nginx (docs/ops/nginx.conf) in front of three nodes', { timeout: 120000 }, () => {
  let pg;
  let env;
  let S;
  let loadToken;
  let dir;
  let base; // nginx: http://127.0.0.1:port
  let nginx;
  let nginxExit;
  const nodes = [];
  const everyNode = []; // every node process started (their logs are checked for secrets)
  let longPoll; // a watch started in the first case, checked after its 25 s

  const tokenBody = (email) => JSON.stringify({ email });
  const errorLog = () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
  const perNode = async (route, status = '200') => Promise.all(nodes.map(async (n) => (n.exitInfo ? null
    : c.metric(await c.scrape(n.url), 'tessera_http_requests_total', { route, status }))));

  before(async () => {
    ({ pg, env } = await c.pgEnv());
    S = h.seed(env, { orgName: 'Behind nginx' });
    loadToken = h.cliJson(env, 'token', 'create', '--org', S.orgId, '--name', 'load', '--rate-limit', 'off').token;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 3; i++) nodes.push(await c.startNode(env, base, ['--trust-proxy', '127.0.0.1']));
    everyNode.push(...nodes);
    dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'tessera-nginx-'));
    const conf = generateConfig(fs.readFileSync(DOC_CONF, 'utf8'), { dir, port, nodes: nodes.map((n) => new URL(n.url).host) });
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    const t = spawnSync(NGINX, ['-t', '-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', path.join(dir, 'error.log'), '-g', `pid ${dir}/nginx.pid;`], { encoding: 'utf8' });
    assert.equal(t.status, 0, `nginx -t refused the generated configuration:\n${t.stderr}\n${conf}`);
    // -e: the log for the messages before the configuration is read (Debian's default is under /var/log).
    nginx = spawn(NGINX, ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', path.join(dir, 'error.log'), '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    nginx.stderr.on('data', (d) => (out += d));
    nginx.stdout.on('data', (d) => (out += d));
    nginxExit = new Promise((resolve) => nginx.on('exit', (code, signal) => resolve({ code, signal, out })));
    const up = await h.poll(async () => {
      if (nginx.exitCode !== null) return false;
      try {
        return (await fetch(`${base}/readyz`)).status === 200;
      } catch {
        return false;
      }
    }, { timeoutMs: 10000, intervalMs: 50 });
    assert.ok(up.ok, `nginx did not serve /readyz within 10 s: ${out}`);
  });

  after(async () => {
    try {
      if (nginx && nginx.exitCode === null) {
        nginx.kill('SIGQUIT'); // graceful shutdown
        let timer;
        const r = await Promise.race([nginxExit, new Promise((resolve) => (timer = setTimeout(resolve, 10000, null)))]);
        clearTimeout(timer);
        assert.ok(r, 'nginx did not stop within 10 s of SIGQUIT');
      }
      for (const n of nodes) if (!n.exitInfo) await n.stop();
    } finally {
      if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL');
      for (const n of everyNode) await n.kill();
      if (pg) await pg.stop();
      if (env) env.cleanup();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('issues and verifies sessions through nginx; requests are spread over every node', async (t) => {
    const before = await perNode('/api/v1/public/token');
    const tokens = [];
    for (let i = 0; i < 30; i++) tokens.push((await h.issue(base, S.embedToken, { email: `spread${i}@host.example` })).accessToken);
    for (const tok of tokens.slice(0, 6)) {
      const r = await h.me(base, tok);
      assert.equal(r.status, 200, r.text);
      assert.equal(h.jwtParts(tok).payload.iss, base);
    }
    const counts = (await perNode('/api/v1/public/token')).map((n, i) => n - before[i]);
    t.diagnostic(`30 token requests through nginx per node: ${counts.join(', ')}`);
    assert.equal(counts.reduce((a, b) => a + b, 0), 30);
    counts.forEach((n, i) => assert.ok(n >= 5, `node ${i + 1} got ${n} of 30 requests: not spread (${counts})`));
    // The embed's long poll, checked after its 25 s (case "long poll"): started now to overlap.
    const s = await h.issue(base, S.embedToken, { email: 'long.poll@host.example' });
    const t0 = performance.now();
    longPoll = h.httpRequest(`${base}/api/v1/embed/watch`, { method: 'POST', headers: { authorization: `Bearer ${s.accessToken}` } })
      .then((r) => ({ ...r, ms: performance.now() - t0 }));
  });

  it('the client address Tessera records is the client\'s, not nginx\'s nor one the client made up', async () => {
    const r = await requestFrom(CLIENT_ADDR, `${base}/api/v1/public/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${S.embedToken}`, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
      body: tokenBody('from.client@host.example'),
    });
    assert.equal(r.status, 200, r.text);
    h.noteSecret(r.json.access_token);
    const jti = h.jwtParts(r.json.access_token).payload.jti;
    const ev = await h.poll(() => h.auditEvents(env, S.orgId).find((e) => e.action === 'session.issued' && e.target === jti), { timeoutMs: 2000, intervalMs: 100 });
    assert.ok(ev.ok, 'no session.issued event');
    assert.equal(ev.value.client, CLIENT_ADDR, `the audit event's client is ${ev.value.client}`);
  });

  it('body limits are Tessera\'s: 64 KiB (a JSON 413 beyond), 16 MiB for bundle uploads', async () => {
    const auth = { authorization: `Bearer ${S.embedToken}`, 'content-type': 'application/json' };
    // Just under 64 KiB passes nginx and reaches Tessera (which refuses the oversized metadata itself).
    const pad = (n) => JSON.stringify({ email: 'big@host.example', metadata: { pad: 'x'.repeat(n) } });
    const under = await h.httpRequest(`${base}/api/v1/public/token`, { method: 'POST', headers: auth, body: pad(65536 - 60) });
    assert.equal(under.status, 400, `a 64 KiB body through nginx: ${under.status} ${under.text}`);
    assert.equal(under.json.error, 'invalid_request');
    const over = await h.httpRequest(`${base}/api/v1/public/token`, { method: 'POST', headers: auth, body: pad(70000) });
    assert.equal(over.status, 413, over.text);
    assert.equal(over.json.error, 'request_too_large', `nginx's 413 is not Tessera's JSON: ${over.text}`);
    // A 1 MiB bundle upload goes through.
    const big = Buffer.alloc(1024 * 1024, 'a').toString('base64');
    const up = await h.httpRequest(`${base}/api/v1/organizations/${S.orgId}/applications/${S.app.id}/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${S.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ files: [{ path: 'index.html', content_base64: Buffer.from('<!doctype html><p>hi').toString('base64') }, { path: 'big.bin', content_base64: big }] }),
    });
    assert.equal(up.status, 201, `a 1.4 MB upload through nginx: ${up.status} ${up.text.slice(0, 300)}`);
  });

  it('the embed\'s long poll: held its 25 s through nginx; a revocation on any node ends another', async () => {
    const s = await h.issue(base, S.embedToken, { email: 'watched@host.example' });
    const t0 = performance.now();
    const watch = h.httpRequest(`${base}/api/v1/embed/watch`, { method: 'POST', headers: { authorization: `Bearer ${s.accessToken}` } });
    await h.sleep(300);
    const rv = await h.httpRequest(`${base}/api/v1/public/sessions/revoke`, {
      method: 'POST', headers: { authorization: `Bearer ${S.embedToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ jti: s.claims.jti }),
    });
    assert.equal(rv.status, 200, rv.text);
    const ended = await watch;
    const ms = performance.now() - t0;
    assert.equal(ended.status, 401, ended.text);
    assert.equal(ended.json.code, 'revoked', ended.text);
    assert.ok(ms < 2300, `the watch ended ${ms.toFixed(0)} ms after it started (revocation after 300 ms)`);
    const held = await longPoll;
    assert.equal(held.status, 200, `the 25 s long poll through nginx: ${held.status} ${held.text}`);
    assert.deepEqual(held.json, { data: { status: 'ok' } });
    assert.ok(held.ms >= 24000, `the long poll answered after ${held.ms.toFixed(0)} ms`);
  });

  it('a node stopped with SIGTERM (a rolling upgrade) exits cleanly and no request fails; restarted, it takes requests again', async (t) => {
    const draining = nodes[2];
    let stoppedAt = null;
    let stopError = null;
    const { results } = await c.load({
      concurrency: 6,
      durationMs: 2500,
      request: () => c.tokenRequest(base, loadToken, { email: 'rolling@host.example' }),
      at: [{ ms: 800, fn: async (ms) => {
        stoppedAt = ms;
        try {
          await draining.stop(); // SIGTERM; requires exit 0 and no sanitizer report
        } catch (e) {
          stopError = e;
        }
      } }],
    });
    const failed = results.filter((r) => r.status !== 200);
    t.diagnostic(`${results.length} requests through nginx while node 3 stopped (SIGTERM at ${stoppedAt.toFixed(0)} ms); failed: ${failed.map((r) => `${r.status || r.error}@${r.start.toFixed(0)}ms`).join(' ') || 'none'}`);
    // The node comes back on its address, whatever happened, and nginx sends it requests again once
    // its fail_timeout (5 s) is over: the next cases have three nodes.
    nodes[2] = await c.startNode(env, base, ['--trust-proxy', '127.0.0.1', '--listen', new URL(draining.url).host]);
    everyNode.push(nodes[2]);
    const back = await h.poll(async () => {
      await h.issue(base, S.embedToken, { email: 'back@host.example' });
      return (await perNode('/api/v1/public/token'))[2] > 0;
    }, { timeoutMs: 8000, intervalMs: 100 });
    assert.equal(stopError, null, `node 3 did not stop cleanly on SIGTERM under load: ${stopError && stopError.message.slice(0, 1500)}`);
    assert.deepEqual(failed.map((r) => `${r.status || r.error} at ${r.start.toFixed(0)} ms`), [],
      `requests failed while a node was stopped gracefully; nginx's error log:\n${errorLog().slice(-2000)}`);
    assert.ok(back.ok, 'the restarted node 3 got no request through nginx within 8 s');
  });

  it('a SIGKILLed node is routed around: no failed request later than a second after the kill', async (t) => {
    let killedAt = null;
    const before = await perNode('/api/v1/public/token');
    const { results } = await c.load({
      concurrency: 6,
      durationMs: 3500,
      request: () => c.tokenRequest(base, loadToken, { email: 'through.nginx@host.example' }),
      at: [{ ms: 1000, fn: async (ms) => { killedAt = ms; await nodes[1].kill(); } }],
    });
    const failed = results.filter((r) => r.status !== 200);
    const late = failed.filter((r) => r.start > killedAt + 1000);
    const after = results.filter((r) => r.start > killedAt + 1000 && r.status === 200);
    t.diagnostic(`${results.length} requests through nginx, ${failed.length} failed (${failed.map((r) => `${r.status || r.error}@${r.start.toFixed(0)}ms`).join(' ')}), node 2 killed at ${killedAt.toFixed(0)} ms`);
    assert.deepEqual(late.map((r) => `${r.status || r.error} at ${r.start.toFixed(0)} ms`), [], 'requests failed more than a second after the kill');
    assert.ok(after.length >= 50, `only ${after.length} requests succeeded after the kill`);
    // The survivors took the load.
    const counts = (await perNode('/api/v1/public/token')).map((n, i) => (n === null ? null : n - before[i]));
    assert.ok(counts[0] > 0 && counts[2] > 0, `token requests per node during the load: ${counts}`);
  });

  it('the access log holds no token', () => {
    const log = fs.readFileSync(path.join(dir, 'access.log'), 'utf8');
    assert.ok(log.split('\n').length > 100, 'the access log is (nearly) empty');
    for (const secret of [S.embedToken, S.adminToken, loadToken]) assert.ok(!log.includes(secret.slice(-24)), 'the nginx access log holds an access token');
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(log), 'the nginx access log holds a JWT');
    const errors = fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
    assert.ok(!/\[(emerg|crit)\]/.test(errors), `nginx error log:\n${errors}`);
  });
});
