'use strict';
// POST /api/v1/public/token: the happy paths, as real clients (the seed's
// curl/axios/requests snippets) call it, and the session token it returns.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const jose = require('jose');
const h = require('./harness');

describe('POST /api/v1/public/token (happy paths)', () => {
  let env;
  let server;
  let s;
  let url;
  const secrets = new Set(); // every access token value and session JWT seen in this file

  const issue = async (body, token = s.embedToken) => {
    const r = await h.issue(url, token, body);
    secrets.add(r.accessToken);
    return r;
  };

  before(async () => {
    env = h.makeEnv();
    s = h.seed(env);
    secrets.add(s.embedToken);
    secrets.add(s.adminToken);
    server = await h.startServer(env);
    url = server.url;
  });

  after(async () => {
    try {
      if (server) {
        await server.stop();
        // The whole log, after a clean shutdown, holds no secret.
        const log = server.logs() + server.stdout();
        for (const secret of secrets) assert.ok(!log.includes(secret), `server output contains a secret (${secret.slice(0, 16)}...)`);
      }
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  it("accepts the seed's curl request exactly and answers {access_token, token_type, expires_in}", async () => {
    // The body text of the seed's `curl --data-raw`, byte for byte, with its lower-case header names.
    const body = `{
            "email":"jane.wind@company.com",
            "name": "Jane Wind",
            "metadata": {
                "externalUserId": "d942c6...72f362",
                "externalOrgId": "c32979...acf711"
            }
        }`;
    const res = await h.httpRequest(`${url}/api/v1/public/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.embedToken}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200, res.text);
    secrets.add(res.json.access_token);
    assert.deepEqual(Object.keys(res.json).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(res.json.token_type, 'Bearer');
    assert.equal(res.json.expires_in, 86400);
    assert.equal(typeof res.json.access_token, 'string');
    assert.match(res.json.access_token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
    const { payload } = h.jwtParts(res.json.access_token);
    assert.deepEqual(payload.metadata, { externalUserId: 'd942c6...72f362', externalOrgId: 'c32979...acf711' });
    assert.equal(payload.user_name, 'Jane Wind');
  });

  it('issues a session token that verifies with jose against the JWKS and carries every claim', async () => {
    const metadata = { externalUserId: 'u-42', externalOrgId: 'o-7', isAdmin: true, nested: { list: [1, 'two', null] } };
    const before = Math.floor(Date.now() / 1000);
    const res = await h.postToken(url, s.embedToken, { email: 'Jane.Wind@Company.COM', name: 'Jane Wind', metadata });
    const afterT = Math.ceil(Date.now() / 1000);
    assert.equal(res.status, 200, res.text);
    const token = res.json.access_token;
    secrets.add(token);

    const jwksRes = await h.httpRequest(`${url}/.well-known/jwks.json`);
    assert.equal(jwksRes.status, 200);
    const kids = jwksRes.json.keys.map((k) => k.kid);

    const jwks = jose.createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: url,
      audience: 'tessera:session',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(typeof protectedHeader.kid, 'string');
    assert.ok(kids.includes(protectedHeader.kid), `kid ${protectedHeader.kid} not in JWKS ${kids}`);

    assert.equal(payload.iss, url);
    assert.equal(payload.aud, 'tessera:session');
    assert.match(payload.sub, h.UUID_RE);
    assert.match(payload.jti, h.UUID_RE);
    for (const c of ['iat', 'nbf', 'exp']) assert.ok(Number.isInteger(payload[c]), `${c} is not an integer`);
    assert.ok(payload.iat >= before - 1 && payload.iat <= afterT + 1, `iat ${payload.iat} not near now (${before})`);
    assert.ok(payload.nbf <= payload.iat, 'nbf is after iat');
    assert.equal(payload.exp - payload.iat, res.json.expires_in);
    assert.equal(payload.org_id, s.orgId);
    assert.equal(typeof payload.org_type, 'string');
    assert.ok(payload.org_type.length > 0);
    assert.equal(payload.user_email, 'jane.wind@company.com');
    assert.equal(payload.user_id, payload.sub);
    assert.equal(payload.user_name, 'Jane Wind');
    assert.equal(payload.user_type, 'external');
    assert.deepEqual(payload.rbac_group_objects, []);
    assert.equal(payload.atid, s.embedId);
    assert.deepEqual(payload.metadata, metadata);
    assert.equal(payload.rbac_role, undefined, 'an external user has no rbac_role');
  });

  it('copies the metadata object into the JWT byte for byte', async () => {
    const metaText = '{"b":1,  "a" : [true,null,"é\\u00e9"], "n": 1.5e3, "z": {"\\ud83d\\ude00": "😀", "q": "\\"\\\\/"}}';
    const body = `{"metadata": ${metaText}, "email":"meta.bytes@example.com"}`;
    const res = await h.postToken(url, s.embedToken, body);
    assert.equal(res.status, 200, res.text);
    secrets.add(res.json.access_token);
    const payloadRaw = h.b64urlDecode(res.json.access_token.split('.')[1]).toString('utf8');
    assert.ok(
      payloadRaw.includes(`"metadata":${metaText}`),
      `payload does not hold the metadata text unchanged:\n${payloadRaw}\nexpected to contain:\n"metadata":${metaText}`,
    );
    // Exactly once, and it cannot have leaked out of its claim.
    assert.equal(payloadRaw.split('"metadata":').length, 2);
    const payload = JSON.parse(payloadRaw);
    assert.deepEqual(payload.metadata, JSON.parse(metaText));
    assert.equal(payload.user_email, 'meta.bytes@example.com');
  });

  it('keeps a metadata key that looks like a claim inside metadata', async () => {
    const { claims } = await issue({ email: 'claims@example.com', metadata: { sub: 'evil', user_type: 'superblocks', exp: 1 } });
    assert.equal(claims.user_type, 'external');
    assert.notEqual(claims.sub, 'evil');
    assert.ok(claims.exp > Date.now() / 1000);
    assert.deepEqual(claims.metadata, { sub: 'evil', user_type: 'superblocks', exp: 1 });
  });

  it('accepts the "metadata" member name written with a JSON escape (it is the same key)', async () => {
    // "metad\u0061ta" is the key "metadata" in JSON; a conforming parser must treat it as such.
    const res = await h.postToken(url, s.embedToken, '{"email":"escaped.key@example.com","metad\\u0061ta":{"x":1}}');
    assert.equal(res.status, 200, res.text);
    secrets.add(res.json.access_token);
    assert.deepEqual(h.jwtParts(res.json.access_token).payload.metadata, { x: 1 });
  });

  it('accepts a minimal body {"email"}: no metadata and no user_name claim', async () => {
    const { claims, res } = await issue({ email: 'minimal@example.com' });
    assert.equal(res.json.expires_in, 86400);
    assert.equal(claims.user_email, 'minimal@example.com');
    assert.ok(!('metadata' in claims), 'metadata claim present');
    assert.ok(!('user_name' in claims), 'user_name claim present');
    assert.deepEqual(claims.rbac_group_objects, []);
    assert.equal(claims.user_type, 'external');
  });

  it('treats JSON null members as absent', async () => {
    const { claims } = await issue({ email: 'nulls@example.com', name: null, metadata: null, groupIds: null, isSuperblocksUser: null });
    assert.ok(!('metadata' in claims));
    assert.ok(!('user_name' in claims));
    assert.deepEqual(claims.rbac_group_objects, []);
    assert.equal(claims.user_type, 'external');
  });

  it('maps groupIds to rbac_group_objects [{id, name}]', async () => {
    const { claims } = await issue({ email: 'groups@example.com', groupIds: [s.group1.id, s.group2.id] });
    const got = [...claims.rbac_group_objects].sort((a, b) => a.id.localeCompare(b.id));
    const want = [
      { id: s.group1.id, name: 'Engineering' },
      { id: s.group2.id, name: 'Support' },
    ].sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(got, want);
  });

  it('accepts an upper-case group id and collapses duplicates', async () => {
    const { claims } = await issue({
      email: 'groups.case@example.com',
      groupIds: [s.group1.id.toUpperCase(), s.group1.id, s.group2.id, s.group2.id.toUpperCase(), s.group2.id],
    });
    const got = [...claims.rbac_group_objects].sort((a, b) => a.id.localeCompare(b.id));
    const want = [
      { id: s.group1.id, name: 'Engineering' },
      { id: s.group2.id, name: 'Support' },
    ].sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(got, want);
  });

  for (const flag of ['isSuperblocksUser', 'isSuperblocks']) {
    it(`${flag}: true binds the session to the platform user (type, role, id, group union)`, async () => {
      const { claims } = await issue({ email: s.userEmail.toUpperCase(), [flag]: true, groupIds: [s.group2.id] });
      assert.equal(claims.user_type, 'superblocks');
      assert.equal(claims.rbac_role, 'admin');
      assert.equal(claims.user_id, s.user.id);
      assert.equal(claims.sub, s.user.id);
      assert.equal(claims.user_email, s.userEmail);
      assert.equal(claims.user_name, 'Ada Admin', 'the platform user name is used when no name is sent');
      const got = [...claims.rbac_group_objects].sort((a, b) => a.id.localeCompare(b.id));
      const want = [
        { id: s.group1.id, name: 'Engineering' }, // the user's own group
        { id: s.group2.id, name: 'Support' }, // the requested one
      ].sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(got, want);
    });
  }

  it('platform user: a requested group the user is already in appears once', async () => {
    const { claims } = await issue({ email: s.userEmail, isSuperblocksUser: true, groupIds: [s.group1.id] });
    assert.deepEqual(claims.rbac_group_objects, [{ id: s.group1.id, name: 'Engineering' }]);
  });

  it('gives the same sub for the same email, whatever its case; another email gets another sub', async () => {
    const a = await issue({ email: 'stable.user@example.com' });
    const b = await issue({ email: 'stable.user@example.com', name: 'Other Name' });
    const c = await issue({ email: 'Stable.USER@Example.com' });
    const d = await issue({ email: 'another.user@example.com' });
    assert.equal(a.claims.sub, b.claims.sub);
    assert.equal(a.claims.sub, c.claims.sub);
    assert.equal(c.claims.user_email, 'stable.user@example.com');
    assert.notEqual(a.claims.sub, d.claims.sub);
    assert.notEqual(a.claims.jti, b.claims.jti, 'every session has its own jti');
    // An external user's id is not a platform user's id.
    assert.notEqual(a.claims.sub, s.user.id);
  });

  it('accepts Content-Type: application/json; charset=utf-8', async () => {
    const res = await h.postToken(url, s.embedToken, { email: 'charset@example.com', name: 'Zoë Ünïcode' }, { contentType: 'application/json; charset=utf-8' });
    assert.equal(res.status, 200, res.text);
    secrets.add(res.json.access_token);
    assert.equal(h.jwtParts(res.json.access_token).payload.user_name, 'Zoë Ünïcode');
  });

  it('accepts the Authorization header in any case and the "bearer" scheme in lower case', async () => {
    const res = await h.httpRequest(`${url}/api/v1/public/token`, {
      method: 'POST',
      headers: { AUTHORIZATION: `bearer ${s.embedToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'scheme.case@example.com' }),
    });
    assert.equal(res.status, 200, res.text);
    secrets.add(res.json.access_token);
  });

  it('GET /api/v1/me returns the session user', async () => {
    const metadata = { externalUserId: 'me-1', tier: 'gold' };
    const { accessToken, claims } = await issue({ email: 'Me.User@Example.com', name: 'Me User', groupIds: [s.group2.id], metadata });
    const res = await h.me(url, accessToken);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const { data } = res.json;
    assert.ok(data && typeof data === 'object', 'no data object');
    assert.deepEqual(Object.keys(data).sort(), ['expires_at', 'org_id', 'session_id', 'user']);
    assert.equal(data.org_id, s.orgId);
    assert.equal(data.session_id, claims.jti);
    assert.equal(Date.parse(data.expires_at) / 1000, claims.exp);
    const u = data.user;
    for (const k of ['id', 'email', 'name', 'type', 'groups', 'metadata']) assert.ok(k in u, `user.${k} missing`);
    assert.equal(u.id, claims.sub);
    assert.equal(u.email, 'me.user@example.com');
    assert.equal(u.name, 'Me User');
    assert.equal(u.type, 'external');
    assert.deepEqual(u.groups, [{ id: s.group2.id, name: 'Support' }]);
    assert.deepEqual(u.metadata, metadata);
  });

  it('GET /api/v1/me for a platform-user session reports its role', async () => {
    const { accessToken } = await issue({ email: s.userEmail, isSuperblocksUser: true });
    const res = await h.me(url, accessToken);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.user.id, s.user.id);
    assert.equal(res.json.data.user.type, 'superblocks');
    assert.equal(res.json.data.user.role, 'admin');
    assert.deepEqual(res.json.data.user.groups, [{ id: s.group1.id, name: 'Engineering' }]);
  });

  it('records each session in the audit log (session.issued, target = jti) with no secret in it', async () => {
    const { claims, accessToken, res: issued } = await issue({ email: 'audited@example.com', metadata: { k: 'v' } });
    const r = h.cli(env, 'audit', '--org', s.orgId, '--json');
    assert.equal(r.code, 0, r.stderr);
    const events = JSON.parse(r.stdout).data;
    const ev = events.filter((e) => e.action === 'session.issued' && e.target === claims.jti);
    assert.equal(ev.length, 1, `expected one session.issued event for jti ${claims.jti}`);
    assert.equal(ev[0].actor, `token:${s.embedId}`);
    assert.equal(ev[0].detail.email, 'audited@example.com');
    assert.equal(ev[0].client, '127.0.0.1', 'the audit event does not say where the request came from');
    const reqId = issued.headers.get('x-request-id');
    if (reqId) assert.equal(ev[0].request_id, reqId, 'audit request_id differs from the reply X-Request-Id');
    for (const out of [r.stdout, r.stderr, h.cli(env, 'audit', '--org', s.orgId).stdout]) {
      assert.ok(!out.includes(accessToken), 'audit output contains the session JWT');
      assert.ok(!out.includes(accessToken.split('.')[2]), 'audit output contains the JWT signature');
      for (const secret of secrets) assert.ok(!out.includes(secret), `audit output contains a secret (${secret.slice(0, 16)}...)`);
    }
  });

  it('accepts values exactly at the documented limits (64 KiB body, 8 KiB metadata, 200-byte name, 254-char email)', async () => {
    const base = '{"email":"limits@example.com"}';
    const body = base + ' '.repeat(64 * 1024 - base.length);
    assert.equal(Buffer.byteLength(body), 65536);
    const r1 = await h.postToken(url, s.embedToken, body);
    assert.equal(r1.status, 200, `a body of exactly 64 KiB: ${r1.status} ${r1.text}`);
    secrets.add(r1.json.access_token);

    const meta = `{"x":"${'y'.repeat(8192 - 8)}"}`;
    assert.equal(meta.length, 8192);
    const r2 = await h.postToken(url, s.embedToken, `{"email":"limits@example.com","metadata":${meta}}`);
    assert.equal(r2.status, 200, `metadata of exactly 8 KiB: ${r2.status} ${r2.text}`);
    secrets.add(r2.json.access_token);
    assert.ok(h.b64urlDecode(r2.json.access_token.split('.')[1]).toString().includes(meta));

    const r3 = await issue({ email: 'limits@example.com', name: 'n'.repeat(200) });
    assert.equal(r3.claims.user_name.length, 200);

    const email = 'l'.repeat(64) + '@' + ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(57), 'com'].join('.');
    assert.equal(email.length, 254);
    const r4 = await issue({ email });
    assert.equal(r4.claims.user_email, email);
  });

  it("updates the access token's last_used_at (token list) after use", async () => {
    const t = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'usage');
    secrets.add(t.token);
    const row0 = h.cliJson(env, 'token', 'list', '--org', s.orgId).data.find((x) => x.id === t.id);
    assert.equal(row0.last_used_at ?? null, null);
    const used = await h.poll(async () => (await h.postToken(url, t.token, { email: 'usage@example.com' })).status === 200);
    assert.ok(used.ok, 'a new token was not accepted within 1.5 s');
    const seen = await h.poll(() => h.cliJson(env, 'token', 'list', '--org', s.orgId).data.find((x) => x.id === t.id).last_used_at, { timeoutMs: 2000 });
    assert.ok(seen.ok, 'last_used_at still empty 2 s after use');
    assert.ok(Math.abs(Date.parse(seen.value) - Date.now()) < 10000, `last_used_at ${seen.value}`);
  });

  it('never writes an access token or a session token to the server log', async () => {
    // Some successes and some refusals with secrets in them, then the whole log so far.
    const ok = await issue({ email: 'log.check@example.com' });
    const refused = await h.postToken(url, s.embedToken, { email: 'not an email' });
    assert.equal(refused.status, 400);
    const forbidden = await h.postToken(url, s.adminToken, { email: 'log.check@example.com' });
    assert.equal(forbidden.status, 403);
    const meRes = await h.me(url, ok.accessToken);
    assert.equal(meRes.status, 200);
    const bad = await h.me(url, `${ok.accessToken}x`);
    assert.equal(bad.status, 401);
    await h.sleep(300);
    const log = server.logs() + server.stdout();
    assert.ok(secrets.size >= 4);
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `server log contains a secret (${secret.slice(0, 16)}...)`);
      if (secret.startsWith('ey')) assert.ok(!log.includes(secret.split('.')[2]), 'server log contains a JWT signature');
    }
  });
});

