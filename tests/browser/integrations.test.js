'use strict';
// Token-exchange integrations from inside an embedded app, in real Chromium:
//   app (fixtures/integrations-app) --FETCH--> embed page --/api/v1/integrations/<id>/proxy/...-->
//   Tessera --RFC 8693 exchange--> local IdP (tests/e2e/idp.js), then --> local host API (echo)
// with Tessera's own host SDK (pages/host.html?sdk=tessera). The integration id reaches the app
// in the host's properties. Checked: the app gets the host API's answer for the user; the host API
// sees only a token the IdP's token URL issued (never Tessera's session token or the subject
// token); the exchange is cached; a session without a subject token gets 409 as a Response; the
// embed page refuses anything but a checked call of the proxy; anonymous viewers and foreign
// frames get nothing.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./harness');
const { startIdp, startBackend, TOKEN_TYPE_ACCESS } = require('../e2e/idp');

const APP_DIR = path.join(h.FIXTURES, 'integrations-app');
const ADA = { email: 'ada.lovelace@host.example', name: 'Ada Lovelace', sub: 'idp-user-ada' };
const GRACE = { email: 'grace.hopper@host.example', name: 'Grace Hopper', sub: 'idp-user-grace' };
const NOBODY = { email: 'no.subject@host.example', name: 'Nora Nosubject' };

