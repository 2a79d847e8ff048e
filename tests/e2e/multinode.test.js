'use strict';
// Several nodes (issue 7): three `tessera serve` processes on one PostgreSQL database (a throwaway
// server from tests/e2e/pg.js), one master key, one --base-url. Everything is checked from the
// outside, over HTTP, with the deadlines the product promises (docs/OPERATIONS.md): a change made on
// one node is in force on the others within one second.
//
//   0. the nodes, started together on a database with no signing key yet, agree on one key;
//   a. a session minted on node 1 verifies on nodes 2 and 3 (/me, the embed);
//   b. a revocation on node 2 is enforced on node 1 within a second (b2: also without NOTIFY, by
//      the 200 ms poll alone);
//   c. a group grant on node 3 lets an embed load on node 1 within a second (refused before);
//   c2. a platform user added to a group on node 3 has it (and the embed it grants) in the
//      session tokens node 1 issues within a second; removed, loses it within a second;
//   c3. an app's mode and allowed origins changed on node 3 are what node 1's embed page serves
//      (CSP frame-ancestors, the tokenless embed of a public app) within a second;
//   c4. an app version uploaded on node 2 is what node 1 serves within a second;
//   d. an access token created on node 2 works on 1 and 3 within a second; revoked on node 3,
//      refused on node 1 within a second;
//   d2. an identity provider added on node 2 lets a token exchange succeed on node 1 within a
//      second; changed, its new audience is enforced; removed, node 1 refuses within a second;
//   e. a key rotation on node 1 reaches every JWKS within a second; old tokens verify everywhere,
//      new ones carry the new kid and verify elsewhere;
//   f. SIGKILL of node 2 during load loses no acknowledged session and no session.issued event;
//   g. node 2 restarted has the changes made while it was down from its first request;
//   h. webhooks: one node delivers (a lease), each event once and in order; killing it hands
//      delivery over to another node.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const jose = require('jose');
const h = require('./harness');
const c = require('./cluster');
const { startIdp, TOKEN_TYPE_ACCESS, DEFAULTS: IDP } = require('./idp');

const DEMO_APP = path.join(__dirname, '..', '..', 'web', 'demo-app');
const BASE = 'https://sso.multinode.test'; // the issuer of every node (never fetched)
const ONE_SECOND = 1000;