describe('platform user in no group', () => {
  // Its own server: if this crashes the server, no other test is affected.
  let env;
  let server;
  let s;

  before(async () => {
    env = h.makeEnv();
    s = h.seed(env);
    h.cliJson(env, 'user', 'add', '--org', s.orgId, 'loner@example.com', '--role', 'end-user', '--name', 'Lone User');
    server = await h.startServer(env);
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  it('isSuperblocksUser for a platform user who is in no group -> 200 with no groups', async () => {
    const res = await h.postToken(server.url, s.embedToken, { email: 'loner@example.com', isSuperblocksUser: true });
    assert.equal(res.status, 200, res.text);
    const claims = h.jwtParts(res.json.access_token).payload;
    assert.equal(claims.user_type, 'superblocks');
    assert.equal(claims.rbac_role, 'end-user');
    assert.equal(claims.user_name, 'Lone User');
    assert.deepEqual(claims.rbac_group_objects, []);
    // With a requested group, that group only.
    const res2 = await h.postToken(server.url, s.embedToken, { email: 'loner@example.com', isSuperblocksUser: true, groupIds: [s.group2.id] });
    assert.equal(res2.status, 200, res2.text);
    assert.deepEqual(h.jwtParts(res2.json.access_token).payload.rbac_group_objects, [{ id: s.group2.id, name: 'Support' }]);
  });
});
