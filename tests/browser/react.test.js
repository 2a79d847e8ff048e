'use strict';
// React bindings (sdk/react/index.js, @tessera/embed-react) with React 18 from npm:
//   - <SuperblocksEmbed> on a host page (pages/react-host.html): props src, token, properties,
//     colorScheme and the callbacks; a changed token prop refreshes in place
//   - useSuperblocksUser() inside an app: fixtures/react-app, deployed as an app bundle

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const ADMIN = { email: 'ada.admin@customer.example', name: 'Ada Admin', metadata: { isAdmin: true, tenant: 'acme-42' } };
const VIEWER = { email: 'vic.viewer@customer.example', name: 'Vic Viewer', metadata: { isAdmin: false } };

// Assembles the React app bundle: the fixture, React's UMD builds, and
// sdk/react/index.js with its 'react' import resolved to react-shim.js (what
// an app author's bundler would do).
function buildReactApp() {
  const dir = h.tempDir('tessera-react-app-');
  h.copyDir(path.join(h.FIXTURES, 'react-app'), dir);
  fs.copyFileSync(path.join(h.NODE_MODULES, 'react', 'umd', 'react.development.js'), path.join(dir, 'react.js'));
  fs.copyFileSync(path.join(h.NODE_MODULES, 'react-dom', 'umd', 'react-dom.development.js'), path.join(dir, 'react-dom.js'));
  const lib = fs.readFileSync(path.join(h.REPO, 'sdk', 'react', 'index.js'), 'utf8');
  const bundled = lib.replace(/from\s+['"]react['"]/g, "from './react-shim.js'");
  assert.notEqual(bundled, lib, "sdk/react/index.js does not import from 'react' as expected");
  fs.writeFileSync(path.join(dir, 'embed-react.js'), bundled);
  return dir;
}

describe('React: <SuperblocksEmbed> and useSuperblocksUser()', { timeout: 180000 }, () => {
  let browser;
  let host;
  let t;
  let fx;
  let reactApp;
  let appDir;

  before(async () => {
    host = await h.startHostServer({ count: 1 });
    t = await h.startTessera();
    fx = await h.seedSso(t, { hostOrigins: [host.origin], orgName: 'React Org' });
    appDir = buildReactApp();
    reactApp = h.createApp(t, fx.orgId, { name: 'React Orders', mode: 'sso', origins: [host.origin], dir: appDir });
    const r = t.cli('group', 'grant', '--org', fx.orgId, fx.viewers.id, reactApp.id, '--permission', 'apps:view');
    assert.equal(r.code, 0, r.stderr);
    browser = await h.launchBrowser();
  });

  after(async () => {
    const errors = [];
    for (const step of [
      () => browser && browser.close(),
      () => host && host.close(),
      () => t && t.stop(),
      () => appDir && fs.rmSync(appDir, { recursive: true, force: true }),
    ]) {
      try {
        await step();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  });

  const open = (fn) => h.withHost(browser, h.hostUrl(host.origin, 'react-host.html'), { base: t.base, tessera: t }, fn);
  const setProps = (hp, patch) => hp.page.evaluate((p) => window.setEmbedProps(p), patch);
  const srcOf = (app) => `${t.base}/embed/applications/${app.id}`;

  it('<SuperblocksEmbed> loads the app: onAppLoaded, user and metadata in the frame, Delete for an admin', async () => {
    await open(async (hp) => {
      const token = await fx.token(ADMIN);
      await hp.mount({ src: fx.src(), token, properties: { from: 'react host' }, colorScheme: 'dark' });
      const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded from <SuperblocksEmbed>' });
      assert.deepEqual({ id: ev.data.id, name: ev.data.name }, { id: fx.appId, name: fx.app.name });
      await hp.waitForAppText('#user-name', ADMIN.name);
      await hp.waitForAppText('#user-email', ADMIN.email);
      await hp.waitForAppText('#user-metadata', 'acme-42');
      await hp.waitForAppText('#properties', 'react host');
      await hp.waitForAppText('#color-scheme', 'dark');
      await hp.waitForAppEnabled('#delete', true);
      await h.sleep(600);
      assert.equal((await hp.events('appLoaded')).length, 1, 'onAppLoaded fired more than once');
      await hp.screenshot('react-host-component');
    });
  });

  it('a changed token prop refreshes in place (app state kept); other re-renders change nothing', async () => {
    await open(async (hp) => {
      await hp.mount({ src: fx.src(), token: await fx.token(VIEWER), properties: { n: 1 } });
      await hp.waitForEvent('appLoaded');
      await hp.waitForAppText('#user-name', VIEWER.name);
      await hp.waitForAppEnabled('#delete', false);
      const counter = hp.app().locator('#counter');
      await counter.click();
      await counter.click();
      const before = await hp.waitForAppText('#counter', '2');
      const app = await hp.appFrame();
      const frameUrl = app.url();
      await app.evaluate(() => {
        window.__keptState = 'kept';
      });

      // A re-render with the same token and equal properties (new object): no refresh.
      await setProps(hp, { properties: { n: 1 } });
      await h.sleep(500);
      assert.deepEqual(await hp.events('authError'), []);

      const refreshed = await fx.token({ ...VIEWER, name: 'Vic Viewer (refreshed)', metadata: { isAdmin: true } });
      await setProps(hp, { token: refreshed });
      await hp.waitForAppText('#user-name', 'Vic Viewer (refreshed)', { what: 'user after a new token prop' });
      await hp.waitForAppEnabled('#delete', true, { what: 'Delete after the new token (isAdmin: true)' });
      assert.equal(await hp.appText('#counter'), before, 'the counter was reset by the token change');
      const app2 = await hp.appFrame();
      assert.equal(app2.url(), frameUrl, 'the app frame navigated');
      assert.equal(await app2.evaluate(() => window.__keptState), 'kept', 'the app frame was reloaded');
      assert.equal((await hp.events('appLoaded')).length, 1, 'onAppLoaded fired again');
      assert.deepEqual(await hp.events('authError'), []);
      const renders = await hp.page.evaluate(() => window.renders);
      assert.ok(renders >= 3, `the host re-rendered ${renders} times`);
    });
  });

  it('properties and colorScheme props reach the app; onEvent, onNavigation and ref.trigger work', async () => {
    await open(async (hp) => {
      await hp.mount({ src: fx.src(), token: await fx.token(VIEWER), properties: { stage: 'one' }, colorScheme: 'light' });
      await hp.waitForEvent('appLoaded');
      await hp.waitForAppText('#properties', 'one');
      await hp.waitForAppText('#color-scheme', 'light');
      await setProps(hp, { properties: { stage: 'two' }, colorScheme: 'dark' });
      await hp.waitForAppText('#properties', 'two', { what: 'properties after a new properties prop' });
      await hp.waitForAppText('#color-scheme', 'dark', { what: 'color scheme after a new colorScheme prop' });

      await hp.app().locator('#emit').click();
      const ev = await hp.waitForEvent('event', { pred: (e) => e.eventName === 'orderSelected', what: 'onEvent' });
      assert.deepEqual(ev.payload, { id: 42 });

      await hp.app().locator('#navigate').click();
      const nav = await hp.waitForEvent('navigation', { what: 'onNavigation' });
      assert.equal(nav.data.pathname, '/orders');
      assert.deepEqual(nav.data.queryParams, { id: '3' });

      await hp.page.evaluate(() => window.embed.current.trigger('refresh', { from: 'react-ref' }));
      await hp.waitForAppText('#last-trigger', 'react-ref', { what: 'trigger through the ref' });
    });
  });

  it('onAuthError from <SuperblocksEmbed> carries the code (forbidden)', async () => {
    await open(async (hp) => {
      await hp.mount({ src: fx.src(), token: await fx.token({ ...VIEWER, groupIds: [fx.outsiders.id] }) });
      const ev = await hp.waitForEvent('authError', { what: 'onAuthError for a group without apps:view' });
      assert.equal(ev.data.code, 'forbidden', JSON.stringify(ev.data));
      assert.equal(typeof ev.data.error, 'string');
      await hp.expectNoEvent('appLoaded', 500);
    });
  });

  it('useSuperblocksUser() in a React app shows the user and follows a token refresh', async () => {
    await open(async (hp) => {
      await hp.mount({ src: srcOf(reactApp), token: await fx.token(VIEWER), properties: { view: 'react-app' } });
      const ev = await hp.waitForEvent('appLoaded', { what: 'onAppLoaded for the React app' });
      assert.equal(ev.data.id, reactApp.id);
      await hp.waitForAppText('#user-name', VIEWER.name, { what: 'name rendered by useSuperblocksUser()' });
      await hp.waitForAppText('#user-email', VIEWER.email);
      await hp.waitForAppText('#user-groups', 'Viewers');
      await hp.waitForAppText('#properties', 'react-app', { what: 'useSuperblocksProperties()' });
      await hp.waitForAppEnabled('#delete', false);
      const counter = hp.app().locator('#counter');
      await counter.click();
      const before = await hp.waitForAppText('#counter', '1');
      await hp.screenshot('react-app-hook');

      await setProps(hp, { token: await fx.token({ ...VIEWER, name: 'Vic Refreshed', metadata: { isAdmin: true } }) });
      await hp.waitForAppText('#user-name', 'Vic Refreshed', { what: 'useSuperblocksUser() after a token refresh' });
      await hp.waitForAppEnabled('#delete', true);
      assert.equal(await hp.appText('#counter'), before, 'React state in the app was lost on token refresh');
    });
  });
});
