'use strict';
// Embed modes and the embed page's boundaries, with the official SDK:
//   - a public app without a token; an sso app without one
//   - a private app: sign-in inside the frame (wrong password, right password, no grant)
//   - a host origin that is not in the app's allowed origins: not framed
//   - messages from a foreign origin or a foreign window: ignored

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./harness');

const PASSWORD = 'correct horse battery staple';

describe('embed modes and boundaries', { timeout: 180000 }, () => {
  let browser;
  let host;
  let t;
  let fx;
  let publicApp;
  let privateApp;
  let hostileApp;
  let allowed;
  let foreign;
  let disallowed;
  const platform = { email: 'pat.platform@acme.example', name: 'Pat Platform' };
  const stranger = { email: 'nora.nogrant@acme.example', name: 'Nora Nogrant' };
  const guessed = { email: 'tim.target@acme.example', name: 'Tim Target' };

  before(async () => {
    host = await h.startHostServer({ count: 3 });
    [allowed, foreign, disallowed] = host.origins;
    t = await h.startTessera();
    fx = await h.seedSso(t, { hostOrigins: [allowed], orgName: 'Modes Org' });
    publicApp = h.createApp(t, fx.orgId, { name: 'Status Board', mode: 'public', origins: [allowed] });
    privateApp = h.createApp(t, fx.orgId, { name: 'Back Office', mode: 'private', origins: [allowed] });
    hostileApp = h.createApp(t, fx.orgId, { name: 'Hostile', mode: 'sso', origins: [allowed], dir: path.join(h.FIXTURES, 'hostile-app') });
    assert.equal(t.cli('group', 'grant', '--org', fx.orgId, fx.viewers.id, hostileApp.id, '--permission', 'apps:view').code, 0);
    const office = t.cliJson('group', 'create', '--org', fx.orgId, 'Office');
    let r = t.cli('group', 'grant', '--org', fx.orgId, office.id, privateApp.id, '--permission', 'apps:view');
    assert.equal(r.code, 0, r.stderr);
    for (const u of [platform, stranger, guessed]) {
      r = t.cli('user', 'add', '--org', fx.orgId, u.email, '--name', u.name, '--password-stdin', { input: `${PASSWORD}\n` });
      assert.equal(r.code, 0, `user add ${u.email}: ${r.stderr}`);
    }
    for (const u of [platform, guessed]) {
      r = t.cli('group', 'add-member', '--org', fx.orgId, office.id, u.email);
      assert.equal(r.code, 0, r.stderr);
    }
    await h.waitForTokenIssue(t.base, fx.embedToken, { email: platform.email, isSuperblocksUser: true });
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

  const open = (origin, fn) => h.withHost(browser, h.hostUrl(origin, 'host.html', { sdk: 'official' }), { base: t.base, tessera: t }, fn);
  const srcOf = (app) => `${t.base}/embed/applications/${app.id}`;

  // Public and private apps with both host SDKs.
  for (const sdk of ['official', 'tessera']) {
    const openWith = (fn) => h.withHost(browser, h.hostUrl(allowed, 'host.html', { sdk, base: t.base }), { base: t.base, tessera: t }, fn);

    it(`[${sdk} SDK] a public app loads without a token, with no user`, async () => {
      await openWith(async (hp) => {
        await hp.mount({ src: srcOf(publicApp), properties: { board: 'public' } });
        const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded for a public app without a token' });
        assert.deepEqual({ id: ev.data.id, name: ev.data.name }, { id: publicApp.id, name: 'Status Board' });
        await hp.waitForAppText('#properties', 'public', { what: 'properties in the public app' });
        await hp.waitForAppText('#user-name', 'Not signed in', { what: "the demo app's text for no user" });
        const email = await hp.appText('#user-email');
        assert.ok(email !== null, '#user-email missing in the public app');
        assert.doesNotMatch(email, /@/, `a public app without a token shows a user email: ${email}`);
        await hp.waitForAppEnabled('#delete', false, { what: 'Delete for an anonymous viewer' });
        assert.equal((await hp.events('authError')).length, 0, 'auth error for a public app');
        await hp.screenshot(`${sdk}-public-app`);
      });
    });

    it(`[${sdk} SDK] a private app: sign-in form in the frame; a wrong password is refused; the right one loads the app`, async () => {
      await openWith(async (hp) => {
        await hp.mount({ src: srcOf(privateApp) });
        const embed = hp.page.frameLocator('#embed-root iframe').first();
        const email = embed.locator('form input[type=email]');
        await email.waitFor({ state: 'visible' }).catch(async (e) => hp.fail(`no sign-in form in the embed frame of a private app: ${e.message.split('\n')[0]}`));
        await hp.screenshot(`${sdk}-private-signin`);
        assert.equal(hp.page.frames().some((f) => f.url().startsWith(`${t.base}/apps/`)), false, 'the app frame is loaded before sign-in');
        assert.deepEqual(await hp.events('appLoaded'), [], 'onAppLoaded before sign-in');

        await email.fill(platform.email);
        await embed.locator('form input[type=password]').fill('not the password at all');
        await embed.locator('form button[type=submit]').click();
        const errorBox = embed.locator('form [role=alert]');
        await errorBox.waitFor({ state: 'visible' }).catch(async () => hp.fail('no visible error after a wrong password'));
        assert.ok(((await errorBox.textContent()) || '').trim().length > 3, 'the sign-in error is empty');
        await hp.expectNoEvent('appLoaded', 300, 'onAppLoaded after a wrong password');

        await email.fill(platform.email);
        await embed.locator('form input[type=password]').fill(PASSWORD);
        await embed.locator('form button[type=submit]').click();
        const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded after signing in' });
        assert.equal(ev.data.id, privateApp.id);
        await hp.waitForAppText('#user-email', platform.email, { what: 'the signed-in platform user in the app' });
        await hp.waitForAppText('#user-name', platform.name);
        await hp.waitForAppText('#user-groups', 'Office');
        // The password never stays in the page.
        const leftovers = await hp.embedFrame().then((f) => f.evaluate(() => [...document.querySelectorAll('input')].map((i) => i.value).join('|')));
        assert.doesNotMatch(leftovers, /horse/, 'the password is still in an input after sign-in');
        await hp.screenshot(`${sdk}-private-signed-in`);
      });
    });
  }

  it('a public app given a token knows the user', async () => {
    await open(allowed, async (hp) => {
      const token = await fx.token({ email: 'known.kim@customer.example', name: 'Known Kim', groupIds: [] });
      await hp.mount({ src: srcOf(publicApp), token });
      await hp.waitForEvent('appLoaded');
      await hp.waitForAppText('#user-email', 'known.kim@customer.example');
      await hp.waitForAppText('#user-name', 'Known Kim');
    });
  });

  it('an sso app without a token: onAuthError, no app', async () => {
    await open(allowed, async (hp) => {
      await hp.mount({ src: fx.src() });
      const ev = await hp.waitForEvent('authError', { what: 'onAuthError for an sso app without a token' });
      assert.equal(ev.data.code, 'invalid', JSON.stringify(ev.data));
      await hp.expectNoEvent('appLoaded', 500);
    });
  });

  it('/code-mode/embed/applications/<APP_ID>/<page path>?query opens the app on that page', async () => {
    await open(allowed, async (hp) => {
      const token = await fx.token({ email: 'jane.wind@customer.example', name: 'Jane Wind' });
      await hp.mount({ src: `${t.base}/code-mode/embed/applications/${fx.appId}/orders?id=7`, token });
      const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded for a code-mode URL with a page path' });
      assert.equal(ev.data.id, fx.appId);
      await hp.waitForAppText('#user-name', 'Jane Wind');
      await hp.waitForAppText('#route', '/orders?id=7', { what: 'the route the app starts on' });
    });
  });

  it('an unknown app id: an error in the frame, no app', async () => {
    await open(allowed, async (hp) => {
      const token = await fx.token({ email: 'jane.wind@customer.example', name: 'Jane Wind' });
      await hp.mount({ src: `${t.base}/embed/applications/${h.e2e.randomUuid()}`, token });
      await hp.expectNoEvent('appLoaded', 1500, 'onAppLoaded for an unknown app');
      assert.equal(hp.page.frames().some((f) => f.url().startsWith(`${t.base}/apps/`)), false, 'an app frame was loaded');
    });
  });

  it('a private app: a platform user without apps:view is not let in', async () => {
    await open(allowed, async (hp) => {
      await hp.mount({ src: srcOf(privateApp) });
      const embed = hp.page.frameLocator('#embed-root iframe').first();
      await embed.locator('form input[type=email]').fill(stranger.email);
      await embed.locator('form input[type=password]').fill(PASSWORD);
      await embed.locator('form button[type=submit]').click();
      // Either the sign-in is refused in the form or the session is refused (AUTH_ERROR forbidden).
      const start = Date.now();
      for (;;) {
        const auth = await hp.events('authError');
        const shown = await embed.locator('[role=alert]:visible').count();
        if (auth.length || shown) {
          if (auth.length) assert.equal(auth[0].data.code, 'forbidden', JSON.stringify(auth[0].data));
          break;
        }
        if (Date.now() - start > h.WAIT_MS) await hp.fail('no refusal shown for a platform user without apps:view');
        await h.sleep(100);
      }
      await hp.expectNoEvent('appLoaded', 1000, 'onAppLoaded for a user without apps:view');
      assert.equal(hp.page.frames().some((f) => f.url().startsWith(`${t.base}/apps/`)), false, 'an app frame was loaded');
    });
  });

  it('a private app: repeated wrong passwords are throttled in the form, and then even the right one is refused', async () => {
    await open(allowed, async (hp) => {
      await hp.mount({ src: srcOf(privateApp) });
      const embed = hp.page.frameLocator('#embed-root iframe').first();
      const email = embed.locator('form input[type=email]');
      const password = embed.locator('form input[type=password]');
      const submit = embed.locator('form button[type=submit]');
      const errorBox = embed.locator('form [role=alert]');
      await email.waitFor({ state: 'visible' });
      let attempts = 0;
      let text = '';
      while (attempts < 12) {
        attempts += 1;
        await email.fill(guessed.email);
        await password.fill(`wrong password number ${attempts}`);
        await submit.click();
        await errorBox.waitFor({ state: 'visible' });
        await h.poll(async () => (await submit.isEnabled()), { timeoutMs: 5000 });
        text = (await errorBox.textContent()) || '';
        if (/too many/i.test(text)) break;
      }
      assert.match(text, /too many/i, `no throttling message after ${attempts} wrong passwords; last error: ${text}`);
      await hp.screenshot('private-signin-throttled');
      await email.fill(guessed.email);
      await password.fill(PASSWORD);
      await submit.click();
      await hp.expectNoEvent('appLoaded', 1500, 'the right password got through while sign-in is throttled');
      assert.match((await errorBox.textContent()) || '', /too many/i, 'the form does not say the sign-in is throttled');
    });
  });

  it('an app cannot reach the embed page, act as Tessera or the host, or navigate the top page', async () => {
    await open(allowed, async (hp) => {
      const token = await fx.token({ email: 'jane.wind@customer.example', name: 'Jane Wind' });
      const hostUrlBefore = hp.page.url();
      await hp.mount({ src: srcOf(hostileApp), token, properties: { owner: 'host' } });
      await hp.waitForEvent('appLoaded');
      await hp.waitForEvent('event', { pred: (e) => e.eventName === 'hostileDone', what: "the hostile app's legitimate event" });
      const raw = await hp.waitForAppText('#results', (txt) => txt.startsWith('{'), { what: "the hostile app's results" });
      const results = JSON.parse(raw);
      await h.sleep(1000);
      assert.match(results.readParentDocument, /^blocked/, `the app read the embed page: ${raw}`);
      assert.match(results.readLocalStorage, /^blocked/, `the app used storage: ${raw}`);
      const events = await hp.events('event');
      assert.deepEqual(events.map((e) => e.eventName), ['hostileDone'], `host onEvent calls: ${JSON.stringify(events)}`);
      assert.deepEqual(await hp.events('navigation'), [], 'an app navigation off its own pages reached the host');
      assert.deepEqual(await hp.events('authError'), [], 'a host message posted by the app was obeyed');
      assert.equal((await hp.events('appLoaded')).length, 1, 'the app re-initialized the embed');
      assert.equal(hp.page.url(), hostUrlBefore, 'the app navigated the top-level page');
      const embedUrl = (await hp.embedFrame()).url();
      assert.ok(embedUrl.startsWith(srcOf(hostileApp)) && !/steal|evil/.test(embedUrl), `embed page URL: ${embedUrl}`);
      await hp.waitForAppText('#user-email', 'jane.wind@customer.example');
    });
  });

  it('a host origin that is not allowed: the embed page is not framed and the app never loads', async () => {
    await open(disallowed, async (hp) => {
      const token = await fx.token({ email: 'jane.wind@customer.example', name: 'Jane Wind' });
      const embedResponse = hp.page.waitForResponse((r) => r.url().startsWith(fx.src()), { timeout: h.WAIT_MS });
      await hp.mount({ src: fx.src(), token });
      const res = await embedResponse;
      const csp = (await res.allHeaders())['content-security-policy'] || '';
      assert.match(csp, /frame-ancestors/, `embed page CSP lacks frame-ancestors: ${JSON.stringify(csp)}`);
      const fa = /frame-ancestors([^;]*)/.exec(csp)[1];
      assert.ok(fa.includes(allowed), `frame-ancestors should list the allowed origin ${allowed}: ${fa}`);
      assert.ok(!fa.includes(disallowed), `frame-ancestors lists the disallowed origin: ${fa}`);
      assert.doesNotMatch(fa, /\*/, `frame-ancestors has a wildcard: ${fa}`);

      await hp.expectNoEvent('appLoaded', 3000, 'onAppLoaded on a host origin that is not allowed');
      // The browser replaced the frame's document: nothing of Tessera's page runs in it.
      const frame = await hp.embedFrame();
      assert.ok(frame, 'no embed iframe element');
      const href = await frame.evaluate(() => location.href).catch(() => null);
      assert.ok(href === null || !href.startsWith(t.base), `the embed page rendered inside a disallowed host: ${href}`);
      const text = await frame.evaluate(() => document.body && document.body.innerText).catch(() => '');
      assert.doesNotMatch(text || '', /Sign in|Loading|Checking your session/i, 'Tessera content visible in the blocked frame');
      assert.equal(hp.page.frames().some((f) => f.url().startsWith(`${t.base}/apps/`)), false, 'an app frame was loaded');
      assert.equal(hp.requests.some((r) => r.url.startsWith(`${t.base}/api/v1/embed/session`)), false, 'the blocked embed page asked for a session');
      const fromEmbed = (await hp.messages()).filter((m) => m.origin === new URL(t.base).origin);
      assert.deepEqual(fromEmbed, [], 'the host received messages from Tessera');
      await hp.screenshot('origin-not-allowed');
    });
  });

  it("an app's files under a valid ticket cannot be framed directly by a host origin that is not allowed", async () => {
    const token = await fx.token({ email: 'jane.wind@customer.example', name: 'Jane Wind' });
    const res = await h.e2e.httpRequest(`${t.base}/api/v1/embed/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app_id: fx.appId }),
    });
    assert.equal(res.status, 200, `POST /api/v1/embed/session: ${res.status} ${res.text}`);
    const data = res.json.data || res.json;
    const frameUrl = new URL(data.frame_url, t.base).href;
    await open(disallowed, async (hp) => {
      const fileResponse = hp.page.waitForResponse((r) => r.url() === frameUrl, { timeout: h.WAIT_MS });
      await hp.page.evaluate((u) => window.addFrame(u), frameUrl);
      const csp = ((await (await fileResponse).allHeaders())['content-security-policy']) || '';
      assert.match(csp, /frame-ancestors/, `app file CSP lacks frame-ancestors: ${csp}`);
      assert.ok(!csp.includes(disallowed), `the app file's frame-ancestors lists the disallowed origin: ${csp}`);
      await h.sleep(1000);
      const shown = [];
      for (const f of hp.page.frames()) {
        if (f === hp.page.mainFrame()) continue;
        shown.push(await f.locator('#user-email').count().catch(() => 0));
      }
      assert.ok(shown.every((n) => n === 0), 'the app rendered inside a host origin that is not allowed');
      await hp.screenshot('app-file-framed-by-disallowed-origin');
    });
  });

  // Mounts Ada on the allowed host, then adds a frame from `frameOrigin` that
  // posts every host -> embed message (with a valid token of another user)
  // and app-protocol messages; nothing may change.
  async function foreignFrameIsIgnored(frameOrigin) {
    await open(allowed, async (hp) => {
      const ada = await fx.token({ email: 'ada.admin@customer.example', name: 'Ada Admin', metadata: { isAdmin: false } });
      const mallory = await fx.token({ email: 'mallory@evil.example', name: 'Mallory', metadata: { isAdmin: true } });
      await hp.mount({ src: fx.src(), token: ada, properties: { owner: 'host' }, colorScheme: 'light' });
      await hp.waitForEvent('appLoaded');
      await hp.waitForAppText('#user-name', 'Ada Admin');
      await hp.waitForAppText('#properties', 'host');
      await hp.waitForAppText('#color-scheme', 'light');
      const counter = hp.app().locator('#counter');
      await counter.click();
      const counterText = await hp.waitForAppText('#counter', '1');
      const initializedBefore = (await hp.messages()).filter((m) => m.type === 'INITIALIZED').length;

      await hp.page.evaluate((u) => window.addFrame(u), h.hostUrl(frameOrigin, 'foreign.html', { token: mallory }));
      const report = await h.poll(async () => (await hp.messages()).find((m) => m.foreign), { timeoutMs: h.WAIT_MS });
      assert.ok(report.ok, 'the foreign frame did not report');
      const sent = report.value.foreign.sent;
      assert.ok(sent.includes('TOKEN_CHANGE') && sent.includes('INITIALIZE_EMBED') && sent.includes('app:CONTEXT'), `foreign frame sent: ${sent}`);
      await h.sleep(2000);

      const name = await hp.appText('#user-name');
      if (name === null) await hp.fail('the app frame is gone after foreign messages');
      assert.ok(name.includes('Ada Admin') && !name.includes('Mallory'), `user after foreign messages: ${name}`);
      const email = (await hp.appText('#user-email')) || '';
      assert.doesNotMatch(email, /mallory/i, `email after foreign messages: ${email}`);
      const props = (await hp.appText('#properties')) || '';
      assert.doesNotMatch(props, /by-foreign-frame/, `properties after foreign messages: ${props}`);
      assert.match((await hp.appText('#color-scheme')) || '', /light/, 'color scheme changed by foreign messages');
      assert.doesNotMatch((await hp.appText('#last-trigger')) || '', /evil/, 'a foreign trigger reached the app');
      await hp.waitForAppEnabled('#delete', false, { what: 'Delete after foreign messages (Mallory is an admin)', timeout: 1000 });
      assert.equal(await hp.appText('#counter'), counterText, 'the app was reset by foreign messages');
      assert.equal((await hp.events('appLoaded')).length, 1, 'a second onAppLoaded after foreign messages');
      assert.deepEqual(await hp.events('authError'), [], 'foreign messages caused an auth error');
      const events = await hp.events('event');
      assert.deepEqual(events.filter((e) => e.eventName === 'spoofedEmit'), [], 'a spoofed app EMIT reached onEvent');
      assert.deepEqual(await hp.events('navigation'), [], 'a spoofed NAVIGATE reached onNavigation');
      // The embed page says what it ignored (a console warning naming the sender's origin).
      const warned = hp.logs.some((l) => l.startsWith('[console.warning]') && l.includes(frameOrigin) && /ignored/i.test(l));
      assert.ok(warned, `no console warning naming ${frameOrigin} for the ignored messages`);
      const initializedAfter = (await hp.messages()).filter((m) => m.type === 'INITIALIZED').length;
      assert.equal(initializedAfter, initializedBefore, 'the embed page answered a foreign INITIALIZE_EMBED');
    });
  }

  it('messages from a frame on a foreign origin are ignored', async () => {
    await foreignFrameIsIgnored(foreign);
  });

  it('messages from another window on an allowed origin (not the embed page parent) are ignored', async () => {
    await foreignFrameIsIgnored(allowed);
  });
});
