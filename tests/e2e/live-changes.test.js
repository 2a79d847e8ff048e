'use strict';
// Changes made with the CLI while `tessera serve` runs take effect within a
// second, without a restart (DESIGN sections 7 and 9).

const { describe, it, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const LIMIT_MS = 1500; // "within one second", plus scheduling slack

describe('live changes while serving', () => {
  // Each test gets its own database and server, so that one failure (or a
  // crash) cannot change another test's outcome.
  let env;
  let server;
  let url;
  let s;

  beforeEach(async () => {
    env = h.makeEnv();
    s = h.seed(env);
    server = await h.startServer(env);
    url = server.url;
  });

  afterEach(async () => {
    const sv = server;
    const e = env;
    server = null;
    env = null;
    try {
      if (sv) await sv.stop();
    } finally {
      if (sv) await sv.kill();
      if (e) e.cleanup();
    }
  });

  it('a token created after start works within a second', async () => {
    const t = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'late-token');
    const r = await h.poll(async () => (await h.postToken(url, t.token, { email: 'late@example.com' })).status === 200, { timeoutMs: LIMIT_MS });
    assert.ok(r.ok, `a token created after start was still refused after ${r.elapsed} ms`);
  });

  it('a token of an org created after start works within a second', async () => {
    const org = h.cliJson(env, 'org', 'create', 'Late Org');
    const g = h.cliJson(env, 'group', 'create', '--org', org.id, 'Late Org Group');
    const t = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'late-org-token');
    const r = await h.poll(async () => {
      const res = await h.postToken(url, t.token, { email: 'late.org@example.com', groupIds: [g.id] });
      return res.status === 200 ? res : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(r.ok, `a new org's token was still refused after ${r.elapsed} ms`);
    const claims = h.jwtParts(r.value.json.access_token).payload;
    assert.equal(claims.org_id, org.id);
    assert.deepEqual(claims.rbac_group_objects, [{ id: g.id, name: 'Late Org Group' }]);
  });

  it('token revoke: within a second the token and the sessions minted with it are refused', async () => {
    const t = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'revoke-me');
    const got = await h.poll(async () => {
      const res = await h.postToken(url, t.token, { email: 'revoke.live@example.com' });
      return res.status === 200 ? res.json.access_token : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(got.ok, 'the new token never worked');
    const session = got.value;
    // A session minted with another token is not affected.
    const bystander = await h.issue(url, s.embedToken, { email: 'bystander@example.com' });
    assert.equal((await h.me(url, session)).status, 200);

    h.cliJson(env, 'token', 'revoke', '--org', s.orgId, t.id);
    const tokenRefused = await h.poll(async () => (await h.postToken(url, t.token, { email: 'revoke.live@example.com' })).status === 401, { timeoutMs: LIMIT_MS });
    const sessionRefused = await h.poll(async () => (await h.me(url, session)).status === 401, { timeoutMs: 200 });
    assert.ok(tokenRefused.ok, `the revoked token was still accepted after ${tokenRefused.elapsed} ms`);
    assert.ok(sessionRefused.ok, 'a session of the revoked token was still accepted after its token was refused');
    assert.equal((await h.me(url, bystander.accessToken)).status, 200, 'revoking one token refused sessions of another');
    assert.equal((await h.postToken(url, s.embedToken, { email: 'bystander@example.com' })).status, 200);
  });

  it('a group created after start is accepted in groupIds within a second', async () => {
    const g = h.cliJson(env, 'group', 'create', '--org', s.orgId, 'Late Group');
    const r = await h.poll(async () => {
      const res = await h.postToken(url, s.embedToken, { email: 'late.group@example.com', groupIds: [g.id] });
      return res.status === 200 ? res : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(r.ok, `a new group was still unknown after ${r.elapsed} ms`);
    assert.deepEqual(h.jwtParts(r.value.json.access_token).payload.rbac_group_objects, [{ id: g.id, name: 'Late Group' }]);
  });

  it('a platform user added after start works with isSuperblocksUser, and a new membership shows in the next token', async () => {
    const email = 'late.platform@example.com';
    // Unknown before it is added.
    assert.equal((await h.postToken(url, s.embedToken, { email, isSuperblocksUser: true })).status, 401);
    const u = h.cliJson(env, 'user', 'add', '--org', s.orgId, email, '--role', 'developer', '--name', 'Late Platform');
    const r = await h.poll(async () => {
      const res = await h.postToken(url, s.embedToken, { email, isSuperblocksUser: true });
      return res.status === 200 ? res : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(r.ok, `a new platform user was still unknown after ${r.elapsed} ms`);
    const c1 = h.jwtParts(r.value.json.access_token).payload;
    assert.equal(c1.user_id, u.id);
    assert.equal(c1.user_type, 'superblocks');
    assert.equal(c1.rbac_role, 'developer');
    assert.deepEqual(c1.rbac_group_objects, []);

    h.cliJson(env, 'group', 'add-member', '--org', s.orgId, s.group2.id, email);
    const r2 = await h.poll(async () => {
      const res = await h.postToken(url, s.embedToken, { email, isSuperblocksUser: true });
      if (res.status !== 200) return null;
      const groups = h.jwtParts(res.json.access_token).payload.rbac_group_objects;
      return groups.some((g) => g.id === s.group2.id) ? groups : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(r2.ok, `the new group membership was not in tokens after ${r2.elapsed} ms`);
    assert.deepEqual(r2.value, [{ id: s.group2.id, name: 'Support' }]);
  });

  it('a second membership adds to, and does not replace, the first', async () => {
    const email = 'two.groups@example.com';
    h.cliJson(env, 'user', 'add', '--org', s.orgId, email);
    h.cliJson(env, 'group', 'add-member', '--org', s.orgId, s.group1.id, email);
    const r1 = await h.poll(async () => {
      const res = await h.postToken(url, s.embedToken, { email, isSuperblocksUser: true });
      return res.status === 200 && h.jwtParts(res.json.access_token).payload.rbac_group_objects.length === 1;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(r1.ok, 'first membership not visible');
    h.cliJson(env, 'group', 'add-member', '--org', s.orgId, s.group2.id, email);
    const r2 = await h.poll(async () => {
      const res = await h.postToken(url, s.embedToken, { email, isSuperblocksUser: true });
      if (res.status !== 200) return null;
      const ids = h.jwtParts(res.json.access_token).payload.rbac_group_objects.map((g) => g.id).sort();
      return ids.length === 2 ? ids : null;
    }, { timeoutMs: LIMIT_MS });
    assert.ok(r2.ok, 'second membership not visible (or the first was lost)');
    assert.deepEqual(r2.value, [s.group1.id, s.group2.id].sort());
  });

  it('one bad change (a key rotated with the wrong master key) does not stop later changes such as a revocation', async () => {
    const t1 = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'victim');
    const ok = await h.poll(async () => (await h.postToken(url, t1.token, { email: 'bad.key@example.com' })).status === 200, { timeoutMs: LIMIT_MS });
    assert.ok(ok.ok, 'the new token never worked');
    // An operator runs the CLI with another master key than the server's.
    const rot = h.cli(env, 'keys', 'rotate', { env: { TESSERA_MASTER_KEY: 'cd'.repeat(32) } });
    h.cliJson(env, 'token', 'revoke', '--org', s.orgId, t1.id);
    const refused = await h.poll(async () => (await h.postToken(url, t1.token, { email: 'bad.key@example.com' })).status === 401, { timeoutMs: LIMIT_MS });
    assert.ok(refused.ok, `a revoked token was still accepted ${refused.elapsed} ms after revocation (keys rotate exited ${rot.code}: ${rot.stderr.trim()})`);
    // And sessions keep being issued and verified.
    const fresh = await h.issue(url, s.embedToken, { email: 'bad.key@example.com' });
    assert.equal((await h.me(url, fresh.accessToken)).status, 200);
  });
});
