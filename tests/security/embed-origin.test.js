'use strict';
// Embed messages from foreign origins. The embed page (web/embed/embed.js) must only talk to a
// parent window on one of the app's allowed origins; the server backs that with
// Content-Security-Policy frame-ancestors. Checked black-box (the headers) and in a real
// Chromium (tests/browser/harness.js launchBrowser): pages served by two local servers reached
// as http://localhost:<port>, another site than Tessera's http://127.0.0.1 -- one the app allows,
// one it does not.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const s = require('./lib');
const browserHarness = require('../browser/harness');

// A local server answering every path with pages[path] (HTML). {origin, close()}.
async function pageServer(pages) {
  const srv = http.createServer((req, res) => {
    const body = pages[new URL(req.url, 'http://x').pathname];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html' }).end(body || 'not found');
  });
  srv.keepAliveTimeout = 500;
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://localhost:${srv.address().port}`,
    close: () => new Promise((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    }),
  };
}

// Records every message the page receives, then sends INITIALIZE_EMBED with `token` every 200 ms
// to `target()` (a window expression), the way the SDK retries until INITIALIZED.
const MESSENGER = (token, target) => `
  window.got = [];
  addEventListener('message', (e) => got.push({ origin: e.origin, type: e.data && e.data.type }));
  window.send = () => { try { ${target}.postMessage({ type: 'INITIALIZE_EMBED', data: { token: ${JSON.stringify(token)}, properties: { from: 'page' } } }, '*'); } catch (e) {} };
  setInterval(send, 200);`;

describe('embed messages from foreign origins', { timeout: 150000 }, () => {
  let w;
  let browser;
  let allowed; // the host site the app allows
  let foreign; // a site it does not
  let app; // an sso app allowing only `allowed.origin`
  let embedUrl;
  const pages = { allowed: {}, foreign: {} };

  before(async () => {
    w = await s.World.start();
    allowed = await pageServer(pages.allowed);
    foreign = await pageServer(pages.foreign);
    const res = await w.admin(w.A, 'POST', '/applications', { name: 'Origin Check', mode: 'sso', allowed_origins: [allowed.origin] });
    assert.equal(res.status, 201, res.text);
    app = res.json.data;
    embedUrl = `${w.url}/embed/applications/${app.id}?embed_id=1`;
    browser = await browserHarness.launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (allowed) await allowed.close();
    if (foreign) await foreign.close();
    if (w) await w.close();
  });

  // Opens `url` in a fresh context; returns {page, requests (Tessera API paths asked for), close}.
  async function visit(url) {
    const context = await browser.newContext();
    const requests = [];
    context.on('request', (r) => {
      if (r.url().startsWith(w.url)) requests.push(new URL(r.url()).pathname);
    });
    const page = await context.newPage();
    await page.goto(url);
    return { page, requests, close: () => context.close() };
  }

  it('the embed page lists exactly the allowed origins in frame-ancestors and never reflects a Referer', async () => {
    await w.attack(
      () => s.h.httpRequest(embedUrl, { headers: { referer: 'https://evil.example/page' } }),
      (res) => {
        assert.equal(res.status, 200);
        const csp = s.header(res, 'content-security-policy') || '';
        assert.match(csp, new RegExp(`frame-ancestors ${allowed.origin.replace(/[.:/]/g, '\\$&')};`), csp);
        assert.doesNotMatch(csp, /evil\.example|\*/, csp);
        s.assertNoLeak(res);
      },
    );
    await w.attack(
      () => s.h.httpRequest(`${w.url}/embed/applications/00000000-0000-4000-8000-000000000000`, { headers: { referer: 'https://evil.example/' } }),
      (res) => {
        s.assertError(res, 404);
        assert.equal(s.header(res, 'content-security-policy'), "frame-ancestors 'none'");
      },
    );
  });

  it('a site that is not allowed cannot frame the embed page or get an answer to INITIALIZE_EMBED (the allowed one does)', async () => {
    const frame = (token) => `<!doctype html><iframe id="f" src="${embedUrl}"></iframe><script>${MESSENGER(token, "document.getElementById('f').contentWindow")}</script>`;
    pages.allowed['/host'] = frame(w.good);
    pages.foreign['/host'] = frame(w.good);
    // Control: the allowed host gets INITIALIZED from the embed page's origin.
    const ok = await visit(`${allowed.origin}/host`);
    try {
      const answered = await s.h.poll(() => ok.page.evaluate(() => got.some((m) => m.type === 'INITIALIZED')), { timeoutMs: 15000 });
      assert.ok(answered.ok, 'control: the allowed host never got INITIALIZED');
      const from = await ok.page.evaluate(() => got.find((m) => m.type === 'INITIALIZED').origin);
      assert.equal(from, w.url);
    } finally {
      await ok.close();
    }
    await w.attack(
      async () => {
        const v = await visit(`${foreign.origin}/host`);
        await s.sleep(3000);
        const got = await v.page.evaluate(() => got);
        await v.close();
        return { got, requests: v.requests };
      },
      ({ got, requests }) => {
        assert.deepEqual(got, [], `the foreign site got messages: ${JSON.stringify(got)}`);
        // Only the browser's report of the blocked framing (csp-report) may reach the API.
        assert.ok(!requests.some((p) => p.startsWith('/api/v1/embed/') && p !== '/api/v1/embed/csp-report'), `the framed embed page ran and called ${requests}`);
      },
    );
  });

  it('a site that opens the embed page in a popup and posts INITIALIZE_EMBED with a valid token gets nothing', async () => {
    pages.foreign['/popup'] = `<!doctype html><script>window.popup = window.open(${JSON.stringify(embedUrl)}, 'embed');${MESSENGER(w.good, 'window.popup')}</script>`;
    // The allowed origin opening a popup is no parent either: refused the same way.
    pages.allowed['/popup'] = pages.foreign['/popup'];
    for (const site of [foreign, allowed]) {
      await w.attack(
        async () => {
          const v = await visit(`${site.origin}/popup`);
          const opened = await s.h.poll(() => v.requests.some((p) => p.startsWith('/assets/embed/')), { timeoutMs: 15000 });
          await s.sleep(2000);
          const got = await v.page.evaluate(() => got);
          await v.close();
          return { got, requests: v.requests, opened: opened.ok };
        },
        ({ got, requests, opened }) => {
          assert.ok(opened, `${site.origin}: the popup never loaded the embed page (the case tests nothing)`);
          assert.deepEqual(got, [], `${site.origin}: the opener got messages from the embed page: ${JSON.stringify(got)}`);
          assert.ok(!requests.includes('/api/v1/embed/session'), `${site.origin}: the popup used the token it was sent`);
        },
      );
    }
  });
});
