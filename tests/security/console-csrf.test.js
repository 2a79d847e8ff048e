'use strict';
// CSRF on the console: every change made with the console cookie needs the session's own
// X-CSRF-Token (docs/API.md "Authentication"), the cookie is HttpOnly and SameSite=Strict, no
// CORS grant lets another origin read or write with it, and the console is never framable.
// The last case is the real attack in a real browser (Chromium via playwright-core, launched by
// tests/browser/harness.js): a signed-in owner visits a page of another site that posts a form
// and a fetch() to the admin API; nothing may be written.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const s = require('./lib');
const browserHarness = require('../browser/harness');

describe('console CSRF', { timeout: 150000 }, () => {
  let w;
  let owner; // org A owner's console session {cookie, csrf, setCookie}
  let other; // org B owner's console session
  before(async () => {
    w = await s.World.start();
    owner = await s.consoleLogin(w.url, w.A.users.owner.email);
    other = await s.consoleLogin(w.url, w.B.users.owner.email);
  });
  after(async () => {
    if (w) await w.close();
  });

  const groups = () => `${w.url}/api/v1/organizations/${w.A.orgId}/groups`;
  const withCookie = (extra = {}) => ({ cookie: `${s.COOKIE}=${owner.cookie}`, 'content-type': 'application/json', ...extra });
  const createGroup = (headers, body = JSON.stringify({ name: 'Pwned by CSRF' })) => s.h.httpRequest(groups(), { method: 'POST', headers, body });
  const csrfRefused = (res) => {
    s.assertError(res, 403);
    assert.match(res.json.error_description, /CSRF/);
  };

  it('a change with the cookie but no X-CSRF-Token -> 403', async () => {
    await w.attack(() => createGroup(withCookie()), csrfRefused);
  });

  it('a wrong X-CSRF-Token of the right length, an empty one, and a prefix of the right one -> 403', async () => {
    for (const t of ['A'.repeat(owner.csrf.length), '', owner.csrf.slice(0, -1), `${owner.csrf}A`]) {
      await w.attack(() => createGroup(withCookie({ 'x-csrf-token': t })), csrfRefused);
    }
  });

  it("the CSRF token of another console session (another org's owner) -> 403", async () => {
    await w.attack(() => createGroup(withCookie({ 'x-csrf-token': other.csrf })), csrfRefused);
  });

  it('the CSRF token in the query string or the body instead of the header -> 403', async () => {
    await w.attack(
      () => s.h.httpRequest(`${groups()}?csrf_token=${owner.csrf}&X-CSRF-Token=${owner.csrf}`, { method: 'POST', headers: withCookie(), body: JSON.stringify({ name: 'Pwned', csrf_token: owner.csrf }) }),
      csrfRefused,
    );
  });

  it('DELETE and PATCH without the CSRF token -> 403 (the group and the token survive)', async () => {
    await w.attack(() => s.h.httpRequest(`${groups()}/${w.A.others.id}`, { method: 'DELETE', headers: { cookie: `${s.COOKIE}=${owner.cookie}` } }), csrfRefused);
    await w.attack(() => s.h.httpRequest(`${groups()}/${w.A.others.id}`, { method: 'PATCH', headers: withCookie(), body: '{"name":"renamed"}' }), csrfRefused);
    await w.attack(() => s.h.httpRequest(`${w.url}/api/v1/organizations/${w.A.orgId}/access-tokens/${w.A.embedTokenId}`, { method: 'DELETE', headers: { cookie: `${s.COOKIE}=${owner.cookie}` } }), csrfRefused);
  });

  it('sign-out without the CSRF token -> 403, and the console session stays valid', async () => {
    await w.attack(
      () => s.h.httpRequest(`${w.url}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: `${s.COOKIE}=${owner.cookie}` } }),
      csrfRefused,
    );
    const still = await s.h.httpRequest(`${w.url}/api/v1/auth/session`, { headers: { cookie: `${s.COOKIE}=${owner.cookie}` } });
    assert.equal(still.status, 200);
  });

  it('a cross-site form post (text/plain, Origin of another site) with the cookie -> refused, nothing written', async () => {
    // What <form enctype="text/plain"> sends: a body that happens to be JSON, no custom header.
    await w.attack(
      () => createGroup({ cookie: `${s.COOKIE}=${owner.cookie}`, 'content-type': 'text/plain', origin: 'https://evil.example' }, '{"name":"pwned","x":"="}'),
      csrfRefused,
    );
  });

  it('the console cookie is HttpOnly, SameSite=Strict, Path=/ and grants no CORS access', async () => {
    assert.match(owner.setCookie, /;\s*HttpOnly/i);
    assert.match(owner.setCookie, /;\s*SameSite=Strict/i);
    assert.match(owner.setCookie, /;\s*Path=\//i);
    await w.attack(
      () => s.h.httpRequest(groups(), { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-csrf-token, content-type' } }),
      (res) => {
        assert.ok([404, 405].includes(res.status), `preflight: ${res.status}`);
        assert.equal(s.header(res, 'access-control-allow-origin'), null);
        assert.equal(s.header(res, 'access-control-allow-credentials'), null);
        s.assertNoLeak(res);
      },
    );
    const read = await s.h.httpRequest(groups(), { headers: { cookie: `${s.COOKIE}=${owner.cookie}`, origin: 'https://evil.example' } });
    assert.equal(read.status, 200);
    assert.equal(s.header(read, 'access-control-allow-origin'), null, 'the admin API lets another origin read with the cookie');
  });

  it('a developer with a valid CSRF token still cannot change anything -> 403', async () => {
    const dev = await s.consoleLogin(w.url, w.A.users.developer.email);
    await w.attack(
      () => createGroup(withCookie({ cookie: `${s.COOKIE}=${dev.cookie}`, 'x-csrf-token': dev.csrf })),
      (res) => s.assertError(res, 403),
    );
  });

  it('the console is never framable (X-Frame-Options DENY, frame-ancestors none)', async () => {
    await w.attack(
      () => s.h.httpRequest(`${w.url}/console/`),
      (res) => {
        assert.equal(res.status, 200);
        assert.equal(s.header(res, 'x-frame-options'), 'DENY');
        assert.match(s.header(res, 'content-security-policy') || '', /frame-ancestors 'none'/);
      },
    );
  });

  it('in a real browser: a signed-in owner visiting another site that posts a form and a fetch() to the admin API writes nothing', async () => {
    const browser = await browserHarness.launchBrowser();
    let attacker;
    try {
      const context = await browser.newContext();
      // Sign in the way the console does, in this browser profile (the cookie lands in the context).
      const login = await context.request.post(`${w.url}/api/v1/auth/login`, { data: { email: w.A.users.owner.email, password: s.PASSWORD } });
      assert.equal(login.status(), 200);
      s.secret((await login.json()).data.csrf_token);
      const cookies = await context.cookies(w.url);
      assert.ok(cookies.some((c) => c.name === s.COOKIE), 'the browser has no console cookie');
      cookies.forEach((c) => s.secret(c.value));
      // The attacker's site, on another origin, served by the browser's own request routing.
      const attackerPage = `<!doctype html><body>
        <form id="f" method="POST" enctype="text/plain" action="${groups()}" target="sink">
          <input name='{"name":"Pwned by form","x":"' value='"}'>
        </form>
        <iframe name="sink"></iframe>
        <script>
          window.results = {};
          fetch(${JSON.stringify(groups())}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"name":"Pwned by fetch"}' })
            .then((r) => (window.results.simple = r.status), (e) => (window.results.simple = 'blocked'));
          fetch(${JSON.stringify(groups())}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-csrf-token': 'guess' }, body: '{"name":"Pwned by preflight"}' })
            .then((r) => (window.results.preflighted = r.status), (e) => (window.results.preflighted = 'blocked'));
          document.getElementById('f').submit();
        </script></body>`;
      // A real local server (a page the browser fetched from the network, so its address space is
      // loopback like Tessera's), reached as http://localhost: another site than http://127.0.0.1.
      attacker = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage));
      await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      const seen = [];
      context.on('response', (r) => {
        if (r.url() === groups()) seen.push({ status: r.status(), method: r.request().method() });
      });
      await w.attack(
        async () => {
          const page = await context.newPage();
          await page.goto(`http://localhost:${attacker.address().port}/`);
          const done = await s.h.poll(() => page.evaluate(() => window.results.simple !== undefined && window.results.preflighted !== undefined), { timeoutMs: 10000 });
          assert.ok(done.ok, 'the attacker page never finished');
          await s.h.poll(() => seen.filter((r) => r.method === 'POST').length >= 1, { timeoutMs: 5000 });
          const results = await page.evaluate(() => window.results);
          await page.close();
          return results;
        },
        (results) => {
          // The form post arrives without the cookie (SameSite=Strict): 401. The fetch() calls
          // get no CORS grant, so the page can read nothing (and the snapshot shows that none
          // of them wrote anything).
          const posts = seen.filter((r) => r.method === 'POST');
          assert.ok(posts.length >= 1, 'the form post never reached the server');
          for (const p of posts) assert.equal(p.status, 401, `a cross-site POST got ${p.status}`);
          assert.equal(results.simple, 'blocked', `a cross-site fetch() could read the reply: ${results.simple}`);
          assert.equal(results.preflighted, 'blocked', `a preflighted cross-site call was let through: ${results.preflighted}`);
        },
      );
      await context.close();
    } finally {
      await browser.close();
      if (attacker) attacker.close();
    }
  });
});
