'use strict';
// The admin console (<tessera>/console/) in real headless Chromium (playwright-core, Debian's
// /usr/bin/chromium), against the real binary on a temp database seeded with the CLI. Each test
// signs in by clicking, in its own browser context, and walks one of the admin steps of Superblocks'
// "Authenticating embedded users" guide:
//
//   1. create an Embed token: shown once (with Copy and the warning), works at /public/token,
//      after a reload only its prefix is left;
//   2. add a group, give it View on the app, copy its ID ("…" → Copy group ID, and #group-id), use
//      it in groupIds, and embed the app with the official SDK on a host page;
//   3. revoke a token: /public/token answers 401 within 1.5 s;
//   4. a developer: no token creation in the UI, and the API refuses it (403);
//   5. the console refuses to be framed by another origin;
//   6. a screenshot of every page, in test-output/browser/console-*.png;
//   7. identity providers (token exchange): add (JWKS URL, then a pasted JWKS), field errors, edit,
//      delete;
//   8. integrations: add with a client secret that is never shown, the "How apps call it" snippet
//      and its Copy button, edit keeping the secret, delete;
//   9. a developer sees both pages read-only;
//  10. webhooks: add one (URL, event types) to a local receiver; the secret is shown once with Copy and
//      the warning, and verifies the events that arrive; the delivery log, a test ping, disable,
//      rotate, edit, delete; a developer sees it read-only.
//
// Locators are accessible roles and names (the names the console was asked to provide), so that
// markup changes do not break the tests.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const crypto = require('node:crypto');
const h = require('./harness');

const e2e = h.e2e;
const PASSWORD = 'console test password 42';
const APP_NAME = 'Orders Console';
const SHOT = (name) => path.join(h.OUT_DIR, `console-${name}.png`);
const REVOKE_LIMIT_MS = 1500;

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function localDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