describe('three nodes on one PostgreSQL database', { timeout: 120000 }, () => {
  let pg;
  let env;
  let S; // seed: org, tokens, groups, app
  let viewers; // a group with no grant yet (case c)
  let framed; // an sso app framed by https://host.example (case c3)
  let releases; // a public app, deployed once (case c4)
  let loadToken; // an Embed token without rate limit (case f)
  const nodes = []; // nodes[0] is "node 1"
  const everyServer = [];

  const start = async (i) => {
    nodes[i] = await c.startNode(env, BASE);
    everyServer.push(nodes[i]);
    return nodes[i];
  };
  const admin = (node, method, p, body) => h.httpRequest(`${node.url}/api/v1/organizations/${S.orgId}${p}`, {
    method,
    headers: { authorization: `Bearer ${S.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const session = async (node, email, { groupIds, token = S.embedToken } = {}) => {
    const r = await h.postToken(node.url, token, { email, ...(groupIds ? { groupIds } : {}) });
    assert.equal(r.status, 200, `token request on ${node.url}: ${r.status} ${r.text}`);
    const parts = h.jwtParts(r.json.access_token);
    return { token: r.json.access_token, jti: parts.payload.jti, kid: parts.header.kid, claims: parts.payload };
  };
  const revoke = (node, body) => h.httpRequest(`${node.url}/api/v1/public/sessions/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${S.embedToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const meStatus = async (node, s) => (await h.me(node.url, s.token)).status;
  // The embed loads: POST /api/v1/embed/session gives the frame URL, and the frame serves the app.
  // s null: no session token (a public app).
  const openEmbed = async (node, s, appId = S.app.id) => {
    const r = await h.httpRequest(`${node.url}/api/v1/embed/session`, {
      method: 'POST',
      headers: { ...(s ? { authorization: `Bearer ${s.token}` } : {}), 'content-type': 'application/json' },
      body: JSON.stringify({ app_id: appId }),
    });
    if (r.status !== 200) return { ok: false, status: r.status, detail: `${r.status} ${r.text}` };
    const f = await h.httpRequest(`${node.url}${r.json.data.frame_url}`);
    return { ok: f.status === 200 && /<html/i.test(f.text), status: r.status, frame: f.status, html: f.text, detail: `frame ${f.status}` };
  };
  // The frame-ancestors of the embed page's Content-Security-Policy (what lets a browser frame it).
  const frameAncestors = async (node, appId) => {
    const r = await h.httpRequest(`${node.url}/embed/applications/${appId}`);
    const m = /(?:^|;)\s*frame-ancestors ([^;]*)/.exec(r.headers.get('content-security-policy') || '');
    return { status: r.status, value: m ? m[1].trim() : null };
  };
  const jwks = async (node) => {
    const r = await h.httpRequest(`${node.url}/.well-known/jwks.json`);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const verifyWithJwks = async (node, token) => jose.jwtVerify(token, jose.createLocalJWKSet(await jwks(node)), {
    issuer: BASE, audience: 'tessera:session', algorithms: ['ES256'],
  });

  before(async () => {
    ({ pg, env } = await c.pgEnv());
    S = h.seed(env, { orgName: 'Multinode' });
    for (const args of [
      ['group', 'grant', '--org', S.orgId, S.group1.id, S.app.id],
      ['app', 'deploy', '--org', S.orgId, S.app.id, DEMO_APP],
    ]) {
      const r = h.cli(env, ...args);
      assert.equal(r.code, 0, `tessera ${args.join(' ')}: ${r.stderr}`);
    }
    viewers = h.cliJson(env, 'group', 'create', '--org', S.orgId, 'Late viewers');
    framed = h.cliJson(env, 'app', 'create', '--org', S.orgId, 'Framed', '--mode', 'sso', '--allow-origin', 'https://host.example');
    releases = h.cliJson(env, 'app', 'create', '--org', S.orgId, 'Releases', '--mode', 'public');
    for (const app of [framed, releases]) {
      const r = h.cli(env, 'app', 'deploy', '--org', S.orgId, app.id, DEMO_APP);
      assert.equal(r.code, 0, `tessera app deploy ${app.name}: ${r.stderr}`);
    }
    loadToken = h.cliJson(env, 'token', 'create', '--org', S.orgId, '--name', 'load', '--rate-limit', 'off').token;
    // Started together, as an orchestrator starts a new deployment's nodes.
    await Promise.all([0, 1, 2].map(start));
  });

  after(async () => {
    try {
      // A node still running must stop cleanly (SIGTERM, exit 0, no sanitizer report).
      for (const n of nodes) if (n && !n.exitInfo) await n.stop();
    } finally {
      for (const n of everyServer) await n.kill();
      if (pg) await pg.stop();
      if (env) env.cleanup();
    }
  });

  it('0. nodes started at the same time on a fresh database agree on one signing key', () => {
    const active = h.cliJson(env, 'keys', 'list').data.filter((k) => k.state === 'active');
    assert.equal(active.length, 1, `three nodes started together left ${active.length} active signing keys: ${active.map((k) => `${k.kid} ${k.created_at}`).join(', ')}`);
  });

  it('a. a session minted on node 1 verifies on nodes 2 and 3 (/me and the embed)', async () => {
    const s = await session(nodes[0], 'jane@host.example', { groupIds: [S.group1.id] });
    assert.equal(s.claims.iss, BASE);
    for (const node of nodes) {
      const r = await h.me(node.url, s.token);
      assert.equal(r.status, 200, `/me on ${node.url}: ${r.status} ${r.text}`);
      assert.equal(r.json.data.user.email, 'jane@host.example');
      assert.equal(r.json.data.org_id, S.orgId);
      const page = await h.httpRequest(`${node.url}/embed/applications/${S.app.id}`);
      assert.equal(page.status, 200, `the embed page on ${node.url}`);
      const e = await openEmbed(node, s);
      assert.ok(e.ok, `the embed does not load on ${node.url}: ${e.detail}`);
    }
  });

  it('b. a revocation on node 2 is enforced on node 1 within a second', async (t) => {
    const s = await session(nodes[0], 'revoked@host.example');
    const bystander = await session(nodes[0], 'bystander@host.example');
    assert.equal(await meStatus(nodes[0], s), 200);
    const r = await revoke(nodes[1], { jti: s.jti });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { revoked: 1 });
    const gone = await c.within(ONE_SECOND, async () => {
      const m = await h.me(nodes[0].url, s.token);
      return { ok: m.status === 401 && /revoked/.test(m.text), detail: `${m.status} ${m.text}` };
    });
    t.diagnostic(`revocation on node 2 in force on node 1 after ${gone.ms.toFixed(0)} ms`);
    assert.ok(gone.ok, `node 1 still accepted the session revoked on node 2 after ${gone.ms.toFixed(0)} ms (last: ${gone.detail})`);
    assert.equal(await meStatus(nodes[1], s), 401, 'the node that took the revocation accepts the session');
    const three = await c.within(ONE_SECOND, async () => ({ ok: (await meStatus(nodes[2], s)) === 401 }));
    assert.ok(three.ok, 'node 3 still accepts the revoked session after a second');
    for (const node of nodes) assert.equal(await meStatus(node, bystander), 200, 'another user\'s session was revoked');
  });

  it('b2. without NOTIFY (the change_log trigger disabled), a revocation on node 3 still reaches node 1 within a second', async (t) => {
    psql(pg.url, 'ALTER TABLE change_log DISABLE TRIGGER USER');
    try {
      const s = await session(nodes[0], 'no.notify@host.example');
      assert.equal((await revoke(nodes[2], { jti: s.jti })).status, 200);
      const gone = await c.within(ONE_SECOND, async () => ({ ok: (await meStatus(nodes[0], s)) === 401 }));
      t.diagnostic(`without NOTIFY: in force on node 1 after ${gone.ms.toFixed(0)} ms`);
      assert.ok(gone.ok, `without NOTIFY node 1 still accepts the revoked session after ${gone.ms.toFixed(0)} ms`);
    } finally {
      psql(pg.url, 'ALTER TABLE change_log ENABLE TRIGGER USER');
    }
  });

  it('c. a group grant on node 3 lets an embed load on node 1 within a second (refused before)', async (t) => {
    const s = await session(nodes[0], 'viewer@host.example', { groupIds: [viewers.id] });
    const refused = await openEmbed(nodes[0], s);
    assert.equal(refused.status, 403, `before the grant the embed must be refused: ${refused.detail}`);
    const g = await admin(nodes[2], 'PUT', `/groups/${viewers.id}/permissions`, { app_id: S.app.id, permission: 'apps:view', granted: true });
    assert.equal(g.status, 200, g.text);
    assert.ok((await openEmbed(nodes[2], s)).ok, 'the node that took the grant does not apply it (read-your-writes)');
    const loads = await c.within(ONE_SECOND, () => openEmbed(nodes[0], s));
    t.diagnostic(`grant on node 3 in force on node 1 after ${loads.ms.toFixed(0)} ms`);
    assert.ok(loads.ok, `the embed still does not load on node 1 ${loads.ms.toFixed(0)} ms after the grant on node 3 (last: ${loads.detail})`);
  });

  it('c2. a platform user added to a group on node 3 has the group (and its embed) on node 1 within a second; removed, loses it within a second', async (t) => {
    const email = 'member@host.example';
    const platformSession = async (node) => {
      const r = await h.postToken(node.url, S.embedToken, { email, isSuperblocksUser: true });
      if (r.status !== 200) return { ok: false, detail: `${r.status} ${r.text}` };
      const parts = h.jwtParts(r.json.access_token);
      const groups = parts.payload.rbac_group_objects.map((g) => g.id);
      return { ok: true, s: { token: r.json.access_token, jti: parts.payload.jti }, groups, detail: `groups ${JSON.stringify(groups)}` };
    };
    // In the group (granted apps:view on the app), the token carries it and the embed loads on node 1.
    const inForce = async (member) => {
      const p = await platformSession(nodes[0]);
      if (!p.ok) return p;
      const e = await openEmbed(nodes[0], p.s);
      const has = p.groups.includes(S.group1.id);
      return { ok: member ? has && e.ok : !has && e.status === 403, detail: `${p.detail}, embed ${e.detail}` };
    };

    // The member (a developer: no role that views every app) is added on node 3, without groups.
    const stranger = await platformSession(nodes[0]);
    assert.ok(!stranger.ok && /^401 /.test(stranger.detail), `node 1 issues a platform-user token to an unknown email: ${stranger.detail}`);
    const m = await admin(nodes[2], 'POST', '/members', { email, name: 'Mo Member', role: 'developer' });
    assert.equal(m.status, 201, m.text);
    const known = await c.within(ONE_SECOND, () => inForce(false));
    t.diagnostic(`member added on node 3 gets platform-user tokens (no group, embed refused) on node 1 after ${known.ms.toFixed(0)} ms`);
    assert.ok(known.ok, `node 1 does not know the member added on node 3 after ${known.ms.toFixed(0)} ms (last: ${known.detail})`);

    const add = await admin(nodes[2], 'POST', `/groups/${S.group1.id}/members`, { email });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.json.data, { group_id: S.group1.id, user_id: m.json.data.id });
    assert.ok((await platformSession(nodes[2])).groups.includes(S.group1.id), 'the node that took the membership does not apply it');
    const joined = await c.within(ONE_SECOND, () => inForce(true));
    t.diagnostic(`membership added on node 3 in force on node 1 after ${joined.ms.toFixed(0)} ms`);
    assert.ok(joined.ok, `node 1 does not apply the membership added on node 3 after ${joined.ms.toFixed(0)} ms (last: ${joined.detail})`);

    const del = await admin(nodes[2], 'DELETE', `/groups/${S.group1.id}/members/${m.json.data.id}`);
    assert.equal(del.status, 200, del.text);
    const left = await c.within(ONE_SECOND, () => inForce(false));
    t.diagnostic(`membership removed on node 3 in force on node 1 after ${left.ms.toFixed(0)} ms`);
    assert.ok(left.ok, `node 1 still applies the membership removed on node 3 after ${left.ms.toFixed(0)} ms (last: ${left.detail})`);
  });

  it('c3. an app\'s mode and allowed origins changed on node 3 are what node 1\'s embed page serves within a second', async (t) => {
    // What node 1 serves for the app: the embed page's frame-ancestors, the settings the embed page
    // reads, and whether an embed opens without a session token (only a public app does).
    const served = async (mode, origins) => {
      const fa = await frameAncestors(nodes[0], framed.id);
      const settings = await h.httpRequest(`${nodes[0].url}/api/v1/embed/apps/${framed.id}`);
      const tokenless = await openEmbed(nodes[0], null, framed.id);
      const d = settings.json && settings.json.data;
      const want = origins.length ? origins.join(' ') : "'none'";
      const ok = fa.status === 200 && fa.value === want && settings.status === 200 && d.mode === mode &&
        JSON.stringify(d.allowed_origins) === JSON.stringify(origins) && (mode === 'public' ? tokenless.ok : tokenless.status === 401);
      return { ok, detail: `frame-ancestors ${fa.value}; settings ${settings.text}; tokenless embed ${tokenless.detail}` };
    };
    const initially = await served('sso', ['https://host.example']);
    assert.ok(initially.ok, `node 1 does not serve the app as created: ${initially.detail}`);
    const steps = [
      ['public', ['https://shop.example', 'http://localhost:3000']],
      ['sso', []],
    ];
    for (const [mode, origins] of steps) {
      const p = await admin(nodes[2], 'PATCH', `/applications/${framed.id}`, { mode, allowed_origins: origins });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.json.data.mode, mode);
      const applied = await c.within(ONE_SECOND, () => served(mode, origins));
      t.diagnostic(`mode ${mode}, origins [${origins.join(' ')}] set on node 3 served by node 1 after ${applied.ms.toFixed(0)} ms`);
      assert.ok(applied.ok, `node 1 does not serve mode ${mode} and origins [${origins.join(' ')}] set on node 3 after ${applied.ms.toFixed(0)} ms (last: ${applied.detail})`);
    }
  });

  it('c4. an app version uploaded on node 2 is served by node 1 within a second', async (t) => {
    const first = await openEmbed(nodes[0], null, releases.id);
    assert.ok(first.ok, `the public app deployed with the CLI does not load on node 1: ${first.detail}`);
    for (const release of ['two', 'three']) {
      const marker = `release ${release} ${crypto.randomUUID()}`;
      const page = `<!doctype html><html><title>${release}</title><p id="marker">${marker}</p></html>`;
      const up = await admin(nodes[1], 'POST', `/applications/${releases.id}/versions`, {
        files: [{ path: 'index.html', content_base64: Buffer.from(page).toString('base64'), content_type: 'text/html; charset=utf-8' }],
      });
      assert.equal(up.status, 201, up.text);
      assert.ok((await openEmbed(nodes[1], null, releases.id)).html.includes(marker), 'the node that took the upload does not serve it');
      const live = await c.within(ONE_SECOND, async () => {
        const e = await openEmbed(nodes[0], null, releases.id);
        return { ok: e.ok && e.html.includes(marker), detail: `${e.detail}: ${(e.html || '').slice(0, 80)}` };
      });
      t.diagnostic(`version ${up.json.data.version} uploaded on node 2 served by node 1 after ${live.ms.toFixed(0)} ms`);
      assert.ok(live.ok, `node 1 does not serve version ${up.json.data.version} uploaded on node 2 after ${live.ms.toFixed(0)} ms (last: ${live.detail})`);
    }
  });

  it('d. an access token created on node 2 works on nodes 1 and 3 within a second; revoked on node 3, refused on node 1 within a second', async (t) => {
    const created = await admin(nodes[1], 'POST', '/access-tokens', { name: 'made on node 2', type: 'embed' });
    assert.equal(created.status, 201, created.text);
    const { id, key } = created.json.data;
    assert.equal((await h.postToken(nodes[1].url, key, { email: 'new.token@host.example' })).status, 200, 'the node that created the token refuses it');
    const works = await Promise.all([0, 2].map((i) => c.within(ONE_SECOND, async () => {
      const r = await h.postToken(nodes[i].url, key, { email: 'new.token@host.example' });
      return { ok: r.status === 200, detail: `${r.status} ${r.text}` };
    })));
    t.diagnostic(`new token usable on node 1 after ${works[0].ms.toFixed(0)} ms, on node 3 after ${works[1].ms.toFixed(0)} ms`);
    works.forEach((w, k) => assert.ok(w.ok, `the token created on node 2 is refused on node ${k === 0 ? 1 : 3} after ${w.ms.toFixed(0)} ms: ${w.detail}`));

    const minted = await session(nodes[0], 'new.token@host.example', { token: key });
    const del = await admin(nodes[2], 'DELETE', `/access-tokens/${id}`);
    assert.equal(del.status, 200, del.text);
    assert.equal((await h.postToken(nodes[2].url, key, { email: 'x@host.example' })).status, 401, 'the node that revoked the token accepts it');
    const refused = await c.within(ONE_SECOND, async () => {
      const r = await h.postToken(nodes[0].url, key, { email: 'new.token@host.example' });
      return { ok: r.status === 401, detail: `${r.status} ${r.text}` };
    });
    t.diagnostic(`token revoked on node 3 refused on node 1 after ${refused.ms.toFixed(0)} ms`);
    assert.ok(refused.ok, `node 1 still accepts the token revoked on node 3 after ${refused.ms.toFixed(0)} ms: ${refused.detail}`);
    const r = await h.me(nodes[0].url, minted.token);
    assert.equal(r.status, 401, `a session of the revoked token is accepted on node 1: ${r.text}`);
  });

  it('d2. an identity provider added on node 2 lets a token exchange succeed on node 1 within a second; changed and removed, node 1 follows within a second', async (t) => {
    const idp = await startIdp();
    try {
      const subject = idp.mint({ email: IDP.email });
      h.noteSecret(subject);
      const exchange = async () => {
        const r = await h.postToken(nodes[0].url, S.embedToken, { email: IDP.email, subject_token: subject, subject_token_type: TOKEN_TYPE_ACCESS });
        return { status: r.status, description: r.json && r.json.error_description, detail: `${r.status} ${r.text}` };
      };
      const notConfigured = (r) => r.status === 400 && /not configured/.test(r.description);
      const unknown = await exchange();
      assert.ok(notConfigured(unknown), `before any provider, node 1 must refuse the exchange as not configured: ${unknown.detail}`);

      const added = await admin(nodes[1], 'POST', '/idps', { name: 'Multinode IdP', issuer: idp.issuer, jwks_uri: idp.jwksUri, audience: IDP.audience });
      assert.equal(added.status, 201, added.text);
      const id = added.json.data.id;
      const works = await c.within(ONE_SECOND, async () => {
        const r = await exchange();
        return { ok: r.status === 200, detail: r.detail };
      });
      t.diagnostic(`provider added on node 2: exchange succeeds on node 1 after ${works.ms.toFixed(0)} ms`);
      assert.ok(works.ok, `node 1 still refuses the exchange ${works.ms.toFixed(0)} ms after the provider was added on node 2 (last: ${works.detail})`);

      const patched = await admin(nodes[1], 'PATCH', `/idps/${id}`, { audience: 'api://another-audience' });
      assert.equal(patched.status, 200, patched.text);
      const audience = await c.within(ONE_SECOND, async () => {
        const r = await exchange();
        return { ok: r.status === 401 && /audience/.test(r.description), detail: r.detail };
      });
      t.diagnostic(`provider audience changed on node 2: enforced on node 1 after ${audience.ms.toFixed(0)} ms`);
      assert.ok(audience.ok, `node 1 still accepts the old audience ${audience.ms.toFixed(0)} ms after the change on node 2 (last: ${audience.detail})`);

      const del = await admin(nodes[1], 'DELETE', `/idps/${id}`);
      assert.equal(del.status, 200, del.text);
      const gone = await c.within(ONE_SECOND, async () => {
        const r = await exchange();
        return { ok: notConfigured(r), detail: r.detail };
      });
      t.diagnostic(`provider removed on node 2: node 1 refuses after ${gone.ms.toFixed(0)} ms`);
      assert.ok(gone.ok, `node 1 still trusts the provider ${gone.ms.toFixed(0)} ms after it was removed on node 2 (last: ${gone.detail})`);
    } finally {
      await idp.close();
    }
  });

  it('e. a key rotation on node 1 reaches every node within a second; old and new tokens verify everywhere', async (t) => {
    const old = await session(nodes[2], 'before.rotation@host.example');
    const oldKid = old.kid;
    for (const node of nodes) {
      assert.ok((await jwks(node)).keys.some((k) => k.kid === oldKid), `the JWKS of ${node.url} lacks the key in use`);
    }
    const rot = await admin(nodes[0], 'POST', '/signing-keys/rotate');
    assert.equal(rot.status, 200, rot.text);
    const newKid = rot.json.data.kid;
    assert.ok(newKid && newKid !== oldKid, `rotation gave kid ${newKid}`);
    const listed = await Promise.all(nodes.map((node) => c.within(ONE_SECOND, async () => {
      const kids = (await jwks(node)).keys.map((k) => k.kid);
      return { ok: kids.includes(newKid) && kids.includes(oldKid), detail: kids.join(',') };
    })));
    t.diagnostic(`new kid in the JWKS of nodes 1, 2, 3 after ${listed.map((x) => x.ms.toFixed(0)).join(', ')} ms`);
    listed.forEach((x, i) => assert.ok(x.ok, `the JWKS of node ${i + 1} does not list both the new and the old key after ${x.ms.toFixed(0)} ms: ${x.detail}`));

    // A token minted before the rotation verifies everywhere (Tessera, and the JWKS of each node).
    for (const node of nodes) {
      assert.equal(await meStatus(node, old), 200, `a pre-rotation token is refused on ${node.url}`);
      await verifyWithJwks(node, old.token);
    }
    // Node 2 signs with the new key within a second; its token verifies on node 3.
    const signs = await c.within(ONE_SECOND, async () => {
      const s = await session(nodes[1], 'after.rotation@host.example');
      return { ok: s.kid === newKid, value: s, detail: s.kid };
    });
    t.diagnostic(`node 2 signs with the new key after ${signs.ms.toFixed(0)} ms`);
    assert.ok(signs.ok, `node 2 still signs with ${signs.detail}, not ${newKid}, ${signs.ms.toFixed(0)} ms after the rotation on node 1`);
    assert.equal(await meStatus(nodes[2], signs.value), 200, 'a token minted with the new key on node 2 is refused on node 3');
    const { payload, protectedHeader } = await verifyWithJwks(nodes[2], signs.value.token);
    assert.equal(protectedHeader.kid, newKid);
    assert.equal(payload.jti, signs.value.jti);
  });

  it('f. SIGKILL of node 2 during load: no acknowledged session or session.issued event is lost', async (t) => {
    // `tessera session list` shows at most 1000 sessions of one email: the load uses 32 emails.
    const email = (i) => `load${i % 32}@host.example`;
    const victim = nodes[1];
    let killedAt = null;
    const { results } = await c.load({
      concurrency: 8,
      durationMs: 3000,
      request: async (i) => ({ node: i % 3, email: email(i), ...(await c.tokenRequest(nodes[i % 3].url, loadToken, { email: email(i) })) }),
      at: [{ ms: 1500, fn: async (ms) => { killedAt = ms; await victim.kill(); } }],
    });
    const acked = results.filter((r) => r.status === 200);
    const onVictim = acked.filter((r) => r.node === 1);
    const failed = results.filter((r) => r.status !== 200);
    const lastOnVictim = onVictim.length ? Math.max(...onVictim.map((r) => r.end)).toFixed(0) : '-';
    t.diagnostic(`${results.length} requests, ${acked.length} acknowledged (${onVictim.length} by node 2, its last reply at ${lastOnVictim} ms; SIGKILL sent at ${killedAt.toFixed(0)} ms), ${failed.length} failed (node 2 after the kill)`);
    assert.equal(victim.exitInfo.signal, 'SIGKILL');
    assert.ok(acked.length >= 100, `too little load to prove anything: ${acked.length} sessions`);
    assert.ok(onVictim.length > 0, 'node 2 acknowledged nothing before it was killed');
    assert.ok(acked.some((r) => r.node !== 1 && r.start > killedAt), 'no session was acknowledged after the kill');
    // The surviving nodes answered everything with 200; node 2 failed only around and after its death.
    const badSurvivors = failed.filter((r) => r.node !== 1);
    assert.deepEqual(badSurvivors.map((r) => r.status || r.error), [], 'nodes 1 and 3 refused or failed requests during the load');
    const badVictim = failed.filter((r) => r.node === 1 && r.end < killedAt);
    assert.deepEqual(badVictim.map((r) => r.status || r.error), [], 'node 2 failed requests before it was killed');

    // Every acknowledged jti is a session in the store and has its session.issued event, once.
    const stored = new Set();
    for (let k = 0; k < 32; k++) {
      const list = h.cliJson(env, 'session', 'list', '--org', S.orgId, '--email', email(k)).data;
      assert.ok(list.length < 1000, `${email(k)} has ${list.length} sessions: the list may be cut`);
      for (const x of list) stored.add(x.jti);
    }
    const issued = new Map();
    for (const e of h.auditEvents(env, S.orgId)) {
      if (e.action === 'session.issued') issued.set(e.target, (issued.get(e.target) || 0) + 1);
    }
    const lostSessions = acked.filter((r) => !stored.has(r.jti));
    const lostEvents = acked.filter((r) => !issued.has(r.jti));
    const doubled = acked.filter((r) => issued.get(r.jti) > 1);
    assert.deepEqual(lostSessions.map((r) => `${r.jti} (node ${r.node + 1})`), [], 'acknowledged sessions missing from the store');
    assert.deepEqual(lostEvents.map((r) => `${r.jti} (node ${r.node + 1})`), [], 'acknowledged sessions without a session.issued audit event');
    assert.deepEqual(doubled.map((r) => r.jti), [], 'session.issued written twice');
    assert.equal(new Set(acked.map((r) => r.jti)).size, acked.length, 'a jti was handed out twice');
  });

  it('g. node 2, restarted, has the changes made while it was down from its first request', async () => {
    assert.ok(nodes[1].exitInfo, 'node 2 is still running (case f did not kill it)');
    const s = await session(nodes[0], 'while.down@host.example');
    const keep = await session(nodes[2], 'kept@host.example');
    assert.equal((await revoke(nodes[0], { jti: s.jti })).status, 200);
    const created = await admin(nodes[2], 'POST', '/access-tokens', { name: 'made while node 2 was down', type: 'embed' });
    assert.equal(created.status, 201, created.text);
    const g = await admin(nodes[2], 'PUT', `/groups/${S.group2.id}/permissions`, { app_id: S.app.id, permission: 'apps:view', granted: true });
    assert.equal(g.status, 200, g.text);
    const support = await session(nodes[0], 'support@host.example', { groupIds: [S.group2.id] });

    const n2 = await start(1);
    // No polling: the first requests after "listening on" must see every change.
    const revoked = await h.me(n2.url, s.token);
    assert.equal(revoked.status, 401, `the restarted node accepts a session revoked while it was down: ${revoked.text}`);
    const minted = await h.postToken(n2.url, created.json.data.key, { email: 'late@host.example' });
    assert.equal(minted.status, 200, `the restarted node refuses a token created while it was down: ${minted.text}`);
    const e = await openEmbed(n2, support);
    assert.ok(e.ok, `the restarted node does not apply a grant made while it was down: ${e.detail}`);
    assert.equal(await meStatus(n2, keep), 200);
    // And it takes part again: its revocation reaches node 3.
    assert.equal((await revoke(n2, { jti: keep.jti })).status, 200);
    const gone = await c.within(ONE_SECOND, async () => ({ ok: (await meStatus(nodes[2], keep)) === 401 }));
    assert.ok(gone.ok, 'a revocation on the restarted node 2 is not in force on node 3 within a second');
  });

  it('h. webhooks: one node delivers each event once, in order; when it dies another takes over', async (t) => {
    const rx = await startReceiver();
    try {
      const hook = await admin(nodes[0], 'POST', '/webhooks', { url: `${rx.url}/h`, events: ['session.created'] });
      assert.equal(hook.status, 201, hook.text);
      h.noteSecret(hook.json.data.secret);
      rx.secret = hook.json.data.secret;
      const delivered = async () => {
        const counts = [];
        for (const node of nodes) counts.push(node.exitInfo ? null : c.metric(await c.scrape(node.url), 'tessera_webhook_deliveries_total', { result: 'delivered' }));
        return counts;
      };
      const before = await delivered();
      const waitAll = async (jtis, what, timeoutMs = 8000) => {
        const r = await h.poll(() => jtis.every((j) => rx.events.some((e) => e.data.jti === j)), { timeoutMs, intervalMs: 20 });
        assert.ok(r.ok, `${what}: not every event was delivered within ${timeoutMs} ms (${rx.events.length} arrived)`);
        return r.elapsed;
      };

      const batch1 = [];
      for (let i = 0; i < 9; i++) batch1.push((await session(nodes[i % 3], `hook${i}@host.example`)).jti);
      await waitAll(batch1, 'while three nodes run');
      assert.ok(rx.bad.length === 0, `deliveries that do not verify: ${JSON.stringify(rx.bad)}`);
      assert.deepEqual(rx.events.map((e) => e.data.jti), batch1, 'each event once, in the order of issuance');
      const counts = (await delivered()).map((n, i) => n - before[i]);
      const deliverers = counts.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
      t.diagnostic(`deliveries per node: ${counts.join(', ')}`);
      assert.equal(deliverers.length, 1, `more than one node delivered the webhook's events: ${counts}`);

      // Kill the node that delivers; the others carry on (issuing on the survivors).
      const holder = nodes[deliverers[0]];
      const killedAt = Date.now();
      await holder.kill();
      const alive = nodes.filter((n) => !n.exitInfo);
      const batch2 = [];
      for (let i = 0; i < 6; i++) batch2.push((await session(alive[i % alive.length], `after.kill${i}@host.example`)).jti);
      const took = await waitAll(batch2, `after SIGKILL of node ${deliverers[0] + 1}`);
      const firstAfter = rx.events.find((e) => e.data.jti === batch2[0]);
      t.diagnostic(`node ${deliverers[0] + 1} killed; the first event after it delivered ${firstAfter.at - killedAt} ms after the kill (all ${batch2.length} within ${took} ms)`);
      const firsts = [];
      for (const e of rx.events) if (!firsts.includes(e.data.jti)) firsts.push(e.data.jti);
      assert.deepEqual(firsts, [...batch1, ...batch2], 'events out of order (first arrivals)');
      // At least once: only the event in flight at the kill (the last one) may come twice.
      const dupes = rx.events.map((e) => e.data.jti).filter((j, k, all) => all.indexOf(j) !== k);
      assert.ok(dupes.every((j) => j === batch1[batch1.length - 1]), `events delivered twice: ${dupes}`);
      const after = await delivered();
      assert.ok(after.some((n, i) => i !== deliverers[0] && n !== null && n > (before[i] || 0)), `no surviving node delivered: ${after}`);
      assert.equal(rx.bad.length, 0);
    } finally {
      rx.server.close();
    }
  });
});

// Runs one SQL statement with psql (Debian's postgresql-client).
function psql(url, sql) {
  const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, `psql ${sql}: ${r.stderr || r.error}`);
}

// A webhook receiver on 127.0.0.1 that verifies each signature (docs/SESSIONS.md) and records the
// events in arrival order.
function startReceiver() {
  const rx = { events: [], bad: [], secret: null, server: null, url: null };
  rx.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req.headers['tessera-signature'] || '');
      const ok = rx.secret && m && crypto.timingSafeEqual(
        crypto.createHmac('sha256', rx.secret).update(`${m[1]}.`).update(raw).digest(), Buffer.from(m[2], 'hex'));
      if (!ok) {
        rx.bad.push(req.headers['tessera-event-id']);
        res.writeHead(401).end();
        return;
      }
      const body = JSON.parse(raw.toString('utf8'));
      if (body.type === 'session.created') rx.events.push({ ...body, at: Date.now() });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => rx.server.listen(0, '127.0.0.1', () => {
    rx.url = `http://127.0.0.1:${rx.server.address().port}`;
    resolve(rx);
  }));
}
