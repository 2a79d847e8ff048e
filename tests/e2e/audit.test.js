'use strict';
// The audit log after a scripted scenario holds exactly the expected session events, in order:
// issuance (with the host's correlation id), a refusal (with its reason code), a refresh in an open
// embed, a revocation, an expiry (from the sweep); requests without a valid access token leave no
// trace; no event holds a secret.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./harness');

describe('audit of the session lifecycle', { timeout: 60000 }, () => {
  let env;
  let server;
  let url;
  let s;

  before(async () => {
    env = h.makeEnv();
    s = h.seed(env, { orgName: 'Audit Org' });
    const grant = h.cli(env, 'group', 'grant', '--org', s.orgId, s.group1.id, s.app.id);
    assert.equal(grant.code, 0, grant.stderr);
    const deploy = h.cli(env, 'app', 'deploy', '--org', s.orgId, s.app.id, path.join(__dirname, '..', '..', 'web', 'demo-app'));
    assert.equal(deploy.code, 0, deploy.stderr);
    server = await h.startServer(env);
    url = server.url;
  });

  after(async () => {
    if (server) await server.kill();
    if (env) env.cleanup();
  });

  it('issued, denied, refreshed, revoked, expired: exactly these events, with reasons and correlation ids, and no secret', async () => {
    const start = h.auditEvents(env, s.orgId).length;
    // 1. issued, with the correlation id from metadata
    const a = await h.postToken(url, s.embedToken, { email: 'Ann@Host.example', metadata: { correlationId: 'corr-42', plan: 'gold' } });
    assert.equal(a.status, 200, a.text);
    const jtiA = h.jwtParts(a.json.access_token).payload.jti;
    // 2. denied: an unknown group (the reason code and the request's email are recorded)
    const bad = await h.postToken(url, s.embedToken, { email: 'bob@host.example', groupIds: [h.randomUuid()] });
    assert.equal(bad.status, 400);
    // not audited: an unknown access token, a malformed Authorization header
    assert.equal((await h.postToken(url, 'tse_unknown', { email: 'eve@host.example' })).status, 401);
    assert.equal((await h.postToken(url, '', { email: 'eve@host.example' })).status, 401);
    // 3. refreshed: the embed page verifies a new token for a running app
    const b = await h.postToken(url, s.embedToken, { email: 'cid@host.example', groupIds: [s.group1.id], metadata: { externalUserId: 'ext-7' } });
    const jtiB = h.jwtParts(b.json.access_token).payload.jti;
    const appId = s.app.id;
    const refreshed = await h.httpRequest(`${url}/api/v1/embed/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.json.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app_id: appId, refresh: true }),
    });
    assert.equal(refreshed.status, 200, `embed session: ${refreshed.status} ${refreshed.text}`);
    // 4. revoked
    const r = await h.httpRequest(`${url}/api/v1/public/sessions/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.embedToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: jtiA }),
    });
    assert.equal(r.status, 200, r.text);
    // 5. expired: a one-second session, audited by the sweep (every 5 s)
    h.cli(env, 'org', 'update', s.orgId, '--session-ttl', '1');
    let issuedWhilePolling = 0; // sessions issued before the new lifetime took effect
    const short = await h.poll(async () => {
      const t = await h.postToken(url, s.embedToken, { email: 'dee@host.example' });
      if (t.status === 200) issuedWhilePolling++;
      return t.status === 200 && t.json.expires_in === 1 ? t : null;
    }, { timeoutMs: 3000 });
    assert.ok(short.ok, 'the one-second session lifetime did not take effect');
    const jtiC = h.jwtParts(short.value.json.access_token).payload.jti;
    const expired = await h.poll(async () => (h.auditEvents(env, s.orgId).some((e) => e.action === 'session.expired' && e.target === jtiC) ? true : null), { timeoutMs: 15000, intervalMs: 500 });
    assert.ok(expired.ok, 'no session.expired event within 15 s of the expiry');

    const events = h.auditEvents(env, s.orgId).slice(start).filter((e) => e.action.startsWith('session.'));
    const summary = events.map((e) => `${e.action} ${e.target}`);
    const expiredOthers = events.filter((e) => e.action === 'session.expired' && e.target !== jtiC);
    assert.deepEqual(expiredOthers, [], 'sessions that have not expired were audited as expired');
    const byAction = (action) => events.filter((e) => e.action === action);
    assert.equal(byAction('session.issued').length, 2 + issuedWhilePolling, summary.join('\n'));
    assert.equal(byAction('session.denied').length, 1, `exactly one refusal audited (unknown tokens are not):\n${summary.join('\n')}`);
    assert.equal(byAction('session.revoked').length, 1);
    assert.equal(byAction('session.expired').length, 1);
    assert.equal(byAction('session.refreshed').length, 1);
    assert.equal(byAction('session.refreshed')[0].target, jtiB);

    const issuedA = byAction('session.issued').find((e) => e.target === jtiA);
    assert.equal(issuedA.detail.correlation_id, 'corr-42');
    assert.equal(issuedA.detail.email, 'ann@host.example');
    assert.equal(byAction('session.issued').find((e) => e.target === jtiB).detail.correlation_id, 'ext-7');
    const denied = byAction('session.denied')[0];
    assert.equal(denied.detail.reason, 'invalid_request');
    assert.match(denied.detail.detail, /groupIds/);
    assert.equal(denied.target, 'bob@host.example');
    assert.equal(denied.actor, `token:${s.embedId}`);
    assert.equal(byAction('session.revoked')[0].target, jtiA);
    const exp = byAction('session.expired')[0];
    assert.equal(exp.actor, 'system');
    assert.equal(exp.detail.email, 'dee@host.example');
    for (const e of events) {
      for (const k of ['id', 'at', 'actor', 'action', 'target', 'client', 'request_id']) assert.ok(k in e, `${e.action} lacks ${k}`);
      if (e.action !== 'session.expired') assert.equal(e.client, '127.0.0.1', `${e.action} has no client address`);
    }
    const text = JSON.stringify(events);
    for (const secret of [s.embedToken, s.adminToken, a.json.access_token, b.json.access_token]) assert.ok(!text.includes(secret), 'an audit event holds a secret');
  });
});
