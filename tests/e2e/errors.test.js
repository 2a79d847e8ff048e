'use strict';
// Every error of DESIGN section 4 on POST /api/v1/public/token and
// GET /api/v1/me: status, JSON body {error, error_description},
// WWW-Authenticate on 401, no secret echoed, and nothing recorded.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const jose = require('jose');
const h = require('./harness');

const CODES = { 400: 'invalid_request', 401: 'unauthorized', 403: 'forbidden' };

function header(res, name) {
  if (typeof res.headers.get === 'function') return res.headers.get(name);
  return res.headers[name.toLowerCase()] ?? null;
}

// Checks one error reply. secrets: strings that must not be echoed.
function assertError(res, status, { secrets = [], code } = {}) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(header(res, 'content-type') || '', /^application\/json\b/, 'error reply is not JSON');
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `error body is not a JSON object: ${res.text}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'error_description']);
  assert.equal(typeof res.json.error, 'string');
  assert.ok(res.json.error.length > 0, 'empty error code');
  assert.equal(typeof res.json.error_description, 'string');
  assert.ok(res.json.error_description.trim().length > 0, 'empty error_description');
  const want = code || CODES[status];
  if (want) assert.equal(res.json.error, want);
  if (status === 401) assert.equal(header(res, 'www-authenticate'), 'Bearer error="invalid_token"');
  for (const s of secrets) {
    if (!s) continue;
    assert.ok(!res.text.includes(s), `error reply echoes a secret: ${res.text}`);
  }
  return res.json;
}

describe('error replies', () => {
  let env;
  let server;
  let url;
  let s;
  let other; // a second organization with a group

  before(async () => {
    env = h.makeEnv();
    s = h.seed(env);
    const org2 = h.cliJson(env, 'org', 'create', 'Other Org');
    const g = h.cliJson(env, 'group', 'create', '--org', org2.id, 'Foreign Group');
    other = { org: org2, group: g };
    server = await h.startServer(env);
    url = server.url;
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  const raw = (lines, body = '') =>
    h.rawRequest(url, `POST /api/v1/public/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines.map((l) => `${l}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const post = (body, opts) => h.postToken(url, s.embedToken, body, opts);
  const unknownToken = 'tse_' + 'A'.repeat(20) + 'b-_' + 'c'.repeat(20); // 4 + 43 chars
  const valid = JSON.stringify({ email: 'jane@example.com' });

  // Refused requests that need no setup: [name, () => response, status, extra]
  const staticCases = [
    ['no Authorization header', () => h.postToken(url, null, { email: 'jane@example.com' }), 401],
    ['blank Authorization header ("Authorization: ")', () => raw(['Authorization: ', 'Content-Type: application/json'], valid), 401],
    ['"Authorization: Bearer " with no token', () => raw(['Authorization: Bearer ', 'Content-Type: application/json'], valid), 401],
    ['Basic scheme', () => h.postToken(url, null, { email: 'jane@example.com' }, { headers: { authorization: 'Basic eHl6OnB3' } }), 401],
    ['malformed bearer token ("Bearer abc")', () => h.postToken(url, 'abc', { email: 'jane@example.com' }), 401, { secrets: ['abc'] }],
    ['unknown well-formed token', () => h.postToken(url, unknownToken, { email: 'jane@example.com' }), 401, { secrets: [unknownToken] }],
    ['embed token with a trailing character', () => h.postToken(url, s.embedToken + 'x', { email: 'jane@example.com' }), 401, { secrets: () => [s.embedToken + 'x'] }],
    ['admin-type token', () => h.postToken(url, s.adminToken, { email: 'jane@example.com' }), 403, { secrets: () => [s.adminToken] }],
    ['non-JSON body with a JSON Content-Type', () => post('email=jane@example.com'), 400],
    ['truncated JSON', () => post('{"email":"jane@example.com"'), 400],
    ['trailing garbage after the JSON object', () => post('{"email":"jane@example.com"} x'), 400],
    ['Content-Type text/plain', () => post(valid, { contentType: 'text/plain' }), 415],
    ['Content-Type application/x-www-form-urlencoded', () => post('email=jane%40example.com', { contentType: 'application/x-www-form-urlencoded' }), 415],
    ['Content-Type application/jsonx', () => post(valid, { contentType: 'application/jsonx' }), 415],
    ['no Content-Type', () => post(Buffer.from(valid), { contentType: null }), 415],
    ['empty body', () => post(''), 400],
    ['body is an array', () => post('[{"email":"jane@example.com"}]'), 400],
    ['body is a string', () => post('"jane@example.com"'), 400],
    ['body is null', () => post('null'), 400],
    ['body is a number', () => post('42'), 400],
    ['missing email', () => post({ name: 'Jane' }), 400],
    ['email is a number', () => post({ email: 42 }), 400],
    ['email is an array', () => post({ email: ['jane@example.com'] }), 400],
    ['email is an object', () => post({ email: { address: 'jane@example.com' } }), 400],
    ['email is empty', () => post({ email: '' }), 400],
    ['email without @', () => post({ email: 'jane.example.com' }), 400],
    ['email with two @', () => post({ email: 'jane@wind@example.com' }), 400],
    ['email with a space', () => post({ email: 'jane wind@example.com' }), 400],
    ['email with a quoted local part', () => post({ email: '"jane"@example.com' }), 400],
    ['email with a quoted local part holding @', () => post({ email: '"jane@wind"@example.com' }), 400],
    ['email with non-ASCII characters', () => post({ email: 'jané@example.com' }), 400],
    ['email of 300 characters', () => post({ email: 'a'.repeat(288) + '@example.com' }), 400],
    ['email with no local part', () => post({ email: '@example.com' }), 400],
    ['email with no domain', () => post({ email: 'jane@' }), 400],
    ['email with a newline', () => post({ email: 'jane@example.com\n' }), 400],
    ['name is a number', () => post({ email: 'jane@example.com', name: 42 }), 400],
    ['name is an object', () => post({ email: 'jane@example.com', name: { first: 'Jane' } }), 400],
    ['name with a control character', () => post({ email: 'jane@example.com', name: 'Jane\u0007Wind' }), 400],
    ['groupIds is a string', () => post({ email: 'jane@example.com', groupIds: 'cc07e026-02c7-4ab5-b33b-232d57e7c804' }), 400],
    ['groupIds is an object', () => post({ email: 'jane@example.com', groupIds: { id: 'cc07e026-02c7-4ab5-b33b-232d57e7c804' } }), 400],
    ['groupIds element is a number', () => post({ email: 'jane@example.com', groupIds: [5] }), 400],
    ['groupIds element is an object', () => post({ email: 'jane@example.com', groupIds: [{ id: 'cc07e026-02c7-4ab5-b33b-232d57e7c804' }] }), 400],
    ['groupIds element is not a UUID', () => post({ email: 'jane@example.com', groupIds: ['not-a-uuid'] }), 400],
    ['groupIds element is a UUID with braces', () => post({ email: 'jane@example.com', groupIds: ['{cc07e026-02c7-4ab5-b33b-232d57e7c804}'] }), 400],
    ['groupIds element is one character short of a UUID', () => post({ email: 'jane@example.com', groupIds: ['cc07e026-02c7-4ab5-b33b-232d57e7c80'] }), 400],
    ['metadata is an array', () => post({ email: 'jane@example.com', metadata: [1, 2] }), 400],
    ['metadata is a string', () => post({ email: 'jane@example.com', metadata: '{"a":1}' }), 400],
    ['metadata is a number', () => post({ email: 'jane@example.com', metadata: 5 }), 400],
    ['metadata is a boolean', () => post({ email: 'jane@example.com', metadata: true }), 400],
    ['metadata larger than 8 KiB', () => post({ email: 'jane@example.com', metadata: { blob: 'x'.repeat(9000) } }), 400],
    ['JSON nested 40 deep', () => post(`{"email":"jane@example.com","metadata":${'{"a":'.repeat(39)}1${'}'.repeat(39)}}`), 400],
    ['JSON arrays nested 40 deep', () => post(`{"email":"jane@example.com","metadata":{"a":${'['.repeat(38)}${']'.repeat(38)}}}`), 400],
    ['duplicate top-level key', () => post('{"email":"jane@example.com","email":"evil@example.com"}'), 400],
    ['duplicate key inside metadata', () => post('{"email":"jane@example.com","metadata":{"a":1,"a":2}}'), 400],
    ['isSuperblocksUser is a string', () => post({ email: 'jane@example.com', isSuperblocksUser: 'true' }), 400],
    ['isSuperblocksUser is a number', () => post({ email: 'jane@example.com', isSuperblocksUser: 1 }), 400],
    ['isSuperblocks is a string', () => post({ email: 'jane@example.com', isSuperblocks: 'yes' }), 400],
    ['isSuperblocksUser with an email that is not a platform user', () => post({ email: 'nobody@example.com', isSuperblocksUser: true }), 401],
    ['metadata of 8193 bytes (one over the limit)', () => post(`{"email":"jane@example.com","metadata":{"x":"${'y'.repeat(8193 - 8)}"}}`), 400],
    ['name of 201 bytes', () => post({ email: 'jane@example.com', name: 'n'.repeat(201) }), 400],
    ['email of 255 characters', () => post({ email: 'x' + 'l'.repeat(64) + '@' + ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(57), 'com'].join('.') }), 400],
    ['email local part of 65 characters', () => post({ email: 'l'.repeat(65) + '@example.com' }), 400],
    ['email with consecutive dots', () => post({ email: 'jane..wind@example.com' }), 400],
    ['101 groupIds', () => post({ email: 'jane@example.com', groupIds: Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }), 400],
    ['invalid UTF-8 in the body', () => post(Buffer.from([...Buffer.from('{"email":"jane@example.com","name":"'), 0xff, 0xfe, ...Buffer.from('"}')])), 400],
  ];

  const resolveSecrets = (extra) => {
    const list = typeof extra?.secrets === 'function' ? extra.secrets() : extra?.secrets || [];
    return [s.embedToken, ...list];
  };

  for (const [name, send, status, extra] of staticCases) {
    it(`token endpoint: ${name} -> ${status}`, async () => {
      const res = await send();
      assertError(res, status, { secrets: resolveSecrets(extra) });
    });
  }

  it('token endpoint: every unknown groupId is named in the description', async () => {
    const u1 = h.randomUuid();
    const u2 = h.randomUuid();
    const res = await post({ email: 'jane@example.com', groupIds: [s.group1.id, u1, u2] });
    const body = assertError(res, 400, { secrets: [s.embedToken] });
    assert.ok(body.error_description.includes(u1), `description does not name ${u1}: ${body.error_description}`);
    assert.ok(body.error_description.includes(u2), `description does not name ${u2}: ${body.error_description}`);
  });

  it("token endpoint: a group of another organization is refused and named", async () => {
    const res = await post({ email: 'jane@example.com', groupIds: [s.group1.id, other.group.id] });
    const body = assertError(res, 400, { secrets: [s.embedToken] });
    assert.ok(body.error_description.includes(other.group.id), `description does not name ${other.group.id}: ${body.error_description}`);
    assert.ok(!body.error_description.includes('Foreign Group'), 'description leaks the other org\'s group name');
  });

  it("token endpoint: isSuperblocksUser with a platform user of another organization -> 401", async () => {
    h.cliJson(env, 'user', 'add', '--org', other.org.id, 'foreign.admin@example.com', '--role', 'admin');
    // Give the server time to learn about the user, so that a 401 is not just "not loaded yet".
    await h.sleep(1200);
    const res = await post({ email: 'foreign.admin@example.com', isSuperblocksUser: true });
    assertError(res, 401, { secrets: [s.embedToken] });
  });

  it('token endpoint: subject_token -> 400 "token exchange is not configured for this organization"', async () => {
    const res = await post({
      email: 'jane@example.com',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token: 'external-idp-token-value',
    });
    const body = assertError(res, 400, { secrets: [s.embedToken, 'external-idp-token-value'] });
    assert.equal(body.error_description, 'token exchange is not configured for this organization');
  });

  it('token endpoint: a body of 64 KiB + 1 byte -> 413', async () => {
    const base = '{"email":"jane@example.com"}';
    const res = await post(base + ' '.repeat(64 * 1024 + 1 - base.length));
    assertError(res, 413, { secrets: [s.embedToken] });
  });

  it('token endpoint: body over 64 KiB with Content-Length -> 413', async () => {
    const body = JSON.stringify({ email: 'jane@example.com', metadata: { blob: 'x'.repeat(70 * 1024) } });
    const res = await raw([`Authorization: Bearer ${s.embedToken}`, 'Content-Type: application/json'], body);
    assertError(res, 413, { secrets: [s.embedToken] });
  });

  it('token endpoint: body over 64 KiB with chunked transfer encoding -> 413', async () => {
    const chunk = 'x'.repeat(8192);
    const pieces = [`POST /api/v1/public/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${s.embedToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`];
    const first = '{"email":"jane@example.com","metadata":{"blob":"';
    pieces.push(`${first.length.toString(16)}\r\n${first}\r\n`);
    for (let i = 0; i < 9; i++) pieces.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    pieces.push('3\r\n"}}\r\n0\r\n\r\n');
    const res = await h.rawRequest(url, pieces);
    assertError(res, 413, { secrets: [s.embedToken] });
  });

  // libmicrohttpd answers a broken chunk framing itself, before Tessera sees
  // the request, so the body is its own (docs/API.md, Limits): status only.
  it('malformed chunked encoding -> 400 and no token', async () => {
    const res = await h.rawRequest(url, [
      `POST /api/v1/public/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${s.embedToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      'zz\r\n{"email":"jane@example.com"}\r\n0\r\n\r\n',
    ]);
    assert.equal(res.status, 400);
    assert.ok(!res.text.includes('access_token'), 'a token was issued');
    assert.ok(!res.text.includes(s.embedToken), 'the access token was echoed');
  });

  it('token endpoint: GET -> 405 with an Allow header naming POST', async () => {
    const res = await h.httpRequest(`${url}/api/v1/public/token`, { headers: { authorization: `Bearer ${s.embedToken}` } });
    assertError(res, 405, { secrets: [s.embedToken] });
    const allow = res.headers.get('allow');
    assert.ok(allow, 'no Allow header');
    assert.ok(allow.split(',').map((m) => m.trim()).includes('POST'), `Allow: ${allow}`);
  });

  it('token endpoint: PUT and DELETE -> 405', async () => {
    for (const method of ['PUT', 'DELETE']) {
      const res = await h.httpRequest(`${url}/api/v1/public/token`, { method, headers: { 'content-type': 'application/json' }, body: method === 'PUT' ? valid : undefined });
      assertError(res, 405);
      assert.match(res.headers.get('allow') || '', /POST/);
    }
  });

  it('unknown path -> 404 JSON', async () => {
    for (const path of ['/api/v1/public/tokens', '/api/v1/public/token/extra', '/nope', '/api/v2/public/token']) {
      const res = await h.httpRequest(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: valid });
      assertError(res, 404);
    }
  });

  it('token endpoint: an expired access token -> 401', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 3;
    const iso = new Date(expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const t = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'short-lived', '--expires-at', iso);
    assert.equal(Date.parse(t.expires_at) / 1000, expiresAt);
    // It works while it is valid (the server picks it up within a second)...
    const works = await h.poll(async () => (await h.postToken(url, t.token, { email: 'jane@example.com' })).status === 200, { timeoutMs: 1500 });
    // ...and is refused once its expiry has passed.
    const wait = expiresAt * 1000 + 100 - Date.now();
    assert.ok(wait <= 3100, `wait of ${wait} ms`);
    if (wait > 0) await h.sleep(wait);
    const res = await h.postToken(url, t.token, { email: 'jane@example.com' });
    const body = assertError(res, 401, { secrets: [t.token] });
    assert.match(body.error_description, /expire/i);
    assert.ok(works.ok, 'the token never worked before it expired');
  });

  it('token endpoint: a revoked access token -> 401', async () => {
    const t = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'to-revoke');
    const works = await h.poll(async () => (await h.postToken(url, t.token, { email: 'jane@example.com' })).status === 200);
    assert.ok(works.ok, 'a new token was not accepted within 1.5 s');
    h.cliJson(env, 'token', 'revoke', '--org', s.orgId, t.id);
    const refused = await h.poll(async () => {
      const r = await h.postToken(url, t.token, { email: 'jane@example.com' });
      return r.status === 401 ? r : null;
    });
    assert.ok(refused.ok, 'a revoked token was still accepted after 1.5 s');
    const body = assertError(refused.value, 401, { secrets: [t.token] });
    assert.match(body.error_description, /revoked/i);
  });

  it('a refused request writes nothing but, once its access token is valid, the audit of the refusal', async () => {
    const beforeEvents = h.auditEvents(env, s.orgId);
    const beforeOther = h.auditEvents(env, other.org.id);
    for (const [name, send, status] of staticCases) {
      const res = await send();
      assert.equal(res.status, status, `${name}: ${res.status} ${res.text}`);
    }
    // Also the cases that need the other org's group or an unknown id.
    assert.equal((await post({ email: 'jane@example.com', groupIds: [other.group.id] })).status, 400);
    assert.equal((await post({ email: 'jane@example.com', subject_token: 'x' })).status, 400);
    const base = '{"email":"jane@example.com"}';
    assert.equal((await post(base + ' '.repeat(64 * 1024 + 1 - base.length))).status, 413);
    assert.equal((await h.httpRequest(`${url}/api/v1/public/token`, { headers: { authorization: `Bearer ${s.embedToken}` } })).status, 405);
    assert.equal((await h.httpRequest(`${url}/api/v1/public/tokens`, { method: 'POST', headers: { authorization: `Bearer ${s.embedToken}`, 'content-type': 'application/json' }, body: valid })).status, 404);
    await h.sleep(300); // let any (wrong) asynchronous write land
    const afterEvents = h.auditEvents(env, s.orgId);
    const afterOther = h.auditEvents(env, other.org.id);
    const extra = afterEvents.filter((e) => !beforeEvents.some((b) => b.id === e.id));
    assert.deepEqual(extra.filter((e) => e.action !== 'session.denied').map((e) => e.action), [], 'refused requests wrote something else than session.denied');
    for (const e of extra) assert.match(e.detail.reason, /^[a-z_]+$/, `session.denied without a reason code: ${JSON.stringify(e)}`);
    assert.ok(extra.length >= 2, `the refusals with a valid access token are not audited (${extra.length})`);
    assert.equal(afterOther.length, beforeOther.length, "a refusal wrote in another org's audit log");
  });

  // ---- GET /api/v1/me ----

  describe('GET /api/v1/me', () => {
    let good; // a valid session
    let jwks;

    before(async () => {
      good = await h.issue(url, s.embedToken, { email: 'me.errors@example.com', name: 'Me Errors', metadata: { a: 1 } });
      jwks = (await h.httpRequest(`${url}/.well-known/jwks.json`)).json;
    });

    const meRaw = (authLine) =>
      h.rawRequest(url, `GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${authLine ? `${authLine}\r\n` : ''}\r\n`);

    it('a valid session token -> 200 (control)', async () => {
      const res = await h.me(url, good.accessToken);
      assert.equal(res.status, 200, res.text);
    });

    it('no Authorization header -> 401', async () => {
      assertError(await h.me(url, null), 401);
    });

    it('blank Authorization and "Bearer " -> 401', async () => {
      assertError(await meRaw('Authorization: '), 401);
      assertError(await meRaw('Authorization: Bearer '), 401);
    });

    it('Basic scheme -> 401', async () => {
      const res = await h.httpRequest(`${url}/api/v1/me`, { headers: { authorization: 'Basic eHl6OnB3' } });
      assertError(res, 401);
    });

    it('garbage token -> 401', async () => {
      for (const t of ['garbage', 'a.b.c', '...', good.accessToken.split('.').slice(0, 2).join('.'), `${good.accessToken}.x`]) {
        assertError(await h.me(url, t), 401, { secrets: [t.length > 8 ? t : null, good.accessToken] });
      }
    });

    it('an access token (not a session token) -> 401', async () => {
      assertError(await h.me(url, s.embedToken), 401, { secrets: [s.embedToken] });
    });

    it("token signed by another key with the server's kid -> 401", async () => {
      const kid = good.header.kid;
      assert.ok(jwks.keys.some((k) => k.kid === kid));
      const { privateKey } = await jose.generateKeyPair('ES256');
      const forged = await new jose.SignJWT(good.claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(privateKey);
      assertError(await h.me(url, forged), 401, { secrets: [forged] });
    });

    it('alg "none" token -> 401', async () => {
      const segs = good.accessToken.split('.');
      for (const alg of ['none', 'None', 'NONE']) {
        const hdr = h.b64urlEncode(JSON.stringify({ alg, kid: good.header.kid, typ: 'JWT' }));
        assertError(await h.me(url, `${hdr}.${segs[1]}.`), 401);
        assertError(await h.me(url, `${hdr}.${segs[1]}.${segs[2]}`), 401);
      }
    });

    it('HS256 token keyed with the public key (algorithm confusion) -> 401', async () => {
      const jwk = jwks.keys.find((k) => k.kid === good.header.kid);
      const spki = await jose.exportSPKI(await jose.importJWK(jwk, 'ES256'));
      for (const secret of [spki, JSON.stringify(jwk), jwk.x]) {
        const t = await new jose.SignJWT(good.claims).setProtectedHeader({ alg: 'HS256', kid: good.header.kid, typ: 'JWT' }).sign(Buffer.from(secret));
        assertError(await h.me(url, t), 401);
      }
    });

    it('tampered payload -> 401', async () => {
      const segs = good.accessToken.split('.');
      const variants = [
        { ...good.claims, user_email: 'evil@example.com' },
        { ...good.claims, exp: good.claims.exp + 3600 },
        { ...good.claims, metadata: { a: 2 } },
      ];
      for (const claims of variants) {
        const t = `${segs[0]}.${h.b64urlEncode(JSON.stringify(claims))}.${segs[2]}`;
        assertError(await h.me(url, t), 401);
      }
      // A flipped bit in the signature.
      const sig = Buffer.from(segs[2], 'base64url');
      sig[10] ^= 1;
      assertError(await h.me(url, `${segs[0]}.${segs[1]}.${sig.toString('base64url')}`), 401);
    });

    it('token with an unknown kid -> 401', async () => {
      const { privateKey } = await jose.generateKeyPair('ES256');
      const t = await new jose.SignJWT(good.claims).setProtectedHeader({ alg: 'ES256', kid: 'no-such-kid', typ: 'JWT' }).sign(privateKey);
      assertError(await h.me(url, t), 401);
    });

    it('session of a revoked access token -> 401 mentioning revocation', async () => {
      const t = h.cliJson(env, 'token', 'create', '--org', s.orgId, '--name', 'me-revoke');
      const got = await h.poll(async () => {
        const r = await h.postToken(url, t.token, { email: 'me.revoked@example.com' });
        return r.status === 200 ? r.json.access_token : null;
      });
      assert.ok(got.ok, 'a new token was not accepted within 1.5 s');
      const session = got.value;
      assert.equal((await h.me(url, session)).status, 200);
      h.cliJson(env, 'token', 'revoke', '--org', s.orgId, t.id);
      const refused = await h.poll(async () => {
        const r = await h.me(url, session);
        return r.status === 401 ? r : null;
      });
      assert.ok(refused.ok, 'the session still worked 1.5 s after its access token was revoked');
      const body = assertError(refused.value, 401, { secrets: [session, t.token] });
      assert.match(body.error_description, /revoked/i);
    });

    it('POST /api/v1/me -> 405 with Allow: GET', async () => {
      const res = await h.httpRequest(`${url}/api/v1/me`, { method: 'POST', headers: { authorization: `Bearer ${good.accessToken}` } });
      assertError(res, 405, { secrets: [good.accessToken] });
      assert.match(res.headers.get('allow') || '', /GET/);
    });
  });
});
