'use strict';
// The embed cases every host SDK must pass, run once per SDK:
//   official-sdk.test.js  -> @superblocksteam/embed 1.2.0 from npm, unchanged
//   tessera-sdk.test.js   -> Tessera's own <base>/sdk/embed.js
// Host page: pages/host.html on http://localhost:<port> (another origin than
// Tessera's http://127.0.0.1:<port>), loading the SDK named by ?sdk=.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const ADMIN = { email: 'ada.admin@customer.example', name: 'Ada Admin', metadata: { isAdmin: true, tenant: 'acme-42', plan: 'gold' } };
const VIEWER = { email: 'vic.viewer@customer.example', name: 'Vic Viewer', metadata: { isAdmin: false, tenant: 'acme-42' } };

// The expired case waits (at most this long after issuing a 1 s session) for
// the server to refuse the token, whatever clock skew it allows, then mounts.
const EXPIRED_WAIT_MS = 80000;

function defineSdkSuite(sdk) {
  const label = sdk === 'official' ? '@superblocksteam/embed 1.2.0 (npm)' : "Tessera's /sdk/embed.js";

  describe(`embed runtime with ${label}`, { timeout: 180000 }, () => {
    let browser;
    let host;
    let t;
    let fx;
    let short = null; // issueShortLivedTokens()

    before(async () => {
      host = await h.startHostServer({ count: 2 });
      t = await h.startTessera();
      fx = await h.seedSso(t, { hostOrigins: [host.origin], orgName: `Browser Org (${sdk})` });
      short = await issueShortLivedTokens(t, fx);
      browser = await h.launchBrowser();
    });

    after(async () => {
      const errors = [];
      for (const step of [() => browser && browser.close(), () => host && host.close(), () => t && t.stop()]) {
        try {
          await step();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length) throw errors[0];
    });

    const url = () => h.hostUrl(host.origin, 'host.html', { sdk, base: t.base });
    const open = (fn) => h.withHost(browser, url(), { base: t.base, tessera: t }, fn);
    const shot = (hp, name) => hp.screenshot(`${sdk}-${name}`);

    // Mounts the demo app for a user and waits for onAppLoaded.
    async function mountLoaded(hp, user, extra = {}) {
      const token = await fx.token({ ...user, ...(extra.tokenBody || {}) });
      await hp.mount({ src: fx.src(), token, properties: extra.properties || { greeting: 'hello from the host' }, colorScheme: extra.colorScheme });
      const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded did not fire' });
      await hp.waitForAppText('#user-email', user.email, { what: 'the user email inside the app frame' });
      return { token, ev };
    }

    it('loads the app for an admin: onAppLoaded, name, email, groups and metadata in the frame, Delete enabled', async () => {
      await open(async (hp) => {
        const { ev } = await mountLoaded(hp, ADMIN);
        assert.deepEqual({ id: ev.data.id, name: ev.data.name }, { id: fx.appId, name: fx.app.name }, 'onAppLoaded data');
        await hp.waitForAppText('#user-name', ADMIN.name);
        await hp.waitForAppText('#user-email', ADMIN.email);
        await hp.waitForAppText('#user-groups', 'Viewers');
        const meta = await hp.waitForAppText('#user-metadata', 'acme-42');
        assert.match(meta, /isAdmin/, `metadata shown in the app: ${meta}`);
        assert.match(meta, /gold/, `metadata shown in the app: ${meta}`);
        await hp.waitForAppText('#properties', 'hello from the host');
        await hp.waitForAppEnabled('#delete', true, { what: 'Delete for metadata.isAdmin: true' });
        // One APP_LOADED, even though the official SDK sends INITIALIZE_EMBED twice.
        await h.sleep(800);
        const loaded = await hp.events('appLoaded');
        assert.equal(loaded.length, 1, `onAppLoaded fired ${loaded.length} times`);
        assert.equal((await hp.events('authError')).length, 0, 'no auth error expected');
        // The embed page must never pass the session token to the app frame, which runs in an
        // opaque origin and cannot reach the embed page.
        const app = await hp.appFrame();
        assert.doesNotMatch(app.url(), /eyJ/, 'the app frame URL contains a JWT');
        const inApp = await app.evaluate(() => {
          let parentReadable = true;
          try {
            void window.parent.document.body;
          } catch {
            parentReadable = false;
          }
          let storage = 'usable';
          try {
            window.localStorage.length;
          } catch {
            storage = 'blocked';
          }
          return { origin: self.origin, parentReadable, storage, html: document.documentElement.outerHTML };
        });
        assert.equal(inApp.origin, 'null', 'the app frame is not in an opaque origin');
        assert.equal(inApp.parentReadable, false, 'the app frame can read the embed page');
        assert.equal(inApp.storage, 'blocked', "the app frame can use Tessera's storage");
        assert.doesNotMatch(inApp.html, /eyJ[\w-]+\.eyJ/, 'a JWT is in the app document');
        // The embed page keeps the token in memory only.
        const embedFrame = await hp.embedFrame();
        // (Chromium may deny storage to a third-party frame altogether: that counts as empty.)
        const inEmbed = await embedFrame.evaluate(() => {
          const count = (get) => {
            try {
              return get().length;
            } catch {
              return 0;
            }
          };
          return { url: location.href, cookie: document.cookie, local: count(() => localStorage), session: count(() => sessionStorage) };
        });
        assert.doesNotMatch(inEmbed.url, /eyJ/, 'the embed page URL contains a JWT');
        assert.deepEqual({ cookie: inEmbed.cookie, local: inEmbed.local, session: inEmbed.session }, { cookie: '', local: 0, session: 0 }, 'the embed page stored something');
        await shot(hp, 'loaded-admin');
      });
    });

    it('loads the app for a viewer (metadata.isAdmin: false): Delete disabled', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        await hp.waitForAppText('#user-name', VIEWER.name);
        await hp.waitForAppText('#user-metadata', (txt) => /isAdmin/.test(txt) && /false/.test(txt), { what: 'metadata with isAdmin false' });
        await hp.waitForAppEnabled('#delete', false, { what: 'Delete for metadata.isAdmin: false' });
        await shot(hp, 'loaded-viewer');
      });
    });

    it('a token without metadata: Delete disabled', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, { email: 'no.meta@customer.example', name: 'No Meta' });
        await hp.waitForAppText('#user-name', 'No Meta');
        await hp.waitForAppEnabled('#delete', false, { what: 'Delete without metadata' });
      });
    });

    it('a group without apps:view: onAuthError with code forbidden, no app', async () => {
      await open(async (hp) => {
        const token = await fx.token({ ...VIEWER, groupIds: [fx.outsiders.id] });
        await hp.mount({ src: fx.src(), token });
        const ev = await hp.waitForEvent('authError', { what: 'onAuthError for a group without apps:view' });
        assert.equal(ev.data.code, 'forbidden', `code: ${JSON.stringify(ev.data)}`);
        assert.equal(typeof ev.data.error, 'string');
        assert.ok(ev.data.error.length > 5, `error should be a human sentence: ${JSON.stringify(ev.data.error)}`);
        assert.doesNotMatch(ev.data.error, /eyJ/, 'the error must not echo the token');
        await hp.expectNoEvent('appLoaded', 1000, 'onAppLoaded fired for a forbidden user');
        assert.equal(hp.page.frames().some((f) => f.url().startsWith(`${t.base}/apps/`)), false, 'an app frame was loaded for a forbidden user');
        await shot(hp, 'forbidden');
      });
    });

    it('a token that is not a Tessera session: onAuthError with code invalid', async () => {
      await open(async (hp) => {
        const good = await fx.token(VIEWER);
        const [hd, pl, sig] = good.split('.');
        const tampered = `${hd}.${pl}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
        await hp.mount({ src: fx.src(), token: tampered });
        const ev = await hp.waitForEvent('authError', { what: 'onAuthError for a tampered token' });
        assert.equal(ev.data.code, 'invalid', `code: ${JSON.stringify(ev.data)}`);
        await hp.expectNoEvent('appLoaded', 500);
      });
    });

    it("revoking the access token refuses its sessions and the app frame's files", async () => {
      await open(async (hp) => {
        const revocable = t.cliJson('token', 'create', '--org', fx.orgId, '--name', `revocable-${sdk}`);
        await h.waitForTokenIssue(t.base, revocable.token, { email: 'probe@customer.example' });
        const token = await fx.token({ ...VIEWER, embedToken: revocable.token });
        await hp.mount({ src: fx.src(), token });
        await hp.waitForEvent('appLoaded');
        await hp.waitForAppText('#user-email', VIEWER.email);
        const frameUrl = (await hp.appFrame()).url();
        const before = await h.e2e.httpRequest(frameUrl);
        assert.equal(before.status, 200, `app file under the ticket before revocation: ${before.status}`);

        const r = t.cli('token', 'revoke', '--org', fx.orgId, revocable.id);
        assert.equal(r.code, 0, r.stderr);
        await h.waitUntilRefused(t.base, token);

        const afterRevoke = await h.e2e.httpRequest(frameUrl);
        assert.ok(afterRevoke.status >= 400 && afterRevoke.status < 500, `app file under the ticket after revocation: ${afterRevoke.status} (expected a refusal)`);
        assert.doesNotMatch(afterRevoke.text, /user-email|<script/i, 'the refused reply still contains the app');

        // A fresh mount with the revoked session is refused with code revoked.
        await hp.page.reload();
        await hp.page.waitForFunction(() => window.hostReady === true);
        await hp.mount({ src: fx.src(), token });
        const ev = await hp.waitForEvent('authError', { what: 'onAuthError for a revoked session' });
        assert.equal(ev.data.code, 'revoked', `code: ${JSON.stringify(ev.data)}`);
        await hp.expectNoEvent('appLoaded', 500, 'onAppLoaded for a revoked session');
      });
    });

    it('an open embed learns of a revocation (by email, then by jti) within 2 s: onAuthError revoked and the ended state', async () => {
      const revoke = (body) => h.e2e.httpRequest(`${t.base}/api/v1/public/sessions/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fx.embedToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      for (const by of ['email', 'jti']) {
        await open(async (hp) => {
          const user = { ...VIEWER, email: `revoked.by.${by}.${sdk}@customer.example` };
          const { token } = await mountLoaded(hp, user);
          await h.e2e.sleep(300); // the embed page's watch is open
          const jti = h.e2e.jwtParts(token).payload.jti;
          const r = await revoke(by === 'email' ? { email: user.email } : { jti });
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(r.json, { revoked: 1 });
          const ev = await hp.waitForEvent('authError', { timeout: 2000, what: `onAuthError after the revocation by ${by}` });
          assert.equal(ev.data.code, 'revoked', `code: ${JSON.stringify(ev.data)}`);
          const embed = await hp.embedFrame();
          await embed.getByRole('alert').getByText('Your session has ended').waitFor({ timeout: 2000 });
          assert.equal(await hp.page.frames().filter((f) => f.url().startsWith(`${t.base}/apps/`)).length, 0, 'the app frame is still there');
          await shot(hp, `revoked-by-${by}`);
        });
      }
    });

    it('TOKEN_CHANGE refreshes the session in place: new claims shown, app state and frame kept', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        await hp.waitForAppEnabled('#delete', false);
        // Page state: the counter, and a marker in the app's window.
        const counter = hp.app().locator('#counter');
        await counter.click();
        await counter.click();
        await counter.click();
        const stateBefore = await hp.waitForAppText('#counter', '3', { what: 'counter after 3 clicks' });
        const appFrame = await hp.appFrame();
        const frameUrl = appFrame.url();
        await appFrame.evaluate(() => {
          window.__keptState = 'still-here';
          window.__received = [];
          window.addEventListener('message', (e) => window.__received.push(JSON.stringify(e.data)));
        });
        const appLoadsBefore = hp.requests.filter((r) => r.url.startsWith(`${t.base}/apps/`) && /index\.html/.test(r.url)).length;

        // Same user, refreshed token with new claims (promoted to admin).
        const refreshed = await fx.token({ ...VIEWER, name: 'Vic Viewer (refreshed)', metadata: { isAdmin: true, tenant: 'acme-42' } });
        await hp.page.evaluate((tok) => {
          window.embed.token = tok;
        }, refreshed);
        await hp.waitForAppText('#user-name', 'Vic Viewer (refreshed)', { what: 'user name after TOKEN_CHANGE' });
        await hp.waitForAppEnabled('#delete', true, { what: 'Delete after TOKEN_CHANGE to an admin token' });

        assert.equal(await hp.appText('#counter'), stateBefore, 'the counter was reset by TOKEN_CHANGE');
        const f2 = await hp.appFrame();
        assert.equal(await f2.evaluate(() => window.__keptState), 'still-here', 'the app frame was reloaded by TOKEN_CHANGE');
        const received = await f2.evaluate(() => window.__received);
        assert.ok(received.some((m) => m.includes('CONTEXT') && m.includes('Vic Viewer (refreshed)')), `the app got no new CONTEXT: ${received}`);
        for (const m of received) {
          assert.ok(!m.includes(refreshed) && !/eyJ[\w-]+\.eyJ/.test(m), `a message to the app frame carries the token: ${m.slice(0, 200)}`);
        }
        assert.equal(f2.url(), frameUrl, 'the app frame navigated');
        const appLoadsAfter = hp.requests.filter((r) => r.url.startsWith(`${t.base}/apps/`) && /index\.html/.test(r.url)).length;
        assert.equal(appLoadsAfter, appLoadsBefore, 'the app document was fetched again');
        assert.equal((await hp.events('appLoaded')).length, 1, 'onAppLoaded fired again after TOKEN_CHANGE');
        assert.equal((await hp.events('authError')).length, 0, 'auth error after a valid TOKEN_CHANGE');
      });
    });

    it('TOKEN_CHANGE to a refused token reports onAuthError and stops showing the user', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        const forbidden = await fx.token({ ...VIEWER, groupIds: [fx.outsiders.id] });
        await hp.page.evaluate((tok) => {
          window.embed.token = tok;
        }, forbidden);
        const ev = await hp.waitForEvent('authError', { what: 'onAuthError after TOKEN_CHANGE to a forbidden token' });
        assert.equal(ev.data.code, 'forbidden', JSON.stringify(ev.data));
        // The page must not keep showing an identity the host's current token does not prove.
        const gone = await h.poll(async () => !(await hp.appText('#user-email') || '').includes(VIEWER.email), { timeoutMs: h.WAIT_MS });
        assert.ok(gone.ok, 'the app still shows the previous user after a refused TOKEN_CHANGE');
        // The host recovers with a good token, without reloading its page.
        const good = await fx.token({ ...VIEWER, name: 'Vic Viewer (back)' });
        await hp.page.evaluate((tok) => {
          window.embed.token = tok;
        }, good);
        await hp.waitForAppText('#user-name', 'Vic Viewer (back)', { what: 'the app after a good TOKEN_CHANGE following a refused one' });
      });
    });

    it('PROPERTY_CHANGE reaches the app', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER, { properties: { greeting: 'first', count: 1 } });
        await hp.waitForAppText('#properties', 'first');
        await hp.page.evaluate(() => {
          window.embed.properties = { greeting: 'second', count: 2, nested: { deep: ['x', 'y'] } };
        });
        const txt = await hp.waitForAppText('#properties', 'second', { what: 'properties after PROPERTY_CHANGE' });
        assert.match(txt, /deep/, `nested properties: ${txt}`);
        assert.doesNotMatch(txt, /first/, `old properties still shown: ${txt}`);
      });
    });

    it('colorScheme reaches the app, and COLOR_SCHEME_CHANGE updates it', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER, { colorScheme: 'dark' });
        await hp.waitForAppText('#color-scheme', 'dark');
        await hp.page.evaluate(() => {
          window.embed.colorScheme = 'light';
        });
        await hp.waitForAppText('#color-scheme', 'light', { what: 'color scheme after COLOR_SCHEME_CHANGE' });
      });
    });

    it("the app's emit reaches onEvent", async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        await hp.app().locator('#emit').click();
        // The demo app's "Select order 42" emits orderSelected {id: 42}.
        const ev = await hp.waitForEvent('event', { pred: (e) => e.eventName !== 'sessionExpiring', what: 'onEvent after clicking Emit in the app' });
        assert.equal(ev.eventName, 'orderSelected');
        assert.deepEqual(ev.payload, { id: 42 });
        const all = await hp.events('event');
        assert.equal(all.filter((e) => e.eventName === 'orderSelected').length, 1, `onEvent calls: ${JSON.stringify(all)}`);
      });
    });

    it('the host trigger reaches the app', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        // The demo app handles the 'refresh' event (tessera.on('refresh', ...)).
        await hp.page.evaluate(() => window.embed.trigger('refresh', { orderId: 'ord-7781' }));
        const txt = await hp.waitForAppText('#last-trigger', 'refresh', { what: 'last trigger in the app' });
        assert.match(txt, /ord-7781/, `trigger payload in the app: ${txt}`);
      });
    });

    it('a trigger sent before the app is ready is delivered once it is', async () => {
      await open(async (hp) => {
        await hp.mount({ src: fx.src(), token: await fx.token(VIEWER) });
        // As soon as the embed page has acknowledged INITIALIZE_EMBED, before APP_LOADED.
        const acked = await h.poll(async () => (await hp.messages()).some((m) => m.type === 'INITIALIZED'), { timeoutMs: h.WAIT_MS, intervalMs: 10 });
        assert.ok(acked.ok, 'the embed page never answered INITIALIZED');
        const early = await hp.page.evaluate(() => {
          window.embed.trigger('refresh', { early: 'before-ready' });
          return window.events.some((e) => e.type === 'appLoaded');
        });
        await hp.waitForEvent('appLoaded');
        await hp.waitForAppText('#last-trigger', 'before-ready', { what: `a trigger sent ${early ? 'right after INITIALIZED (the app was already loaded)' : 'before the app was ready'}` });
      });
    });

    it("the app's navigation reaches onNavigation", async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        await hp.app().locator('#navigate').click();
        const ev = await hp.waitForEvent('navigation', { what: 'onNavigation after clicking Navigate in the app' });
        const d = ev.data;
        for (const k of ['url', 'href', 'appId', 'pathname', 'search', 'queryParams']) {
          assert.ok(k in d, `NAVIGATION data lacks ${k}: ${JSON.stringify(d)}`);
        }
        // The demo app's button navigates to /orders?id=3.
        assert.equal(d.appId, fx.appId);
        assert.equal(d.pathname, '/orders');
        assert.equal(d.search, '?id=3');
        assert.deepEqual(d.queryParams, { id: '3' });
        const u = new URL(d.url);
        assert.equal(`${u.origin}${u.pathname}`, fx.src('/orders'), `url: ${d.url}`);
        assert.equal(u.searchParams.get('id'), '3', `url: ${d.url}`);
        assert.equal(d.href, d.url);
        await hp.waitForAppText('#route', '/orders?id=3', { what: 'the route inside the app after navigating' });
      });
    });

    it('messages posing as the embed page from another origin do not reach the host callbacks', async () => {
      await open(async (hp) => {
        await mountLoaded(hp, VIEWER);
        const before = await hp.events();
        await hp.page.evaluate((u) => window.addFrame(u), h.hostUrl(host.origins[1], 'spoof.html'));
        const report = await h.poll(async () => (await hp.messages()).find((m) => m.foreign), { timeoutMs: h.WAIT_MS });
        assert.ok(report.ok, 'the spoofing frame did not report');
        assert.ok(report.value.foreign.sent.includes('AUTH_ERROR'), JSON.stringify(report.value.foreign));
        await h.sleep(500);
        assert.deepEqual(await hp.events(), before, 'spoofed messages reached the host callbacks');
        await hp.waitForAppText('#user-email', VIEWER.email);
      });
    });

    if (sdk === 'tessera') {
      // Tessera's SDK (unlike the official one, which checks only the origin) accepts messages
      // only from its own element's frame: two embeds on one page do not mix their callbacks.
      it('the session token is never copied into the host DOM', async () => {
        await open(async (hp) => {
          const { token } = await mountLoaded(hp, VIEWER);
          const refreshed = await fx.token({ ...VIEWER, name: 'Vic Viewer (refreshed)' });
          await hp.page.evaluate((tok) => {
            window.embed.token = tok;
          }, refreshed);
          await hp.waitForAppText('#user-name', 'Vic Viewer (refreshed)');
          const html = await hp.page.evaluate(() => document.documentElement.outerHTML);
          assert.ok(!html.includes(token) && !html.includes(refreshed), 'a session token is in the host DOM');
          assert.doesNotMatch(html, /eyJ[\w-]+\.eyJ/, 'a JWT is in the host DOM');
        });
      });

      it('two embeds on one page: each element gets only its own frame\'s callbacks', async () => {
        await open(async (hp) => {
          const style = 'height: 290px;';
          await hp.mount({ name: 'first', src: fx.src(), token: await fx.token(ADMIN), style });
          await hp.mount({ name: 'second', src: fx.src(), token: await fx.token(VIEWER), style });
          await hp.waitForEvent('appLoaded', { pred: (e) => e.embed === 'first' });
          await hp.waitForEvent('appLoaded', { pred: (e) => e.embed === 'second' });
          await hp.waitForAppText('#user-email', ADMIN.email);
          const second = hp.app(1).locator('#user-email');
          const got = await h.poll(async () => ((await second.textContent({ timeout: 500 }).catch(() => '')) || '').includes(VIEWER.email), { timeoutMs: h.WAIT_MS });
          assert.ok(got.ok, 'the second embed does not show its user');
          await h.sleep(500);
          const loaded = await hp.events('appLoaded');
          assert.deepEqual(loaded.map((e) => e.embed).sort(), ['first', 'second'], `onAppLoaded calls: ${JSON.stringify(loaded)}`);
          await hp.app(1).locator('#emit').click();
          await hp.waitForEvent('event', { pred: (e) => e.eventName === 'orderSelected' });
          await h.sleep(500);
          const evs = (await hp.events('event')).filter((e) => e.eventName === 'orderSelected');
          assert.deepEqual(evs.map((e) => e.embed), ['second'], `onEvent calls for the second embed's emit: ${JSON.stringify(evs)}`);
        });
      });
    }

    it('a session ending within 5 minutes: sessionExpiring reaches the host', async () => {
      assert.ok(!short.error, short.error);
      await open(async (hp) => {
        await hp.mount({ src: fx.src(), token: short.expiring.token });
        await hp.waitForEvent('appLoaded');
        const ev = await hp.waitForEvent('event', { pred: (e) => e.eventName === 'sessionExpiring', what: "onEvent('sessionExpiring') for a session of 120 s" });
        const at = Date.parse(ev.payload && ev.payload.expiresAt);
        assert.ok(Number.isFinite(at), `expiresAt is not an ISO 8601 date: ${JSON.stringify(ev.payload)}`);
        const expected = short.expiring.issuedAt + 120000;
        assert.ok(Math.abs(at - expected) < 10000, `expiresAt ${ev.payload.expiresAt} is not the session's end (~${new Date(expected).toISOString()})`);
        if (sdk === 'tessera') {
          const cb = await hp.waitForEvent('sessionExpiring', { what: 'onSessionExpiring (Tessera SDK)' });
          assert.equal(cb.data.expiresAt, ev.payload.expiresAt);
        }
      });
    });

    it('an expired session token: onAuthError with code expired', { timeout: EXPIRED_WAIT_MS + 30000 }, async () => {
      assert.ok(!short.error, short.error);
      const expiring = short.expired;
      // Wait until the server itself refuses the token (it allows some clock skew).
      const r = await h.poll(async () => {
        const res = await h.e2e.httpRequest(`${t.base}/api/v1/embed/session`, {
          method: 'POST',
          headers: { authorization: `Bearer ${expiring.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ app_id: fx.appId }),
        });
        return res.status === 401 ? res : null;
      }, { timeoutMs: Math.max(0, expiring.issuedAt + EXPIRED_WAIT_MS - Date.now()), intervalMs: 500 });
      assert.ok(r.ok, `POST /api/v1/embed/session still accepts a token issued with a 1 s lifetime ${Math.round((Date.now() - expiring.issuedAt) / 1000)} s later`);
      assert.equal(r.value.json && r.value.json.code, 'expired', `embed/session reply for an expired token: ${r.value.text}`);
      await open(async (hp) => {
        await hp.mount({ src: fx.src(), token: expiring.token });
        const ev = await hp.waitForEvent('authError', { what: 'onAuthError for an expired token' });
        assert.equal(ev.data.code, 'expired', JSON.stringify(ev.data));
        await hp.expectNoEvent('appLoaded', 500);
        await shot(hp, 'expired');
        // What a host does on onAuthError 'expired': fetch a new token and set it.
        await hp.page.evaluate((tok) => {
          window.embed.token = tok;
        }, await fx.token(VIEWER));
        await hp.waitForEvent('appLoaded', { what: 'onAppLoaded after a fresh token replaced the expired one' });
        await hp.waitForAppText('#user-email', VIEWER.email);
      });
    });
  });
}

// Short-lived session tokens need a short org session lifetime: Tessera's CLI
// offers `tessera org update ORG --session-ttl SECONDS`. The tokens are issued
// in before() so the wait for expiry overlaps the other cases. Returns
// {expired: {token, issuedAt}, expiring: {token}} or {error}.
async function issueShortLivedTokens(t, fx) {
  const out = {};
  let changed = false;
  const issueWithTtl = async (ttl, email) => {
    const set = t.cli('org', 'update', fx.orgId, '--session-ttl', String(ttl));
    changed = changed || set.code === 0;
    if (set.code !== 0) {
      throw new Error(`cannot make a short-lived session token: 'tessera org update ORG --session-ttl ${ttl}' failed (exit ${set.code}): ${set.stderr.trim()}`);
    }
    // The change reaches the server within a second.
    const r = await h.poll(async () => {
      const res = await h.e2e.postToken(t.base, fx.embedToken, { email, name: email.split('@')[0], groupIds: [fx.viewers.id] });
      return res.status === 200 && res.json.expires_in === ttl ? res.json.access_token : null;
    }, { timeoutMs: 5000, intervalMs: 100 });
    if (!r.ok) throw new Error(`after org update --session-ttl ${ttl}, POST /api/v1/public/token does not answer expires_in ${ttl}`);
    return r.value;
  };
  try {
    out.expired = { token: await issueWithTtl(1, 'late.larry@customer.example'), issuedAt: Date.now() };
    out.expiring = { token: await issueWithTtl(120, 'soon.sally@customer.example'), issuedAt: Date.now() };
  } catch (e) {
    out.error = e.message; // only the cases that need these tokens fail
  }
  if (changed) {
    // Back to the default, so that the other cases get day-long sessions.
    const back = t.cli('org', 'update', fx.orgId, '--session-ttl', '86400');
    assert.equal(back.code, 0, back.stderr);
    const r = await h.poll(async () => {
      const res = await h.e2e.postToken(t.base, fx.embedToken, { email: 'probe@customer.example' });
      return res.status === 200 && res.json.expires_in === 86400;
    }, { timeoutMs: 5000, intervalMs: 100 });
    assert.ok(r.ok, 'after org update --session-ttl 86400 the server still issues short sessions');
  }
  return out;
}

module.exports = { defineSdkSuite, ADMIN, VIEWER };
