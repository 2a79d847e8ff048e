'use strict';
// Revocation: a host ends one session (jti) or every session of a user (email) with
// POST /api/v1/public/sessions/revoke; admins do the same through the admin API and the CLI;
// revoking an access token ends every session minted with it. Effective at once on the node that
// took the request, within a second for changes made elsewhere (the CLI), and after a restart.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

describe('session revocation', { timeout: 90000 }, () => {
  let env;
  let server;
  let url;
  let A;
  let B;

  const revoke = (token, body) => h.httpRequest(`${url}/api/v1/public/sessions/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const admin = (method, p, body) => h.httpRequest(`${url}/api/v1/organizations/${A.orgId}${p}`, {
    method,
    headers: { authorization: `Bearer ${A.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const session = async (email, org = A) => {
    const r = await h.postToken(url, org.embedToken, { email });
    assert.equal(r.status, 200, r.text);
    return { token: r.json.access_token, jti: h.jwtParts(r.json.access_token).payload.jti };
  };
  const meStatus = async (s) => (await h.me(url, s.token)).status;
  async function assertRevoked(s, what) {
    const r = await h.me(url, s.token);
    assert.equal(r.status, 401, `${what}: /api/v1/me ${r.status} ${r.text}`);
    assert.match(r.json.error_description, /revoked/, what);
  }

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Revoke A' });
    B = h.seed(env, { orgName: 'Revoke B', userEmail: 'b@b.example' });
    server = await h.startServer(env);
    url = server.url;
  });

  after(async () => {
    if (server) await server.kill();
    if (env) env.cleanup();
  });

  it('by jti: that session is refused at once; the user\'s other sessions are not', async () => {
    const one = await session('jane@host.example');
    const two = await session('jane@host.example');
    const r = await revoke(A.embedToken, { jti: one.jti });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { revoked: 1 });
    assert.equal(r.headers.get('cache-control'), 'no-store');
    await assertRevoked(one, 'the revoked session');
    assert.equal(await meStatus(two), 200, 'another session of the same user was revoked');
    // Again: still a success.
    assert.deepEqual((await revoke(A.embedToken, { jti: one.jti })).json, { revoked: 1 });
  });

  it('a session verified again and again (remembered by the workers) is refused at once when revoked', async () => {
    const s = await session('often@host.example');
    for (let i = 0; i < 20; i++) assert.equal(await meStatus(s), 200, `verification ${i}`);
    assert.equal((await revoke(A.embedToken, { jti: s.jti })).status, 200);
    for (let i = 0; i < 20; i++) await assertRevoked(s, `verification ${i} after the revocation`);
  });

  it('by email: every live session of that user in this organization, no one else\'s', async () => {
    const mine = [await session('ann@host.example'), await session('Ann@Host.Example')];
    const other = await session('bob@host.example');
    const otherOrg = await session('ann@host.example', B);
    const r = await revoke(A.embedToken, { email: 'ANN@host.example' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { revoked: 2 });
    for (const s of mine) await assertRevoked(s, 'a session of the revoked user');
    assert.equal(await meStatus(other), 200);
    assert.equal(await meStatus(otherOrg), 200, "the same email in another organization was revoked");
    // A new session afterwards works: revocation ends sessions, it does not ban the user.
    assert.equal(await meStatus(await session('ann@host.example')), 200);
    assert.deepEqual((await revoke(A.embedToken, { email: 'nobody@host.example' })).json, { revoked: 0 });
  });

  it('bad requests: 400 naming the problem; another org\'s session is 404; an admin token is 403; nothing is revoked', async () => {
    const s = await session('carl@host.example');
    for (const [body, re] of [[{}, /exactly one/], [{ email: 'carl@host.example', jti: s.jti }, /exactly one/], [{ jti: 'not-a-jti' }, /jti/], [{ email: 5 }, /string/], [{ email: 'not an email' }, /email/]]) {
      const r = await revoke(A.embedToken, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${r.text}`);
      assert.match(r.json.error_description, re);
    }
    assert.equal((await revoke(B.embedToken, { jti: s.jti })).status, 404, "org B revoked org A's session");
    assert.equal((await revoke(A.embedToken, { jti: h.randomUuid() })).status, 404);
    assert.equal((await revoke(A.adminToken, { jti: s.jti })).status, 403);
    assert.equal((await revoke('tse_nope', { jti: s.jti })).status, 401);
    assert.equal(await meStatus(s), 200, 'a refused revocation revoked the session');
  });

  it('the admin API lists a user\'s sessions and revokes them; the audit log has every revocation', async () => {
    const s1 = await session('dora@host.example');
    const s2 = await session('dora@host.example');
    const list = await admin('GET', '/sessions?email=dora%40host.example');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.data.map((x) => x.jti).sort(), [s1.jti, s2.jti].sort());
    assert.deepEqual(Object.keys(list.json.data[0]).sort(), ['access_token_id', 'email', 'expires_at', 'issued_at', 'jti', 'revoked_at', 'user_id', 'user_type']);
    assert.equal((await admin('GET', '/sessions')).status, 400);
    const r = await admin('POST', '/sessions/revoke', { jti: s1.jti });
    assert.deepEqual(r.json, { data: { revoked: 1 } });
    await assertRevoked(s1, 'revoked through the admin API');
    assert.equal(await meStatus(s2), 200);
    const after = await admin('GET', '/sessions?email=dora@host.example');
    assert.match(String(after.json.data.find((x) => x.jti === s1.jti).revoked_at), /^\d{4}-/);
    assert.deepEqual((await admin('POST', '/sessions/revoke', { email: 'dora@host.example' })).json, { data: { revoked: 1 } });
    await assertRevoked(s2, 'revoked by email through the admin API');
    const events = h.auditEvents(env, A.orgId).filter((e) => e.action === 'session.revoked');
    assert.ok(events.some((e) => e.target === s1.jti), 'no audit event for the jti revocation');
    assert.ok(events.some((e) => e.target === 'dora@host.example'), 'no audit event for the email revocation');
  });

  it('the CLI revokes on a running server within a second; revoking the access token ends its sessions', async () => {
    const s = await session('erin@host.example');
    const r = h.cli(env, 'session', 'revoke', '--org', A.orgId, '--email', 'erin@host.example');
    assert.equal(r.code, 0, r.stderr);
    const gone = await h.poll(async () => ((await meStatus(s)) === 401 ? true : null), { timeoutMs: 1500 });
    assert.ok(gone.ok, 'a CLI revocation is not in effect within 1.5 s');
    const t = h.cliJson(env, 'token', 'create', '--org', A.orgId, '--name', 'short-lived backend');
    const ready = await h.poll(async () => ((await h.postToken(url, t.token, { email: 'fay@host.example' })).status === 200 ? true : null), { timeoutMs: 1500 });
    assert.ok(ready.ok, 'a token made with the CLI does not work within 1.5 s');
    const minted = await session('fay@host.example', { ...A, embedToken: t.token });
    assert.equal(await meStatus(minted), 200);
    assert.equal((await admin('DELETE', `/access-tokens/${t.id}`)).status, 200);
    await assertRevoked(minted, 'a session of a revoked access token');
  });

  it('a restarted server still refuses the revoked sessions', async () => {
    const s = await session('gus@host.example');
    const keep = await session('hal@host.example');
    assert.equal((await revoke(A.embedToken, { jti: s.jti })).status, 200);
    await server.stop();
    // The same address: the issuer (the base URL) must not change.
    server = await h.startServer(env, ['--listen', new URL(url).host]);
    assert.equal(server.url, url);
    await assertRevoked(s, 'after a restart');
    assert.equal(await meStatus(keep), 200);
  });
});