describe('integrations: an embedded app calls the host API on the user\'s behalf', { timeout: 180000 }, () => {
  let browser;
  let host;
  let t;
  let fx;
  let idp;
  let api;
  let publicApp;
  let integrationId;
  let allowed;
  let foreign;
  const secrets = []; // session and subject tokens: none may ever reach the app or the host API

  // A session token from POST /api/v1/public/token; with `subject` a token exchange (the
  // subject token minted by the local IdP for the user).
  async function session(user, { subject = true } = {}) {
    const body = { email: user.email, name: user.name, groupIds: [fx.viewers.id] };
    if (subject) {
      body.subject_token = idp.mint({ sub: user.sub, email: user.email });
      body.subject_token_type = TOKEN_TYPE_ACCESS;
      secrets.push(body.subject_token);
    }
    const res = await h.e2e.postToken(t.base, fx.embedToken, body);
    assert.equal(res.status, 200, `POST /api/v1/public/token: ${res.status} ${res.text}`);
    secrets.push(res.json.access_token);
    return { token: res.json.access_token, subject: body.subject_token || null };
  }

  before(async () => {
    host = await h.startHostServer({ count: 2 });
    [allowed, foreign] = host.origins;
    idp = await startIdp();
    api = await startBackend(idp);
    t = await h.startTessera();
    fx = await h.seedSso(t, { hostOrigins: [allowed], orgName: 'Integrations Org', appName: 'Open Orders', dir: APP_DIR });
    publicApp = h.createApp(t, fx.orgId, { name: 'Public Orders', mode: 'public', origins: [allowed], dir: APP_DIR });

    const admin = t.cliJson('token', 'create', '--org', fx.orgId, '--name', 'integrations-admin', '--type', 'admin');
    t.cliJson('idp', 'add', '--org', fx.orgId, '--issuer', idp.issuer, '--jwks-uri', idp.jwksUri, '--audience', 'api://tessera-test');
    secrets.push(admin.token, fx.embedToken);
    // The running server picks the provider and the admin token up within a second.
    await h.waitForTokenIssue(t.base, fx.embedToken, {
      email: 'probe@host.example',
      subject_token: idp.mint({ email: 'probe@host.example' }),
      subject_token_type: TOKEN_TYPE_ACCESS,
    });
    let res;
    await h.poll(async () => {
      res = await h.e2e.httpRequest(`${t.base}/api/v1/organizations/${fx.orgId}/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Orders API',
          base_url: api.url,
          token_url: idp.tokenUrl,
          client_id: 'tessera-client',
          client_secret: 'tessera-secret',
          audience: api.audience,
          scope: 'orders:read',
        }),
      });
      return res.status !== 401;
    }, { timeoutMs: 5000, intervalMs: 100 });
    assert.equal(res.status, 201, `POST /api/v1/organizations/{org}/integrations: ${res.status} ${res.text}`);
    integrationId = (res.json.data || res.json).id;
    assert.match(integrationId, h.e2e.UUID_RE);
    browser = await h.launchBrowser();
  });

  after(async () => {
    const errors = [];
    for (const step of [
      () => browser && browser.close(),
      () => host && host.close(),
      () => t && t.stop(),
      () => api && api.close(),
      () => idp && idp.close(),
    ]) {
      try {
        await step();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  });

  const open = (fn) => h.withHost(browser, h.hostUrl(allowed, 'host.html', { sdk: 'tessera', base: t.base }), { base: t.base, tessera: t }, fn);
  const proxyPrefix = () => `${t.base}/api/v1/integrations/`;
  const proxyRequests = (hp) => hp.requests.filter((r) => r.url.startsWith(proxyPrefix()));
  const issuedTokens = () => idp.exchangeRequests.filter((r) => r.status === 200).map((r) => r.issuedToken);

  // Mounts the fixture app for `token` (null: none) with the integration id in the properties.
  async function mountApp(hp, token, { app = fx.app, email } = {}) {
    await hp.mount({ src: `${t.base}/embed/applications/${app.id}`, token, properties: { integrationId } });
    await hp.waitForEvent('appLoaded', { what: 'onAppLoaded for the integrations app' });
    await hp.waitForAppText('#integration', integrationId, { what: 'the integration id from the host properties' });
    if (email) await hp.waitForAppText('#user-email', email, { what: 'the user in the app' });
    return hp.appFrame();
  }

  // Clicks the app's button and waits for its n-th result: {status, body (parsed), error, contentType}.
  async function clickCall(hp, n) {
    await hp.app().locator('#call').click();
    await hp.waitForAppText('#calls', String(n), { what: `the app's call #${n}` });
    const status = await hp.appText('#status');
    const text = (await hp.appText('#body')) || '';
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status, body, error: await hp.appText('#error'), contentType: await hp.appText('#content-type') };
  }

  // Nothing the app frame holds (DOM, received messages) contains a secret.
  async function assertNoSecretsIn(frame, what) {
    const dump = await frame.evaluate(() => JSON.stringify(window.seen) + document.documentElement.outerHTML);
    for (const s of secrets) assert.ok(!dump.includes(s), `${what}: the app frame holds a session or subject token`);
  }

  it('the app calls the host API as the user; the host API sees only the exchanged token; the exchange is cached', async () => {
    const { token, subject } = await session(ADA);
    const exchangesBefore = idp.exchanges;
    const requestsBefore = api.requests.length;
    await open(async (hp) => {
      const frame = await mountApp(hp, token, { email: ADA.email });
      const first = await clickCall(hp, 1);
      if (first.status !== '200') await hp.fail(`first call: ${JSON.stringify(first)}`);
      assert.match(first.contentType, /^application\/json/);
      assert.equal(first.body.ok, true);
      assert.equal(first.body.path, '/orders');
      assert.equal(first.body.method, 'POST');
      assert.deepEqual(first.body.query, { status: 'open' });
      assert.deepEqual(first.body.user, { sub: ADA.sub, email: ADA.email });
      assert.deepEqual(first.body.body, { x: 1 });
      await hp.screenshot('integrations-call');

      const second = await clickCall(hp, 2);
      assert.equal(second.status, '200', JSON.stringify(second));
      assert.deepEqual(second.body.user, { sub: ADA.sub, email: ADA.email });
      assert.equal(idp.exchanges - exchangesBefore, 1, 'two calls should need one token exchange (cached)');
      assert.equal(idp.exchanges, 1, 'token exchanges so far');

      // The token URL got the subject token and the client credentials; it issued the token
      // the host API was called with.
      const exchange = idp.exchangeRequests.find((r) => r.status === 200);
      assert.equal(exchange.subjectToken, subject);
      assert.equal(exchange.clientId, 'tessera-client');
      assert.equal(exchange.audience, api.audience);
      assert.equal(exchange.scope, 'orders:read');
      const calls = api.requests.slice(requestsBefore);
      assert.equal(calls.length, 2, `host API requests: ${JSON.stringify(calls.map((c) => c.url))}`);
      for (const c of calls) {
        assert.equal(c.url, '/orders?status=open');
        assert.equal(c.method, 'POST');
        assert.equal(c.status, 200);
        assert.equal(c.headers.authorization, `Bearer ${exchange.issuedToken}`);
        assert.match(c.headers['content-type'] || '', /^application\/json/);
        const seen = JSON.stringify(c.rawHeaders) + c.url + c.body;
        for (const s of secrets) assert.ok(!seen.includes(s), 'the host API received a session or subject token');
        assert.ok(!/cookie/i.test(Object.keys(c.headers).join(' ')), `cookies reached the host API: ${JSON.stringify(c.headers)}`);
      }

      // The browser called only the proxy, twice, for this integration.
      const proxied = proxyRequests(hp);
      assert.deepEqual(
        proxied.map((r) => `${r.method} ${r.url}`),
        [1, 2].map(() => `POST ${t.base}/api/v1/integrations/${integrationId}/proxy/orders?status=open`),
      );
      await assertNoSecretsIn(frame, 'after two calls');
    });
  });

  it('a session without a subject token gets 409 as a Response; after TOKEN_CHANGE the new session is used', async () => {
    const plain = await session(NOBODY, { subject: false });
    const exchangesBefore = idp.exchanges;
    const requestsBefore = api.requests.length;
    await open(async (hp) => {
      await mountApp(hp, plain.token, { email: NOBODY.email });
      const refused = await clickCall(hp, 1);
      if (refused.status !== '409') await hp.fail(`call without a subject token: ${JSON.stringify(refused)}`);
      assert.match(refused.contentType, /^application\/json/);
      assert.equal(typeof refused.body.error, 'string', JSON.stringify(refused.body));
      assert.equal(typeof refused.body.error_description, 'string', JSON.stringify(refused.body));
      assert.equal(refused.error, '', 'a 409 is a Response, not a rejection');
      assert.equal(api.requests.length, requestsBefore, 'the host API was called for a session without a subject token');
      assert.equal(idp.exchanges, exchangesBefore, 'a token exchange for a session without a subject token');
      await hp.screenshot('integrations-409');

      // The host refreshes the token (TOKEN_CHANGE): the next call uses the new session.
      const grace = await session(GRACE);
      await hp.page.evaluate((tk) => {
        window.embed.token = tk;
      }, grace.token);
      await hp.waitForAppText('#user-email', GRACE.email, { what: 'the new user after TOKEN_CHANGE' });
      const ok = await clickCall(hp, 2);
      if (ok.status !== '200') await hp.fail(`call after TOKEN_CHANGE: ${JSON.stringify(ok)}`);
      assert.deepEqual(ok.body.user, { sub: GRACE.sub, email: GRACE.email });
      const last = api.requests[api.requests.length - 1];
      assert.ok(issuedTokens().includes(last.headers.authorization.replace(/^Bearer /, '')), 'the host API got a token the IdP did not issue');
    });
  });

  it('the embed page relays only checked calls of the proxy: no other URL, no credentials from the app', async () => {
    const { token } = await session(ADA);
    await open(async (hp) => {
      const frame = await mountApp(hp, token, { email: ADA.email });
      const requestsBefore = api.requests.length;
      const proxiedBefore = proxyRequests(hp).length;

      // Checked by /sdk/app.js before anything is posted.
      const local = await frame.evaluate((id) => Promise.all([
        window.tryFetch(id, '/orders', { headers: { Authorization: 'Bearer stolen' } }),
        window.tryFetch(id, '/orders', { headers: { Cookie: 'a=b' } }),
        window.tryFetch(id, 'orders'),
        window.tryFetch(id, '/orders', { method: 'TRACE' }),
        window.tryFetch(id, '/orders', { body: 'x' }),
        window.tryFetch(id, '/orders', { method: 'POST', body: new Blob(['x']) }),
      ]), integrationId);
      for (const r of local) assert.deepEqual([r.error, r.code], ['TypeError', 'invalid_request'], JSON.stringify(r));

      // Raw FETCH messages that bypass /sdk/app.js: the embed page refuses them itself.
      const raw = (n, fields) => ({ id: `raw-${n}`, integrationId, path: '/orders', method: 'GET', ...fields });
      const refusals = [
        raw(1, { path: '/../../api/v1/me' }),
        raw(2, { path: '/%2e%2e/%2E%2E/api/v1/me' }),
        raw(3, { path: '/a/%252e%252e/b' }),
        raw(4, { path: '//evil.example/steal' }),
        raw(5, { path: 'https://evil.example/steal' }),
        raw(6, { path: '/a\\..\\..\\me' }),
        raw(7, { path: '/orders%2f..%2f..%2fadmin' }),
        raw(8, { path: '/orders#x' }),
        raw(9, { integrationId: '../../me' }),
        raw(10, { integrationId: `${integrationId}/../../../me` }),
        raw(11, { headers: { authorization: 'Bearer stolen' } }),
        raw(12, { headers: { Cookie: 'session=x' } }),
        raw(13, { headers: { 'x-forwarded-for': '10.0.0.1' } }),
        raw(14, { headers: { accept: 'application/json\r\nAuthorization: Bearer x' } }),
        raw(15, { method: 'TRACE' }),
        raw(16, { method: 'POST', body: { not: 'a string' } }),
        raw(17, { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) }),
        raw(18, { path: `/${'a'.repeat(3000)}` }),
      ];
      const replies = await frame.evaluate((msgs) => Promise.all(msgs.map((m) => window.rawFetch(m))), refusals);
      replies.forEach((r, i) => {
        const want = i === 16 ? 'too_large' : 'invalid_request';
        assert.ok(r && r.error && r.error.code === want, `${JSON.stringify(refusals[i]).slice(0, 200)} -> ${JSON.stringify(r)}`);
        assert.equal(r.response, undefined);
      });
      // A FETCH without a usable id gets no answer at all.
      assert.equal(await frame.evaluate(() => window.rawFetch({ id: 'bad id!', path: '/orders' })), null);

      await h.sleep(300);
      assert.equal(api.requests.length, requestsBefore, `refused calls reached the host API: ${JSON.stringify(api.requests.slice(requestsBefore).map((r) => r.url))}`);
      assert.equal(proxyRequests(hp).length, proxiedBefore, 'refused calls reached Tessera');
      const stray = hp.requests.filter((r) => /evil\.example|\/api\/v1\/me/.test(r.url));
      assert.deepEqual(stray, [], 'the embed page requested a URL the app named');

      // What passes: statuses and bodies of the host API and of Tessera come back as Responses.
      const [get, missing, unknown] = await frame.evaluate((id) => Promise.all([
        window.tryFetch(id, '/orders/7?fields=id%2Cstatus', { headers: new Headers({ Accept: 'application/json' }) }),
        window.tryFetch(id, '/status/404'),
        window.tryFetch('00000000-0000-4000-8000-000000000000', '/orders'),
      ]), integrationId);
      assert.equal(get.status, 200, JSON.stringify(get));
      const echo = JSON.parse(get.body);
      assert.deepEqual([echo.method, echo.path, echo.query], ['GET', '/orders/7', { fields: 'id,status' }]);
      assert.equal(echo.body, null);
      assert.equal(api.requests.find((r) => r.path === '/orders/7').headers.accept, 'application/json');
      assert.equal(missing.status, 404, JSON.stringify(missing));
      assert.deepEqual(JSON.parse(missing.body), { ok: false, status: 404 });
      assert.equal(unknown.status, 404, JSON.stringify(unknown));
      assert.equal(typeof JSON.parse(unknown.body).error, 'string');

      // At most 8 calls in flight per embed page: the rest are refused at once.
      const burst = await frame.evaluate((id) => Promise.all(
        Array.from({ length: 10 }, () => window.tryFetch(id, '/slow?ms=600')),
      ), integrationId);
      const ok = burst.filter((r) => r.status === 200).length;
      const busy = burst.filter((r) => r.code === 'too_many_requests').length;
      assert.deepEqual([ok, busy], [8, 2], JSON.stringify(burst));
      await assertNoSecretsIn(frame, 'after refused and relayed calls');
    });
  });

  it('an anonymous viewer of a public app gets no_session, without a request', async () => {
    await open(async (hp) => {
      const frame = await mountApp(hp, null, { app: publicApp });
      await hp.waitForAppText('#user-email', 'nobody');
      const r = await frame.evaluate((id) => window.tryFetch(id, '/orders'), integrationId);
      assert.deepEqual([r.error, r.code], ['TypeError', 'no_session'], JSON.stringify(r));
      const shown = await clickCall(hp, 1);
      assert.equal(shown.status, 'error');
      assert.match(shown.error, /no_session/);
      assert.deepEqual(proxyRequests(hp), [], 'an anonymous viewer reached the proxy');
    });
  });

  it('a foreign frame can neither make the embed page call the proxy nor answer in its place', async () => {
    const { token } = await session(ADA);
    await open(async (hp) => {
      const frame = await mountApp(hp, token, { email: ADA.email });
      // One call, to learn the shape of the app's request ids (a per-document prefix and a counter).
      const first = await frame.evaluate((id) => window.tryFetch(id, '/orders'), integrationId);
      assert.equal(first.status, 200, JSON.stringify(first));
      const firstId = await frame.evaluate(() => window.seen.map((m) => m.data).find((d) => d && d.type === 'FETCH_RESULT').id);
      const m = /^(.*-)(\d+)$/.exec(firstId);
      assert.ok(m, `request id ${firstId}`);
      const nextId = `${m[1]}${Number(m[2]) + 1}`;
      const requestsBefore = api.requests.length;
      const proxiedBefore = proxyRequests(hp).length;

      // A slow call is pending under nextId while foreign windows post.
      await frame.evaluate((id) => {
        window.slow = window.tryFetch(id, '/slow?ms=1500');
      }, integrationId);
      const fetchMsg = { tessera: 1, type: 'FETCH', id: 'foreign-1', integrationId, path: '/orders?from=foreign', method: 'GET' };
      const forged = { tessera: 1, type: 'FETCH_RESULT', id: nextId, response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"forged":true}' } };
      for (const origin of [foreign, allowed]) {
        await hp.page.evaluate((u) => window.addFrame(u), `${origin}/pages/not-a-page-${origin === foreign ? 'f' : 'a'}`);
      }
      const strangers = hp.page.frames().filter((f) => /\/pages\/not-a-page-/.test(f.url()));
      assert.equal(strangers.length, 2, `frames: ${hp.page.frames().map((f) => f.url()).join(' | ')}`);
      for (const f of strangers) {
        await f.evaluate(([fm, fr]) => {
          const embed = window.parent.frames[0];
          embed.postMessage(fm, '*');
          embed.frames[0].postMessage(fr, '*');
        }, [fetchMsg, forged]);
      }
      // The host page itself (the embed page's parent) is not the app either.
      await hp.page.evaluate((fm) => document.querySelector('#embed-root iframe').contentWindow.postMessage(fm, '*'), fetchMsg);

      const slow = await frame.evaluate(() => window.slow);
      assert.equal(slow.status, 200, JSON.stringify(slow));
      assert.equal(JSON.parse(slow.body).path, '/slow', `the app took a forged result: ${slow.body}`);
      await h.sleep(500);
      const reached = api.requests.slice(requestsBefore).map((r) => r.url);
      assert.deepEqual(reached, ['/slow?ms=1500'], 'a foreign FETCH reached the host API');
      assert.equal(proxyRequests(hp).length, proxiedBefore + 1, 'a foreign FETCH reached the proxy');
      const answered = await frame.evaluate(() => window.seen.filter((x) => x.data && x.data.id === 'foreign-1').length);
      assert.equal(answered, 0, 'the embed page answered a foreign FETCH');
      const warned = hp.logs.some((l) => l.startsWith('[console.warning]') && l.includes(foreign) && /ignored/i.test(l));
      assert.ok(warned, `no console warning naming ${foreign} for the ignored FETCH`);
      await assertNoSecretsIn(frame, 'after foreign messages');
    });
  });
});
