'use strict';
// Shared helpers for Tessera's browser tests (node --test + playwright-core
// driving Debian's Chromium).
//
//   - launchBrowser(): one headless Chromium per test file
//   - startHostServer(): a small Node HTTP server for the HOST pages, on
//     http://localhost:<port> (a different origin from Tessera's 127.0.0.1),
//     listening on several ports = several origins
//   - startTessera() / seedSso(): the real binary (tests/e2e/harness.js) on a
//     temp database, seeded through the CLI
//   - HostPage: one browser context + page on a host page, with helpers to
//     mount an embed, read the host's recorded callbacks (window.events) and
//     look inside the app frame (host -> embed page -> app frame)

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const e2e = require('../e2e/harness');

const REPO = path.join(__dirname, '..', '..');
const PAGES = path.join(__dirname, 'pages');
const FIXTURES = path.join(__dirname, 'fixtures');
const OUT_DIR = path.join(REPO, 'test-output', 'browser');
const DEMO_APP = path.join(REPO, 'web', 'demo-app');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const NODE_MODULES = path.join(REPO, 'node_modules');

// How long to wait for something the user should see. Generous for a
// sanitizer build on a small machine, short enough to fail clearly.
const WAIT_MS = Number(process.env.BROWSER_WAIT_MS || 15000);

// ---- browser ------------------------------------------------------------------