describe('admin console in Chromium', { timeout: 120000 }, () => {
  let browser;
  let host;
  let t;
  let base;
  let fx; // seeded records

  before(async () => {
    host = await h.startHostServer({ count: 1 });
    t = await h.startTessera();
    base = t.base;
    const org = t.cliJson('org', 'create', 'Console Org');
    const addUser = (email, role, name) => t.cliJson('user', 'add', '--org', org.id, email, '--role', role, '--name', name, '--password-stdin', { input: `${PASSWORD}\n` });
    const owner = addUser('olivia.owner@console.example', 'owner', 'Olivia Owner');
    const developer = addUser('dev.dana@console.example', 'developer', 'Dana Developer');
    const app = h.createApp(t, org.id, { name: APP_NAME, mode: 'sso', origins: [host.origin] });
    const embed = t.cliJson('token', 'create', '--org', org.id, '--name', 'host-backend');
    const admin = t.cliJson('token', 'create', '--org', org.id, '--name', 'test-admin', '--type', 'admin');
    fx = {
      org,
      orgId: org.id,
      owner: { ...owner, email: 'olivia.owner@console.example', name: 'Olivia Owner' },
      developer: { ...developer, email: 'dev.dana@console.example', name: 'Dana Developer' },
      app,
      appId: app.id,
      embedToken: embed.token,
      adminToken: admin.token,
    };
    // The running server has picked the CLI's records up once it knows both platform users
    // (probed at the token endpoint, so no sign-in attempt is spent).
    for (const u of [fx.owner, fx.developer]) await h.waitForTokenIssue(base, fx.embedToken, { email: u.email, isSuperblocksUser: true });
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

  // ---- helpers ---------------------------------------------------------------------------------

  // The admin API with the seeded admin token (to check what the console did).
  async function adminApi(method, p, body) {
    const headers = { authorization: `Bearer ${fx.adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await e2e.httpRequest(`${base}/api/v1/organizations/${fx.orgId}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(r.status >= 200 && r.status < 300, `admin API ${method} ${p}: ${r.status} ${r.text}`);
    return r.json.data;
  }

  // Runs fn(c) with a fresh browser context on the console; on failure the message gets the page's
  // URL, its console log and a screenshot (console-FAILED-<name>.png). Always closes the context.
  async function withConsole(name, fn, { clipboard = false } = {}) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    page.setDefaultTimeout(h.WAIT_MS);
    const logs = [];
    page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) logs.push(`[response ${r.status()}] ${r.request().method()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => logs.push(`[requestfailed] ${r.url()} ${r.failure() && r.failure().errorText}`));
    const c = { context, page, logs };
    try {
      return await fn(c);
    } catch (err) {
      let shot = '';
      try {
        await page.screenshot({ path: SHOT(`FAILED-${name}`) });
        shot = SHOT(`FAILED-${name}`);
      } catch {}
      const tail = t.server.logs().trim().split('\n').slice(-8).join('\n  ');
      err.message += `\n  page: ${page.url()}\n  screenshot: ${shot}\n  browser log:\n  ${logs.slice(-25).join('\n  ')}\n  tessera log:\n  ${tail}`;
      throw err;
    } finally {
      await context.close().catch(() => {});
    }
  }

  async function signIn(page, user) {
    const res = await page.goto(`${base}/console/`);
    assert.ok(res && res.ok(), `GET /console/ answered ${res && res.status()}`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await avatar(page).waitFor();
  }

  const avatar = (page) => page.getByRole('button', { name: /account|avatar|profile/i }).first();

  // Avatar → Organization Settings (the guide's first step).
  async function openSettings(page) {
    await avatar(page).click();
    await page.getByRole('menuitem', { name: 'Organization Settings' }).click();
    await sidebar(page).waitFor();
  }

  const sidebar = (page) => page.getByRole('navigation').filter({ has: page.getByRole('link', { name: 'Signing keys' }) });

  // Clicks a sidebar link and waits for the page's heading.
  async function goTo(page, link, heading = link) {
    await sidebar(page).getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  const dialog = (page) => page.getByRole('dialog');

  async function htmlOf(page) {
    return page.evaluate(() => document.documentElement.outerHTML);
  }

  // ---- 1 -------------------------------------------------------------------------------------------

  it('1. owner creates an Embed token: shown once with Copy and the warning, works at /public/token; after a reload only its prefix is shown', async () => {
    await withConsole('create-token', async ({ page }) => {
      await page.goto(`${base}/console/`);
      await page.getByLabel('Email').waitFor();
      await page.screenshot({ path: SHOT('signin') });
      await signIn(page, fx.owner);
      await openSettings(page);
      await goTo(page, 'Access Tokens');

      await page.getByRole('button', { name: /^\+\s*Create token$/ }).click();
      const dlg = dialog(page);
      await dlg.waitFor();
      const name = `Portal backend ${Date.now()}`;
      await dlg.getByLabel('Name', { exact: true }).fill(name);
      // The default expiry: 90 days from today.
      const expiry = dlg.getByLabel(/^Expiration/);
      const today = new Date();
      const want = localDate(new Date(today.getFullYear(), today.getMonth(), today.getDate() + 90));
      assert.equal(await expiry.inputValue(), want, 'the default expiration date is not 90 days ahead');
      assert.equal(await expiry.getAttribute('type'), 'date', 'the expiration is not a date input');
      await dlg.getByRole('radio', { name: 'Embed' }).check();
      await dlg.getByRole('button', { name: 'Create', exact: true }).click();

      // The value, once, with Copy and the warning.
      const valueEl = page.locator('#new-token-value');
      await valueEl.waitFor();
      const value = (await valueEl.textContent()).trim();
      assert.match(value, /^tse_[A-Za-z0-9_-]{43}$/, `#new-token-value is not an Embed token value: ${value}`);
      await dlg.getByText(/shown only once/i).waitFor();
      const copy = dlg.getByRole('button', { name: /^Copy/ });
      await copy.click();
      const clip = await e2e.poll(async () => {
        const v = await page.evaluate(() => navigator.clipboard.readText());
        return v === value ? v : null;
      }, { timeoutMs: 3000 });
      assert.ok(clip.ok, `Copy did not put the token value on the clipboard (read ${JSON.stringify(clip.value && clip.value.slice(0, 12))}…)`);
      await page.screenshot({ path: SHOT('token-created') });

      // It works at the token endpoint.
      const r = await e2e.poll(async () => (await e2e.postToken(base, value, { email: 'jane.wind@customer.example', name: 'Jane Wind' })).status === 200, { timeoutMs: 1500 });
      assert.ok(r.ok, 'the token shown by the console does not work at POST /api/v1/public/token');
      // The server stored what the dialog said: an Embed token, about 90 days.
      const listed = (await adminApi('GET', '/access-tokens')).find((x) => x.name === name);
      assert.ok(listed, `the token "${name}" is not listed by the API`);
      assert.equal(listed.type, 'embed');
      assert.equal(listed.prefix, value.slice(0, 12));
      const days = (Date.parse(listed.expires_at) - Date.now()) / 86400000;
      assert.ok(days > 89 && days <= 91, `the token expires in ${days.toFixed(2)} days, want about 90`);

      // Reload: the list shows the prefix only; the value is nowhere in the page or its storage.
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Access Tokens' }).waitFor();
      const row = page.getByRole('row', { name: new RegExp(escapeRe(name)) });
      await row.waitFor();
      assert.ok((await row.textContent()).includes(value.slice(0, 12)), `the row does not show the prefix ${value.slice(0, 12)}`);
      assert.equal(await page.locator('#new-token-value').count(), 0, 'the value is still displayed after a reload');
      const html = await htmlOf(page);
      assert.ok(!html.includes(value.slice(4)), 'the token value is in the page HTML after a reload');
      const stored = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage } }));
      assert.ok(!stored.includes(value.slice(4)), 'the token value is in web storage');
      await page.screenshot({ path: SHOT('tokens') });
    }, { clipboard: true });
  });

  // ---- 2 -------------------------------------------------------------------------------------------

  it('2. add a group, grant View on the app, copy its ID, use it in groupIds, and the official SDK embeds the app', async () => {
    const groupName = `Customers ${Date.now()}`;
    let groupId;
    await withConsole('group', async ({ page }) => {
      await signIn(page, fx.owner);
      await openSettings(page);
      await goTo(page, 'Groups');
      await page.getByRole('button', { name: /^\+\s*Add group$/ }).click();
      const dlg = dialog(page);
      await dlg.getByLabel('Name', { exact: true }).fill(groupName);
      await dlg.getByRole('button', { name: 'Create', exact: true }).click();
      await dlg.waitFor({ state: 'detached' });
      // The console opens the new group's page.
      const idEl = page.locator('#group-id');
      await page.getByRole('heading', { level: 1, name: groupName }).waitFor();
      await idEl.waitFor();
      const shownId = (await idEl.textContent()).trim();
      assert.match(shownId, e2e.UUID_RE, `#group-id: ${shownId}`);
      const apiGroup = (await adminApi('GET', '/groups')).find((g) => g.name === groupName);
      assert.ok(apiGroup, 'the group is not in GET /groups');
      assert.equal(shownId, apiGroup.id, '#group-id differs from the API');
      groupId = apiGroup.id;

      await page.getByRole('tab', { name: 'Members' }).click();
      await page.screenshot({ path: SHOT('group-members') });

      // Before the grant, a token naming the group cannot open the app.
      const before = await tokenWithGroup(groupId);
      const refused = await embedSession(before);
      assert.equal(refused.status, 403, `before the grant: /api/v1/embed/session ${refused.status} ${refused.text}`);

      await page.getByRole('tab', { name: 'Permissions' }).click();
      const view = page.getByLabel(`View ${APP_NAME}`, { exact: true });
      assert.equal(await view.isChecked(), false, 'View is already on');
      await view.check();
      const granted = await e2e.poll(async () => (await adminApi('GET', `/groups/${groupId}`)).permissions.some((p) => p.app_id === fx.appId && p.permission === 'apps:view'), { timeoutMs: 5000 });
      assert.ok(granted.ok, 'toggling View did not grant apps:view (GET /groups/{id})');
      assert.equal(await view.isChecked(), true);
      await h.sleep(400); // the switch's transition, for the screenshot
      await page.screenshot({ path: SHOT('group-permissions') });

      // Back to Groups: "…" → Copy group ID.
      await goTo(page, 'Groups');
      const row = page.getByRole('row', { name: new RegExp(escapeRe(groupName)) });
      await row.getByRole('button', { name: /actions|more|…|options/i }).click();
      await page.getByRole('menuitem', { name: 'Copy group ID' }).click();
      const copied = await e2e.poll(async () => {
        const v = await page.evaluate(() => navigator.clipboard.readText());
        return v === groupId ? v : null;
      }, { timeoutMs: 3000 });
      assert.ok(copied.ok, `the clipboard does not hold the group ID after "Copy group ID" (read ${JSON.stringify(copied.value)})`);
      await page.screenshot({ path: SHOT('groups') });
    }, { clipboard: true });

    // The copied ID in groupIds, and the app embedded with the official SDK on the host page.
    const email = 'casey.customer@customer.example';
    const token = await e2e.postToken(base, fx.embedToken, { email, name: 'Casey Customer', groupIds: [groupId] });
    assert.equal(token.status, 200, `POST /api/v1/public/token with the copied group ID: ${token.status} ${token.text}`);
    const claims = e2e.jwtParts(token.json.access_token).payload;
    assert.deepEqual(claims.rbac_group_objects, [{ id: groupId, name: groupName }]);
    await h.withHost(browser, h.hostUrl(host.origin, 'host.html', { sdk: 'official', base }), { base, tessera: t }, async (hp) => {
      await hp.mount({ src: `${base}/embed/applications/${fx.appId}`, token: token.json.access_token });
      const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded did not fire for the group granted in the console' });
      assert.equal(ev.data.id, fx.appId);
      await hp.waitForAppText('#user-email', email, { what: 'the user inside the embedded app' });
      await hp.waitForAppText('#user-groups', groupName, { what: 'the group inside the embedded app' });
      assert.equal((await hp.events('authError')).length, 0, 'an auth error');
      await hp.screenshot('console-embedded-app');
    });
  });

  async function tokenWithGroup(groupId) {
    let last;
    const r = await e2e.poll(async () => {
      last = await e2e.postToken(base, fx.embedToken, { email: 'probe@customer.example', groupIds: [groupId] });
      return last.status === 200 ? last.json.access_token : null;
    }, { timeoutMs: 3000 });
    assert.ok(r.ok, `a token with the new group: ${last && last.status} ${last && last.text}`);
    return r.value;
  }

  function embedSession(token) {
    return e2e.httpRequest(`${base}/api/v1/embed/session`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ app_id: fx.appId }) });
  }

  // ---- 3 -------------------------------------------------------------------------------------------

  it('3. revoking a token in the console: /public/token answers 401 within 1.5 s', async () => {
    const name = `Doomed backend ${Date.now()}`;
    const tok = t.cliJson('token', 'create', '--org', fx.orgId, '--name', name);
    await h.waitForTokenIssue(base, tok.token, { email: 'before.revoke@customer.example' });
    await withConsole('revoke-token', async ({ page }) => {
      await signIn(page, fx.owner);
      await openSettings(page);
      await goTo(page, 'Access Tokens');
      const row = page.getByRole('row', { name: new RegExp(escapeRe(name)) });
      await row.getByRole('button', { name: 'Revoke' }).click();
      const dlg = dialog(page);
      await dlg.waitFor();
      await page.screenshot({ path: SHOT('revoke-confirm') });
      const clicked = Date.now();
      await dlg.getByRole('button', { name: 'Revoke' }).click();
      let last;
      const r = await e2e.poll(async () => {
        last = await e2e.postToken(base, tok.token, { email: 'after.revoke@customer.example' });
        return last.status === 401;
      }, { timeoutMs: REVOKE_LIMIT_MS, intervalMs: 50 });
      assert.ok(r.ok, `POST /api/v1/public/token still answers ${last.status} ${Date.now() - clicked} ms after confirming the revoke`);
      const listed = (await adminApi('GET', '/access-tokens')).find((x) => x.id === tok.id);
      assert.ok(listed.revoked_at, 'the API does not show the token as revoked');
      // The list shows it revoked, with no Revoke button any more.
      await dlg.waitFor({ state: 'detached' });
      await row.getByText(/revoked/i).waitFor();
      assert.equal(await row.getByRole('button', { name: 'Revoke' }).count(), 0, 'a revoked token still has a Revoke button');
      await page.screenshot({ path: SHOT('token-revoked') });
    });
  });

  // ---- 4 -------------------------------------------------------------------------------------------

  it('4. a developer: no way to create or reveal a token in the UI, and the API refuses it with their cookie + CSRF token (403)', async () => {
    await withConsole('developer', async ({ page, context }) => {
      await signIn(page, fx.developer);
      await openSettings(page);
      await goTo(page, 'Access Tokens');
      // Wait for the list itself (the seeded token), then look for the create button.
      await page.getByRole('row', { name: /host-backend/ }).waitFor();
      const create = page.getByRole('button', { name: /Create token/i });
      const n = await create.count();
      assert.ok(n === 0 || (await create.first().isDisabled()), 'a developer has an enabled "+ Create token" button');
      assert.equal(await page.getByRole('button', { name: 'Revoke' }).count(), 0, 'a developer has Revoke buttons');
      assert.equal(await page.locator('#new-token-value').count(), 0);
      assert.ok(!(await htmlOf(page)).includes(fx.embedToken.slice(4)), 'a token value is in the page');
      await page.screenshot({ path: SHOT('developer-tokens') });

      // The API, from the console's own origin with the developer's cookie and CSRF token.
      const res = await page.evaluate(async (orgId) => {
        const s = await fetch('/api/v1/auth/session', { cache: 'no-store' }).then((r) => r.json());
        const csrf = s && s.data && s.data.csrf_token;
        const r = await fetch(`/api/v1/organizations/${orgId}/access-tokens`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf || '' },
          body: JSON.stringify({ name: 'developer token', type: 'embed' }),
        });
        return { role: s && s.data && s.data.user.role, hasCsrf: !!csrf, status: r.status, text: await r.text() };
      }, fx.orgId);
      assert.equal(res.role, 'developer');
      assert.ok(res.hasCsrf, 'the developer session has no CSRF token');
      assert.equal(res.status, 403, `a developer creating a token: ${res.status} ${res.text}`);
      assert.ok(!/tse_|tsa_/.test(res.text));
      // The same from outside the browser, with the cookie the browser holds.
      const cookie = (await context.cookies(base)).find((c) => c.name === 'tessera_console');
      assert.ok(cookie, 'no tessera_console cookie in the browser');
      assert.equal(cookie.httpOnly, true, 'the console cookie is not HttpOnly');
      assert.equal(cookie.sameSite, 'Strict', 'the console cookie is not SameSite=Strict');
      const s = await e2e.httpRequest(`${base}/api/v1/auth/session`, { headers: { cookie: `tessera_console=${cookie.value}` } });
      const r2 = await e2e.httpRequest(`${base}/api/v1/organizations/${fx.orgId}/access-tokens`, {
        method: 'POST',
        headers: { cookie: `tessera_console=${cookie.value}`, 'x-csrf-token': s.json.data.csrf_token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'developer admin token', type: 'admin' }),
      });
      assert.equal(r2.status, 403, `a developer creating an admin token: ${r2.status} ${r2.text}`);
      assert.ok(!(await adminApi('GET', '/access-tokens')).some((x) => /^developer/.test(x.name)), 'a developer token was created');

      // Groups: no "+ Add group", the View toggles are read-only.
      await goTo(page, 'Groups');
      const add = page.getByRole('button', { name: /Add group/i });
      assert.ok((await add.count()) === 0 || (await add.first().isDisabled()), 'a developer has an enabled "+ Add group" button');
    });
  });

  // ---- 5 -------------------------------------------------------------------------------------------

  it('5. the console refuses to be framed by a page of another origin', async () => {
    const direct = await e2e.httpRequest(`${base}/console/`);
    assert.equal(direct.status, 200);
    assert.equal((direct.headers.get('x-frame-options') || '').toUpperCase(), 'DENY', 'X-Frame-Options');
    assert.match(direct.headers.get('content-security-policy') || '', /frame-ancestors 'none'/, 'CSP frame-ancestors');
    await h.withHost(browser, h.hostUrl(host.origin, 'host.html', { sdk: 'official' }), { base, tessera: t }, async (hp) => {
      const consoleUrl = `${base}/console/`;
      let served = null;
      hp.page.on('response', (r) => {
        if (r.url() === consoleUrl) served = r.status();
      });
      await Promise.race([hp.page.evaluate((u) => window.addFrame(u), consoleUrl), h.sleep(5000)]);
      await h.sleep(500);
      assert.equal(served, 200, 'the framed /console/ was not even requested (the test proves nothing)');
      const frame = hp.page.frames().find((f) => f !== hp.page.mainFrame());
      assert.ok(frame, 'no child frame');
      let rendered = null;
      try {
        rendered = await frame.evaluate(() => ({ url: location.href, app: !!document.getElementById('app'), text: document.body ? document.body.innerText.slice(0, 200) : '' }));
      } catch (e) {
        rendered = { error: e.message.split('\n')[0] };
      }
      assert.ok(!rendered.app, `the framed console rendered: ${JSON.stringify(rendered)}`);
      const loaded = hp.requests.filter((r) => r.url.startsWith(`${base}/console/`) && r.url !== consoleUrl).map((r) => r.url);
      assert.deepEqual(loaded, [], 'the framed console loaded its scripts');
      assert.ok(!hp.requests.some((r) => r.url.startsWith(`${base}/api/v1/auth/`)), 'the framed console called the API');
      await hp.screenshot('console-framed-refused');
    });
  });

  // ---- 6 -------------------------------------------------------------------------------------------

  it('6. a screenshot of every console page', async () => {
    await withConsole('screenshots', async ({ page }) => {
      await page.goto(`${base}/console/`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.screenshot({ path: SHOT('signin') });
      await signIn(page, fx.owner);
      await page.screenshot({ path: SHOT('home') });
      await openSettings(page);

      await goTo(page, 'Access Tokens');
      await page.getByRole('row', { name: /host-backend/ }).waitFor();
      await page.screenshot({ path: SHOT('tokens-list') });
      await page.getByRole('button', { name: /^\+\s*Create token$/ }).click();
      const dlg = dialog(page);
      await dlg.getByLabel('Name', { exact: true }).fill('Screenshot token');
      await page.screenshot({ path: SHOT('token-create-dialog') });
      await dlg.getByRole('button', { name: 'Create', exact: true }).click();
      await page.locator('#new-token-value').waitFor();
      await page.screenshot({ path: SHOT('token-create-dialog-value') });
      await page.keyboard.press('Escape');
      await dlg.waitFor({ state: 'detached' });

      await goTo(page, 'Groups');
      const gname = `Screenshot group ${Date.now()}`;
      await page.getByRole('button', { name: /^\+\s*Add group$/ }).click();
      await dialog(page).getByLabel('Name', { exact: true }).fill(gname);
      await dialog(page).getByRole('button', { name: 'Create', exact: true }).click();
      await dialog(page).waitFor({ state: 'detached' });
      await goTo(page, 'Groups');
      await page.getByRole('row', { name: new RegExp(escapeRe(gname)) }).waitFor();
      await page.screenshot({ path: SHOT('groups-list') });
      await page.getByRole('link', { name: gname, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: gname }).waitFor();
      await page.getByRole('tab', { name: 'Members' }).click();
      // Add the developer as a member through the Members tab.
      await page.getByLabel(/email/i).fill(fx.developer.email);
      await page.getByRole('button', { name: /^Add member$/ }).click();
      await page.getByRole('row', { name: new RegExp(escapeRe(fx.developer.email)) }).waitFor();
      await page.screenshot({ path: SHOT('group-members-list') });
      await page.getByRole('tab', { name: 'Permissions' }).click();
      await page.getByLabel(`View ${APP_NAME}`, { exact: true }).waitFor();
      await page.screenshot({ path: SHOT('group-permissions-list') });

      await goTo(page, 'Applications');
      await page.getByRole('link', { name: APP_NAME, exact: true }).waitFor();
      await page.screenshot({ path: SHOT('applications') });
      await page.getByRole('link', { name: APP_NAME, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: new RegExp(escapeRe(APP_NAME)) }).waitFor();
      const url = `${base}/embed/applications/${fx.appId}`;
      const snippet = await e2e.poll(async () => (await htmlOf(page)).includes(url), { timeoutMs: h.WAIT_MS });
      assert.ok(snippet.ok, `the application page shows no snippet with the app URL ${url}`);
      const js = await page.getByRole('tabpanel').filter({ hasText: url }).first().textContent();
      assert.match(js, /createSuperblocksEmbed|SuperblocksEmbed/, 'the visible snippet is not embed code');
      await page.screenshot({ path: SHOT('application'), fullPage: true });

      await goTo(page, 'Identity providers');
      await page.locator('[data-state="empty"], table').first().waitFor();
      await page.screenshot({ path: SHOT('identity-providers-page') });
      await goTo(page, 'Integrations');
      await page.locator('[data-state="empty"], table').first().waitFor();
      await page.screenshot({ path: SHOT('integrations-page') });

      await goTo(page, 'Members');
      await page.getByRole('row', { name: new RegExp(escapeRe(fx.owner.email)) }).waitFor();
      await page.screenshot({ path: SHOT('members') });

      await goTo(page, 'Signing keys');
      await page.getByText(/active/i).first().waitFor();
      await page.screenshot({ path: SHOT('signing-keys') });

      await goTo(page, 'Audit log');
      await page.getByText('token.created').first().waitFor();
      await page.screenshot({ path: SHOT('audit-log') });

      // Sign out from the avatar menu ends the session.
      await avatar(page).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.reload();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.screenshot({ path: SHOT('signed-out') });
    });
  });

  // ---- 7 -------------------------------------------------------------------------------------------

  // What is announced with a control (the visible elements its aria-describedby names), and
  // whether each sits in the control's own field, i.e. next to it.
  function describedBy(control) {
    return control.evaluate((el) => {
      const own = el.closest('.field');
      return (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)
        .map((id) => document.getElementById(id))
        .filter((n) => n && n.checkVisibility())
        .map((n) => ({ text: n.textContent.trim(), nextToField: !!own && own.contains(n) }));
    });
  }

  async function assertFieldError(control, re, what) {
    let seen = [];
    // Waits for the field to be marked invalid too: a help text under the field may match re
    // before the server's error has arrived.
    const r = await e2e.poll(async () => {
      seen = await describedBy(control);
      if ((await control.getAttribute('aria-invalid')) !== 'true') return null;
      return seen.find((d) => re.test(d.text)) || null;
    }, { timeoutMs: h.WAIT_MS });
    assert.ok(r.ok, `${what}: no error matching ${re} is shown with the field (it shows ${JSON.stringify(seen)})`);
    assert.ok(r.value.nextToField, `${what}: the error is not next to the field`);
    assert.equal(await control.getAttribute('aria-invalid'), 'true', `${what}: the field is not marked aria-invalid`);
  }

  const helpOf = async (control) => (await describedBy(control)).map((d) => d.text).join(' ');

  // Clicks the dialog's submit button and returns the JSON body of the request it sent.
  async function submitAndCapture(page, dlg, method, pathRe, buttonName) {
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === method && pathRe.test(new URL(r.url()).pathname)),
      dlg.getByRole('button', { name: buttonName, exact: true }).click(),
    ]);
    return req.postDataJSON();
  }

  it('7. owner adds an identity provider (field errors, JWKS URL, pasted JWKS), edits its audience and deletes it', async () => {
    const issuer = 'https://idp.example.com/oauth2/default';
    const jwksUri = 'https://idp.example.com/oauth2/default/v1/keys';
    assert.deepEqual(await adminApi('GET', '/idps'), [], 'the fixture already has identity providers');
    await withConsole('idps', async ({ page }) => {
      await signIn(page, fx.owner);
      await openSettings(page);
      // The two new pages sit right after Applications.
      const names = (await sidebar(page).getByRole('link').allTextContents()).map((x) => x.trim());
      const at = names.indexOf('Applications');
      assert.deepEqual(names.slice(at, at + 3), ['Applications', 'Identity providers', 'Integrations'], `sidebar: ${names.join(', ')}`);
      await goTo(page, 'Identity providers');

      // The empty state explains, and holds the primary button; the hint names the token endpoint and the guide.
      const empty = page.locator('[data-state="empty"]');
      await empty.waitFor();
      assert.match(await empty.textContent(), /issuer/i, 'the empty state does not explain what an identity provider is');
      const desc = await page.locator('.page-desc').textContent();
      assert.match(desc, /subject_token.*POST \/api\/v1\/public\/token/, `the page hint: ${desc}`);
      assert.match(desc, /TOKEN-EXCHANGE\.md/, 'the page hint does not point to the guide');
      await page.screenshot({ path: SHOT('idps-empty') });
      await empty.getByRole('button', { name: /^\+\s*Add identity provider$/ }).click();
      const dlg = dialog(page);
      await dlg.waitFor();

      // Defaults: keys from a JWKS URL, email claim "email", all three algorithms.
      assert.equal(await dlg.getByRole('radio', { name: 'JWKS URL' }).isChecked(), true, 'keys do not come from a JWKS URL by default');
      assert.equal(await dlg.getByLabel('Email claim').inputValue(), 'email');
      for (const a of ['RS256', 'PS256', 'ES256']) assert.equal(await dlg.getByRole('checkbox', { name: a }).isChecked(), true, `${a} is not checked by default`);
      assert.match(await dlg.textContent(), /YOUR_DOMAIN\.okta\.com\/oauth2\/default/, 'no issuer example in the dialog');
      assert.match(await helpOf(dlg.getByLabel('Audience')), /less safe/i, 'the audience help does not say that skipping the check is less safe');

      // An http:// issuer: the server's error shows next to Issuer (submitted with Enter), nothing is created.
      await dlg.getByLabel('Name', { exact: true }).fill('Okta');
      const issuerInput = dlg.getByLabel('Issuer', { exact: true });
      await dlg.getByRole('textbox', { name: 'JWKS URL' }).fill(jwksUri);
      await issuerInput.fill('http://idp.example.com');
      const [bad] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && /\/idps$/.test(new URL(r.url()).pathname)),
        issuerInput.press('Enter'),
      ]);
      assert.equal(bad.status(), 400, 'the http:// issuer was not refused by the server');
      await assertFieldError(issuerInput, /issuer must be an https:\/\/ URL/i, 'http:// issuer');
      assert.equal(await dlg.locator('.form-error:not([hidden])').count(), 0, 'the issuer error is (also) shown at the bottom of the dialog');
      assert.deepEqual(await adminApi('GET', '/idps'), [], 'an identity provider was created with an http:// issuer');
      await page.screenshot({ path: SHOT('idp-dialog-error') });

      await issuerInput.fill(issuer);
      const created = await submitAndCapture(page, dlg, 'POST', /\/idps$/, 'Add');
      assert.deepEqual(created, { name: 'Okta', issuer, jwks_uri: jwksUri, audience: '', email_claim: 'email', algorithms: ['RS256', 'PS256', 'ES256'] });
      await dlg.waitFor({ state: 'detached' });
      const row = page.getByRole('row', { name: /Okta/ });
      await row.waitFor();
      const rowText = await row.textContent();
      for (const want of [issuer, 'JWKS URL', jwksUri, 'any', 'RS256', 'PS256', 'ES256']) assert.ok(rowText.includes(want), `the row does not show ${want}: ${rowText}`);
      let [idp] = await adminApi('GET', '/idps');
      assert.equal(idp.issuer, issuer);
      assert.equal(idp.jwks_uri, jwksUri);
      assert.equal(idp.jwks, null);
      assert.equal(idp.audience, '');
      await page.screenshot({ path: SHOT('idps') });

      // Edit: the same dialog, prefilled; only the changed field is sent.
      await row.getByRole('button', { name: /^Edit/ }).click();
      await dlg.waitFor();
      assert.equal(await dlg.getByLabel('Issuer', { exact: true }).inputValue(), issuer, 'the edit dialog is not prefilled');
      assert.equal(await dlg.getByRole('textbox', { name: 'JWKS URL' }).inputValue(), jwksUri);
      await dlg.getByLabel('Audience').fill('api://default');
      await page.screenshot({ path: SHOT('idp-edit-dialog') });
      const patch = await submitAndCapture(page, dlg, 'PATCH', new RegExp(`/idps/${idp.id}$`), 'Save');
      assert.deepEqual(patch, { audience: 'api://default' }, 'the edit sent more than the changed field');
      await dlg.waitFor({ state: 'detached' });
      await row.getByText('api://default').waitFor();
      [idp] = await adminApi('GET', '/idps');
      assert.equal(idp.audience, 'api://default', 'GET /idps does not show the edited audience');
      assert.equal(idp.jwks_uri, jwksUri, 'the edit lost the JWKS URL');

      // Delete asks first; the empty state comes back.
      await row.getByRole('button', { name: /^Delete/ }).click();
      await dlg.waitFor();
      assert.match(await dlg.textContent(), /cannot be undone/i);
      await page.screenshot({ path: SHOT('idp-delete-confirm') });
      await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
      await dlg.waitFor({ state: 'detached' });
      await page.locator('[data-state="empty"]').waitFor();
      assert.deepEqual(await adminApi('GET', '/idps'), [], 'the identity provider is still there after Delete');

      // Pasted JWKS with one EC P-256 key, ES256 only. The choice is made with the keyboard.
      const kid = `console-ec-${Date.now()}`;
      const jwk = { ...crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' };
      await page.getByRole('button', { name: /^\+\s*Add identity provider$/ }).click();
      await dlg.waitFor();
      await dlg.getByLabel('Name', { exact: true }).fill('Pasted keys');
      await dlg.getByLabel('Issuer', { exact: true }).fill('https://keys.example.com');
      await dlg.getByRole('radio', { name: 'JWKS URL' }).focus();
      await page.keyboard.press('ArrowDown');
      assert.equal(await dlg.getByRole('radio', { name: 'Paste JWKS' }).isChecked(), true, 'the arrow key did not choose "Paste JWKS"');
      assert.equal(await dlg.getByRole('textbox', { name: 'JWKS URL' }).isVisible(), false, 'the JWKS URL field is still shown');
      const jwksInput = dlg.getByRole('textbox', { name: 'JWKS', exact: true });
      await jwksInput.fill('{"keys": [ not json');
      await dlg.getByRole('checkbox', { name: 'RS256' }).uncheck();
      await dlg.getByRole('checkbox', { name: 'PS256' }).uncheck();
      let posted = 0;
      const countPosts = (r) => { if (r.method() === 'POST' && /\/idps$/.test(new URL(r.url()).pathname)) posted += 1; };
      page.on('request', countPosts);
      await dlg.getByRole('button', { name: 'Add', exact: true }).click();
      await assertFieldError(jwksInput, /not valid JSON/i, 'JWKS that is not JSON');
      page.off('request', countPosts);
      assert.equal(posted, 0, 'JWKS that is not JSON was sent to the server');
      await page.screenshot({ path: SHOT('idp-dialog-jwks-error') });
      await jwksInput.fill(JSON.stringify({ keys: [jwk] }, null, 2));
      const pasted = await submitAndCapture(page, dlg, 'POST', /\/idps$/, 'Add');
      assert.deepEqual(pasted.jwks, { keys: [jwk] });
      assert.deepEqual(pasted.algorithms, ['ES256']);
      assert.equal('jwks_uri' in pasted, false, 'a pasted JWKS was sent with a jwks_uri');
      await dlg.waitFor({ state: 'detached' });
      const row2 = page.getByRole('row', { name: /Pasted keys/ });
      await row2.waitFor();
      const row2Text = await row2.textContent();
      assert.match(row2Text, /Inline JWKS/);
      assert.match(row2Text, /ES256/);
      assert.doesNotMatch(row2Text, /RS256|PS256/);
      const [inline] = await adminApi('GET', '/idps');
      assert.equal(inline.jwks_uri, null);
      assert.deepEqual(inline.algorithms, ['ES256']);
      assert.equal(inline.jwks.keys.length, 1);
      assert.equal(inline.jwks.keys[0].kid, kid);
      assert.equal(inline.jwks.keys[0].x, jwk.x);
      await page.screenshot({ path: SHOT('idps-inline') });
    });
  });

  // ---- 8 -------------------------------------------------------------------------------------------

  it('8. owner adds an integration: the client secret is never shown, the snippet has its ID and Copy works; an edit with an empty secret keeps it', async () => {
    const secret = `isec-${crypto.randomBytes(24).toString('base64url')}`;
    const name = 'Orders API';
    const origin = new URL(base).origin;
    const noSecret = async (page, when) => {
      assert.ok(!(await htmlOf(page)).includes(secret), `the client secret is in the page HTML ${when}`);
      const stored = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage } }));
      assert.ok(!stored.includes(secret), `the client secret is in web storage ${when}`);
    };
    await withConsole('integrations', async ({ page }) => {
      await signIn(page, fx.owner);
      await openSettings(page);
      await goTo(page, 'Integrations');
      const empty = page.locator('[data-state="empty"]');
      await empty.waitFor();
      assert.match(await empty.textContent(), /API/, 'the empty state does not explain what an integration is');
      await page.screenshot({ path: SHOT('integrations-empty') });
      await empty.getByRole('button', { name: /^\+\s*Add integration$/ }).click();
      const dlg = dialog(page);
      await dlg.waitFor();
      await dlg.getByLabel('Name', { exact: true }).fill(name);
      await dlg.getByLabel('API base URL').fill('https://api.example.com');
      await dlg.getByLabel('Token URL').fill('https://idp.example.com/oauth2/default/v1/token');
      await dlg.getByLabel('Client ID').fill('tessera-exchange');
      const secretInput = dlg.getByLabel('Client secret');
      assert.equal(await secretInput.getAttribute('type'), 'password', 'the client secret is not a password field');
      assert.equal(await secretInput.getAttribute('autocomplete'), 'off');
      await secretInput.fill(secret);
      await dlg.getByLabel('Audience').fill('api://orders');
      await page.screenshot({ path: SHOT('integration-dialog') });
      const body = await submitAndCapture(page, dlg, 'POST', /\/integrations$/, 'Add');
      assert.deepEqual(body, {
        name, base_url: 'https://api.example.com', token_url: 'https://idp.example.com/oauth2/default/v1/token',
        client_id: 'tessera-exchange', audience: 'api://orders', client_secret: secret,
      });
      await dlg.waitFor({ state: 'detached' });
      const row = page.getByRole('row', { name: new RegExp(escapeRe(name)) });
      await row.waitFor();
      const rowText = await row.textContent();
      for (const want of ['https://api.example.com', 'https://idp.example.com/oauth2/default/v1/token', 'tessera-exchange', 'api://orders']) {
        assert.ok(rowText.includes(want), `the row does not show ${want}: ${rowText}`);
      }
      let [it] = await adminApi('GET', '/integrations');
      assert.equal(it.name, name);
      assert.equal(it.has_client_secret, true);
      assert.ok(!JSON.stringify(it).includes(secret), 'GET /integrations returns the secret');
      await noSecret(page, 'after creating the integration');

      // "How apps call it": the snippet with this console's origin and the integration's ID; Copy.
      const card = page.getByRole('region', { name: new RegExp(`How apps call.*${escapeRe(name)}`) });
      await card.waitFor();
      const want = [
        `import * as tessera from '${origin}/sdk/app.js';`,
        `const res = await tessera.fetch('${it.id}', '/orders?status=open');`,
        'const orders = await res.json();',
      ].join('\n');
      const shown = (await card.locator('pre').textContent()).trim();
      assert.equal(shown, want, 'the snippet differs');
      await card.getByRole('button', { name: /^Copy/ }).click();
      const clip = await e2e.poll(async () => {
        const v = await page.evaluate(() => navigator.clipboard.readText());
        return v === want ? v : null;
      }, { timeoutMs: 3000 });
      assert.ok(clip.ok, `Copy did not put the snippet on the clipboard (read ${JSON.stringify(clip.value)})`);
      await page.screenshot({ path: SHOT('integrations'), fullPage: true });

      // Edit with the secret left empty: only the changed field goes out, and the secret stays.
      await row.getByRole('button', { name: /^Edit/ }).click();
      await dlg.waitFor();
      assert.equal(await dlg.getByLabel('Client secret').inputValue(), '', 'the edit dialog prefills the secret');
      assert.match(await helpOf(dlg.getByLabel('Client secret')), /leave empty to keep/i, 'the secret field does not say that empty keeps it');
      assert.equal(await dlg.getByLabel('Client ID').inputValue(), 'tessera-exchange', 'the edit dialog is not prefilled');
      await noSecret(page, 'in the edit dialog');
      await dlg.getByLabel(/^Scope/).fill('orders.read');
      await page.screenshot({ path: SHOT('integration-edit-dialog') });
      const patch = await submitAndCapture(page, dlg, 'PATCH', new RegExp(`/integrations/${it.id}$`), 'Save');
      assert.deepEqual(patch, { scope: 'orders.read' }, 'the edit sent more than the changed field');
      await dlg.waitFor({ state: 'detached' });
      await row.getByText('orders.read').waitFor();
      [it] = await adminApi('GET', '/integrations');
      assert.equal(it.scope, 'orders.read');
      assert.equal(it.has_client_secret, true, 'an edit with an empty secret dropped the secret');

      // A second one with the same name: the 409 shows next to Name.
      await page.getByRole('button', { name: /^\+\s*Add integration$/ }).click();
      await dlg.waitFor();
      await dlg.getByLabel('Name', { exact: true }).fill(name);
      await dlg.getByLabel('API base URL').fill('https://api2.example.com');
      await dlg.getByLabel('Token URL').fill('https://idp.example.com/oauth2/default/v1/token');
      await dlg.getByLabel('Client ID').fill('other');
      await dlg.getByLabel('Client secret').fill('another secret');
      await dlg.getByLabel('Audience').fill('api://other');
      await dlg.getByRole('button', { name: 'Add', exact: true }).click();
      await assertFieldError(dlg.getByLabel('Name', { exact: true }), /already exists/i, 'duplicate name');
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      await dlg.waitFor({ state: 'detached' });

      // Delete asks first.
      const scratch = await adminApi('POST', '/integrations', {
        name: 'Scratch API', base_url: 'https://scratch.example.com', token_url: 'https://idp.example.com/token',
        client_id: 'scratch', client_secret: 'scratch secret', audience: 'api://scratch',
      });
      await page.reload();
      const scratchRow = page.getByRole('row', { name: /Scratch API/ });
      await scratchRow.getByRole('button', { name: /^Delete/ }).click();
      await dlg.waitFor();
      assert.match(await dlg.textContent(), /cannot be undone/i);
      await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
      await dlg.waitFor({ state: 'detached' });
      await scratchRow.waitFor({ state: 'detached' });
      const left = await adminApi('GET', '/integrations');
      assert.ok(!left.some((x) => x.id === scratch.id), 'the integration is still there after Delete');
      assert.ok(left.some((x) => x.id === it.id), 'Delete removed the wrong integration');
      await noSecret(page, 'at the end');
    }, { clipboard: true });
  });

  // ---- 9 -------------------------------------------------------------------------------------------

  it('9. a developer sees Identity providers and Integrations read-only', async () => {
    // Something to list on both pages (left by tests 7 and 8, or made here when run alone).
    if ((await adminApi('GET', '/idps')).length === 0) {
      await adminApi('POST', '/idps', { name: 'Dev view IdP', issuer: 'https://dev-view.example.com', jwks_uri: 'https://dev-view.example.com/keys' });
    }
    if ((await adminApi('GET', '/integrations')).length === 0) {
      await adminApi('POST', '/integrations', {
        name: 'Dev view API', base_url: 'https://api.example.com', token_url: 'https://idp.example.com/token',
        client_id: 'dev-view', client_secret: 'dev view secret', audience: 'api://dev-view',
      });
    }
    await withConsole('developer-token-exchange', async ({ page }) => {
      await signIn(page, fx.developer);
      await openSettings(page);
      const noControls = async (what) => {
        await page.locator('table tbody tr').first().waitFor();
        await page.locator('[data-readonly]').waitFor();
        const buttons = page.getByRole('main').getByRole('button', { name: /add|create|new|edit|delete|remove/i });
        assert.equal(await buttons.count(), 0, `${what}: a developer has ${await buttons.allTextContents()}`);
      };
      await goTo(page, 'Identity providers');
      await noControls('Identity providers');
      await page.screenshot({ path: SHOT('developer-identity-providers') });
      await goTo(page, 'Integrations');
      await noControls('Integrations');
      // The snippet is there to read.
      await page.getByRole('region', { name: /How apps call/ }).first().waitFor();
      await page.screenshot({ path: SHOT('developer-integrations'), fullPage: true });
    });
  });

  // ---- 10 ------------------------------------------------------------------------------------------

  it('10. webhooks: add (secret shown once, Copy), events arrive signed, delivery log, test ping, disable, rotate, edit, delete; developers read only', async () => {
    // A receiver on loopback (http:// is allowed there) that records requests and their signatures.
    const http = require('node:http');
    const received = [];
    const rx = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise((r) => rx.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${rx.address().port}/tessera-events`;
    const verifies = (secret, q) => {
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(q.headers['tessera-signature'] || '');
      return !!m && crypto.createHmac('sha256', secret).update(`${m[1]}.`).update(q.raw).digest('hex') === m[2];
    };
    const secretOf = async (page) => (await page.locator('#new-webhook-secret').textContent()).trim();
    const rowOf = (page) => page.getByRole('row', { name: new RegExp(escapeRe(hookUrl)) });
    const menuAction = async (page, item) => {
      await page.getByRole('button', { name: `Actions for ${hookUrl}` }).click();
      await page.getByRole('menuitem', { name: item, exact: true }).click();
    };
    try {
      await withConsole('webhooks', async ({ page }) => {
        await signIn(page, fx.owner);
        await openSettings(page);
        await goTo(page, 'Webhooks');
        const empty = page.locator('[data-state="empty"]');
        await empty.waitFor();
        await page.screenshot({ path: SHOT('webhooks-empty'), fullPage: true });
        await empty.getByRole('button', { name: /^\+\s*Add webhook$/ }).click();
        const dlg = dialog(page);
        await dlg.waitFor();
        for (const type of ['session.created', 'session.refreshed', 'session.revoked', 'session.denied']) {
          assert.equal(await dlg.getByRole('checkbox', { name: type }).isChecked(), true, `${type} is not checked by default`);
        }
        await dlg.getByRole('checkbox', { name: 'session.denied' }).uncheck();
        await dlg.getByLabel('Endpoint URL').fill('http://hooks.example.com/x');
        await dlg.getByRole('button', { name: 'Add', exact: true }).click();
        await assertFieldError(dlg.getByLabel('Endpoint URL'), /https/i, 'a plain-http URL');
        await dlg.getByLabel('Endpoint URL').fill(hookUrl);
        await page.screenshot({ path: SHOT('webhook-add-dialog') });
        const body = await submitAndCapture(page, dlg, 'POST', /\/webhooks$/, 'Add');
        assert.deepEqual(body, { url: hookUrl, events: ['session.created', 'session.refreshed', 'session.revoked'] });

        // The secret, once, with the warning and Copy.
        await page.locator('#new-webhook-secret').waitFor();
        const secret = await secretOf(page);
        assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
        await dlg.getByText(/shown only once/i).waitFor();
        await dlg.getByRole('button', { name: /^Copy/ }).click();
        const clip = await e2e.poll(async () => ((await page.evaluate(() => navigator.clipboard.readText())) === secret ? true : null), { timeoutMs: 3000 });
        assert.ok(clip.ok, 'Copy did not put the secret on the clipboard');
        await page.screenshot({ path: SHOT('webhook-secret') });
        await dlg.getByRole('button', { name: 'Done' }).click();
        await dlg.waitFor({ state: 'detached' });
        const row = rowOf(page);
        await row.getByText('Active').waitFor();
        assert.ok(!(await htmlOf(page)).includes(secret), 'the secret is still in the page after the dialog closed');
        const [listed] = await adminApi('GET', '/webhooks');
        assert.equal(listed.url, hookUrl);
        assert.ok(!JSON.stringify(listed).includes(secret), 'GET /webhooks shows the secret');

        // A session event arrives, signed with that secret.
        const s = await e2e.postToken(base, fx.embedToken, { email: 'hooked@customer.example', metadata: { externalUserId: 'u-42' } });
        assert.equal(s.status, 200, s.text);
        const jti = e2e.jwtParts(s.json.access_token).payload.jti;
        const got = await e2e.poll(() => received.find((q) => q.raw.includes(jti)), { timeoutMs: h.WAIT_MS });
        assert.ok(got.ok, 'the session.created event did not arrive');
        assert.ok(verifies(secret, got.value), 'the event does not verify with the secret the console showed');
        assert.equal(JSON.parse(got.value.raw).data.correlation_id, 'u-42');

        // Its delivery log.
        await row.getByRole('button', { name: /^Deliveries/ }).click();
        await dlg.waitFor();
        const delivered = dlg.getByRole('row', { name: /session\.created/ }).first();
        const seen = await e2e.poll(async () => {
          if (await delivered.count()) return true;
          await dlg.getByRole('button', { name: 'Refresh' }).click();
          await h.sleep(300);
          return null;
        }, { timeoutMs: h.WAIT_MS });
        assert.ok(seen.ok, 'the delivery is not in the log');
        const text = await delivered.textContent();
        assert.match(text, /Delivered/);
        assert.match(text, /200/);
        await page.screenshot({ path: SHOT('webhook-deliveries') });
        await page.keyboard.press('Escape');
        await dlg.waitFor({ state: 'detached' });

        // Send test: a webhook.ping arrives and is logged.
        const before = received.length;
        await menuAction(page, 'Send test');
        await page.getByText(/Test delivered: HTTP 200/).waitFor();
        assert.ok(received.slice(before).some((q) => q.headers['tessera-event-type'] === 'webhook.ping' && verifies(secret, q)), 'no signed ping arrived');

        // Disable: the row says so, and the API agrees.
        await menuAction(page, 'Disable');
        await rowOf(page).getByText('Disabled').waitFor();
        assert.equal((await adminApi('GET', '/webhooks'))[0].enabled, false);
        await page.screenshot({ path: SHOT('webhooks'), fullPage: true });

        // Rotate: a new secret, once.
        await menuAction(page, 'Rotate secret');
        await dlg.waitFor();
        await dlg.getByRole('button', { name: 'Rotate secret' }).click();
        await page.locator('#new-webhook-secret').waitFor();
        const rotated = await secretOf(page);
        assert.match(rotated, /^whsec_/);
        assert.notEqual(rotated, secret);
        await dlg.getByText(/shown only once/i).waitFor();
        await dlg.getByRole('button', { name: 'Done' }).click();
        await dlg.waitFor({ state: 'detached' });

        // Edit: only the changed field goes out.
        await menuAction(page, 'Edit');
        await dlg.waitFor();
        assert.equal(await dlg.getByLabel('Endpoint URL').inputValue(), hookUrl);
        assert.equal(await dlg.getByRole('checkbox', { name: 'session.denied' }).isChecked(), false);
        await dlg.getByRole('checkbox', { name: 'session.denied' }).check();
        const patch = await submitAndCapture(page, dlg, 'PATCH', /\/webhooks\/[0-9a-f-]{36}$/, 'Save');
        assert.deepEqual(patch, { events: ['session.created', 'session.refreshed', 'session.revoked', 'session.denied'] });
        await dlg.waitFor({ state: 'detached' });
        await rowOf(page).getByText('session.denied').waitFor();
        assert.ok(!(await htmlOf(page)).includes(rotated), 'the rotated secret is still in the page');

        // Delete asks first.
        await menuAction(page, 'Delete');
        await dlg.waitFor();
        assert.match(await dlg.textContent(), /cannot be undone/i);
        await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
        await dlg.waitFor({ state: 'detached' });
        await rowOf(page).waitFor({ state: 'detached' });
        assert.deepEqual(await adminApi('GET', '/webhooks'), []);
      }, { clipboard: true });

      // A developer: the list and the delivery log, no way to change anything.
      const devHook = await adminApi('POST', '/webhooks', { url: 'https://dev-view.example.com/hooks', enabled: false });
      await withConsole('developer-webhooks', async ({ page }) => {
        await signIn(page, fx.developer);
        await openSettings(page);
        await goTo(page, 'Webhooks');
        await page.locator('table tbody tr').first().waitFor();
        await page.locator('[data-readonly]').waitFor();
        const buttons = page.getByRole('main').getByRole('button', { name: /add|create|new|edit|delete|remove|rotate|disable|enable|actions/i });
        assert.equal(await buttons.count(), 0, `a developer has ${await buttons.allTextContents()}`);
        await page.getByRole('button', { name: /^Deliveries/ }).click();
        await dialog(page).getByText(/No deliveries yet/).waitFor();
        await page.screenshot({ path: SHOT('developer-webhooks') });
      });
      await adminApi('DELETE', `/webhooks/${devHook.id}`);
    } finally {
      rx.close();
    }
  });
});