async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); never download a browser`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

// ---- host server ------------------------------------------------------------------

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
};

// URL path on the host server -> file on disk.
const VENDOR = {
  '/vendor/embed.bundle.js': path.join(NODE_MODULES, '@superblocksteam', 'embed', 'dist', 'embed.bundle.js'),
  '/vendor/react.js': path.join(NODE_MODULES, 'react', 'umd', 'react.development.js'),
  '/vendor/react-dom.js': path.join(NODE_MODULES, 'react-dom', 'umd', 'react-dom.development.js'),
  '/sdk/react/index.js': path.join(REPO, 'sdk', 'react', 'index.js'),
  // ES-module view of the UMD React, for `import ... from 'react'` (pages map
  // 'react' here with an import map).
  '/vendor/react.mjs': path.join(__dirname, 'fixtures', 'react-app', 'react-shim.js'),
};

function resolveHostPath(urlPath) {
  if (VENDOR[urlPath]) return VENDOR[urlPath];
  if (urlPath.startsWith('/pages/')) {
    const rel = decodeURIComponent(urlPath.slice('/pages/'.length));
    const file = path.join(PAGES, rel);
    if (!file.startsWith(PAGES + path.sep)) return null;
    return file;
  }
  return null;
}

function handleHostRequest(req, res, log) {
  const url = new URL(req.url, 'http://host.invalid');
  log.push(`${req.method} ${url.pathname}`);
  const send = (status, type, body) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
    });
    res.end(body);
  };
  const file = resolveHostPath(url.pathname);
  if (!file) return send(404, 'text/plain', `not found: ${url.pathname}\n`);
  fs.readFile(file, (err, data) => {
    if (err) return send(404, 'text/plain', `not found: ${url.pathname} (${file}: ${err.code})\n`);
    send(200, TYPES[path.extname(file)] || 'application/octet-stream', data);
  });
}

// Starts `count` listeners (one origin each) serving the same files.
// Returns {origins: ['http://localhost:P1', ...], requests: [...], close()}.
async function startHostServer({ count = 1 } = {}) {
  const requests = [];
  const servers = [];
  const origins = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = http.createServer((req, res) => handleHostRequest(req, res, requests));
      srv.keepAliveTimeout = 1000;
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      servers.push(srv);
      origins.push(`http://localhost:${srv.address().port}`);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    origins,
    origin: origins[0],
    requests,
    close() {
      return Promise.all(
        servers.map(
          (s) =>
            new Promise((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

// ---- Tessera --------------------------------------------------------------------

// Starts the real binary on a fresh temp database. Returns an object with
// {env, server, base, cli(...), cliJson(...), stop()}; stop() always removes
// the temp dir and rethrows a server failure (non-zero exit, sanitizer).
async function startTessera() {
  if (!fs.existsSync(e2e.BIN)) {
    throw new Error(`tessera binary not found at ${e2e.BIN}: build it and set TESSERA_BIN`);
  }
  const env = e2e.makeEnv();
  let server;
  try {
    server = await e2e.startServer(env);
  } catch (err) {
    env.cleanup();
    throw err;
  }
  const t = {
    env,
    server,
    base: server.url,
    cli: (...args) => e2e.cli(env, ...args),
    cliJson: (...args) => e2e.cliJson(env, ...args),
    async stop() {
      try {
        await server.stop();
      } finally {
        await server.kill().catch(() => {});
        env.cleanup();
      }
    },
  };
  return t;
}

// Creates an app and deploys `dir` as its first version.
function createApp(t, org, { name, mode = 'sso', origins = [], dir = DEMO_APP }) {
  const args = ['app', 'create', '--org', org, name, '--mode', mode];
  for (const o of origins) args.push('--allow-origin', o);
  const app = t.cliJson(...args);
  if (dir) {
    const r = t.cli('app', 'deploy', '--org', org, app.id, dir);
    assert.equal(r.code, 0, `tessera app deploy ${dir} failed (exit ${r.code}): ${r.stderr}`);
  }
  return { ...app, name };
}

// The standard SSO fixture: an org, an Embed access token, the demo app
// (sso, allowed for `hostOrigins`), a group with apps:view on it and a group
// without any grant.
async function seedSso(t, { hostOrigins, orgName = 'Browser Org', appName = 'Orders Console', dir = DEMO_APP }) {
  const org = t.cliJson('org', 'create', orgName);
  const embed = t.cliJson('token', 'create', '--org', org.id, '--name', 'host-backend');
  const app = createApp(t, org.id, { name: appName, mode: 'sso', origins: hostOrigins, dir });
  const viewers = t.cliJson('group', 'create', '--org', org.id, 'Viewers');
  const r = t.cli('group', 'grant', '--org', org.id, viewers.id, app.id, '--permission', 'apps:view');
  assert.equal(r.code, 0, `group grant failed: ${r.stderr}`);
  const outsiders = t.cliJson('group', 'create', '--org', org.id, 'Outsiders');
  const fx = {
    t,
    base: t.base,
    org,
    orgId: org.id,
    embed,
    embedToken: embed.token,
    app,
    appId: app.id,
    viewers,
    outsiders,
    src: (suffix = '') => `${t.base}/embed/applications/${app.id}${suffix}`,
    // A session token from POST /api/v1/public/token (as the host backend would).
    async token({ email = 'jane.wind@customer.example', name = 'Jane Wind', metadata, groupIds, embedToken } = {}) {
      const body = { email, name, groupIds: groupIds || [viewers.id] };
      if (metadata !== undefined) body.metadata = metadata;
      const res = await e2e.postToken(t.base, embedToken || embed.token, body);
      assert.equal(res.status, 200, `POST /api/v1/public/token: ${res.status} ${res.text}`);
      return res.json.access_token;
    },
  };
  // The running server picks CLI changes up within a second: wait until it
  // knows the token and both groups.
  await waitForTokenIssue(t.base, embed.token, { email: 'probe@customer.example', groupIds: [viewers.id, outsiders.id] });
  return fx;
}

// Polls POST /api/v1/public/token with `body` until it answers 200 (a CLI
// change has reached the running server). Returns the session token.
async function waitForTokenIssue(base, embedToken, body, timeoutMs = 5000) {
  let last;
  const r = await e2e.poll(async () => {
    last = await e2e.postToken(base, embedToken, body);
    return last.status === 200 ? last.json.access_token : null;
  }, { timeoutMs, intervalMs: 100 });
  assert.ok(r.ok, `the server did not pick up the CLI's changes within ${timeoutMs} ms: POST /api/v1/public/token ${JSON.stringify(body)} -> ${last && last.status} ${last && last.text}`);
  return r.value;
}

// Waits until the running server refuses `sessionToken` on /api/v1/me (the
// CLI's changes reach the server within a second).
async function waitUntilRefused(base, sessionToken, timeoutMs = 5000) {
  const r = await e2e.poll(async () => (await e2e.me(base, sessionToken)).status === 401, { timeoutMs, intervalMs: 100 });
  assert.ok(r.ok, `the server still accepts the session on /api/v1/me ${timeoutMs} ms after the change`);
}

// ---- host page ----------------------------------------------------------------

function hostUrl(hostOrigin, page, params = {}) {
  const q = new URLSearchParams(params).toString();
  return `${hostOrigin}/pages/${page}${q ? `?${q}` : ''}`;
}

fs.mkdirSync(OUT_DIR, { recursive: true });

class HostPage {
  constructor(context, page, { base, tessera }) {
    this.context = context;
    this.page = page;
    this.base = base;
    this.tessera = tessera || null;
    this.logs = [];
    this.requests = [];
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (m) => this.logs.push(`[console.${m.type()}] ${frameName(m)} ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
    page.on('requestfailed', (r) => this.logs.push(`[requestfailed] ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
    page.on('request', (r) => this.requests.push({ method: r.method(), url: r.url() }));
    page.on('response', (r) => {
      if (r.status() >= 400) this.logs.push(`[response ${r.status()}] ${r.request().method()} ${r.url()}`);
    });
  }

  // A fresh browser context and page on `url` (a host page).
  // opts: {base: Tessera's base URL, tessera: startTessera()'s object (its
  // log goes into failure messages)}.
  static async open(browser, url, { base, tessera } = {}) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    let hp;
    try {
      const page = await context.newPage();
      hp = new HostPage(context, page, { base, tessera });
      const res = await page.goto(url);
      assert.ok(res && res.ok(), `host page ${url} answered ${res && res.status()}`);
      await page.waitForFunction(() => window.hostReady === true || window.hostError, null, { timeout: WAIT_MS });
      const err = await page.evaluate(() => window.hostError || null);
      assert.equal(err, null, `host page failed to start: ${err}`);
    } catch (e) {
      await context.close().catch(() => {});
      throw e;
    }
    return hp;
  }

  close() {
    return this.context.close();
  }

  // Mounts the embed with `cfg` ({src, token, properties, colorScheme, ...})
  // through the page's SDK; callbacks are recorded in window.events.
  async mount(cfg) {
    const err = await this.page.evaluate((c) => window.mount(c).then(() => null, (e) => String(e && e.stack || e)), cfg);
    assert.equal(err, null, `mount() failed in the host page: ${err}`);
  }

  events(type) {
    return this.page.evaluate((ty) => (ty ? window.events.filter((e) => e.type === ty) : window.events), type || null);
  }

  // Raw postMessages the host window received: [{origin, type, data, fromEmbed}].
  messages() {
    return this.page.evaluate(() => window.messages);
  }

  // Waits for a recorded callback of `type` (optionally matching pred) and returns it.
  async waitForEvent(type, { pred = null, timeout = WAIT_MS, what } = {}) {
    const start = Date.now();
    for (;;) {
      const evs = await this.events(type);
      const hit = evs.find((e) => (pred ? pred(e) : true));
      if (hit) return hit;
      if (Date.now() - start > timeout) {
        await this.fail(`${what || `no '${type}' callback`} within ${timeout} ms`);
      }
      await e2e.sleep(100);
    }
  }

  // Asserts that no callback of `type` arrives during `ms`.
  async expectNoEvent(type, ms, what) {
    await e2e.sleep(ms);
    const evs = await this.events(type);
    if (evs.length) await this.fail(`${what || `unexpected '${type}' callback`}: ${JSON.stringify(evs)}`);
  }

  // The app frame (host -> embed page -> app frame) as a FrameLocator; n: which
  // embed of the host page (0 = the first).
  app(n = 0) {
    return this.page.frameLocator('#embed-root iframe').nth(n).frameLocator('iframe').first();
  }

  // The embed page's Frame object (first iframe of the host page).
  async embedFrame() {
    const handle = await this.page.$('#embed-root iframe');
    return handle ? handle.contentFrame() : null;
  }

  // The app frame as a Frame object (for evaluate), waiting for it to exist.
  async appFrame({ timeout = WAIT_MS } = {}) {
    const start = Date.now();
    for (;;) {
      const f = this.page.frames().find((fr) => this.base && fr.url().startsWith(`${this.base}/apps/`));
      if (f) return f;
      if (Date.now() - start > timeout) await this.fail(`no app frame (${this.base}/apps/...) within ${timeout} ms`);
      await e2e.sleep(100);
    }
  }

  // Text of `sel` in the app frame, or null when it is not there (yet).
  async appText(sel) {
    try {
      return await this.app().locator(sel).textContent({ timeout: 500 });
    } catch {
      return null;
    }
  }

  // Waits until the app frame's `sel` text satisfies `expect` (string:
  // contains; RegExp; function). Returns the text.
  async waitForAppText(sel, expect, { timeout = WAIT_MS, what } = {}) {
    const ok = (txt) =>
      txt !== null &&
      (typeof expect === 'string' ? txt.includes(expect) : expect instanceof RegExp ? expect.test(txt) : expect(txt));
    const start = Date.now();
    let last = null;
    for (;;) {
      last = await this.appText(sel);
      if (ok(last)) return last;
      if (Date.now() - start > timeout) {
        await this.fail(`${what || `app frame ${sel}`}: expected ${expect instanceof Function ? expect.toString() : JSON.stringify(String(expect))}, last text ${JSON.stringify(last)} after ${timeout} ms`);
      }
      await e2e.sleep(100);
    }
  }

  // Waits until the app's `sel` is enabled (true) or disabled (false).
  async waitForAppEnabled(sel, enabled, { timeout = WAIT_MS, what } = {}) {
    const start = Date.now();
    let last;
    for (;;) {
      try {
        last = await this.app().locator(sel).isEnabled({ timeout: 500 });
      } catch (e) {
        last = `error: ${e.message.split('\n')[0]}`;
      }
      if (last === enabled) return;
      if (Date.now() - start > timeout) {
        await this.fail(`${what || `app frame ${sel}`} should be ${enabled ? 'enabled' : 'disabled'}; isEnabled() = ${last} after ${timeout} ms`);
      }
      await e2e.sleep(100);
    }
  }

  async screenshot(name) {
    const file = path.join(OUT_DIR, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  // Diagnostics for a failure message.
  async diag() {
    const lines = [];
    try {
      lines.push(`events: ${JSON.stringify(await this.events())}`);
    } catch (e) {
      lines.push(`events: (unreadable: ${e.message.split('\n')[0]})`);
    }
    try {
      lines.push(`messages: ${JSON.stringify(await this.messages()).slice(0, 3000)}`);
    } catch {}
    lines.push(`frames: ${this.page.frames().map((f) => f.url()).join(' | ')}`);
    lines.push('browser log (last 40):');
    for (const l of this.logs.slice(-40)) lines.push(`  ${l.slice(0, 400)}`);
    if (this.tessera) {
      const log = this.tessera.server.logs().trim().split('\n').slice(-12);
      lines.push('tessera serve log (last 12 lines):');
      for (const l of log) lines.push(`  ${l.slice(0, 400)}`);
    }
    return lines.join('\n');
  }

  async fail(msg) {
    assert.fail(`${msg}\n${await this.diag()}`);
  }
}

function frameName(msg) {
  try {
    const loc = msg.location();
    return loc && loc.url ? `(${loc.url.split('?')[0]})` : '';
  } catch {
    return '';
  }
}

// Runs fn(hp) on a fresh context/page; always closes the context.
async function withHost(browser, url, opts, fn) {
  const hp = await HostPage.open(browser, url, opts);
  try {
    return await fn(hp);
  } finally {
    await hp.close().catch(() => {});
  }
}

// Copies a directory tree (for assembling app bundles to deploy).
function copyDir(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const ent of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, ent.name);
    const b = path.join(to, ent.name);
    if (ent.isDirectory()) copyDir(a, b);
    else fs.copyFileSync(a, b);
  }
}

function tempDir(prefix = 'tessera-browser-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

module.exports = {
  REPO,
  PAGES,
  FIXTURES,
  OUT_DIR,
  DEMO_APP,
  NODE_MODULES,
  WAIT_MS,
  e2e,
  launchBrowser,
  startHostServer,
  startTessera,
  createApp,
  seedSso,
  waitUntilRefused,
  waitForTokenIssue,
  hostUrl,
  HostPage,
  withHost,
  copyDir,
  tempDir,
  sleep: e2e.sleep,
  poll: e2e.poll,
};
