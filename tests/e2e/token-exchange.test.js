'use strict';
// Token exchange on POST /api/v1/public/token: a subject_token from the host's identity
// provider (a real local IdP with real keys, tests/e2e/idp.js) is verified against the
// provider's JWKS before Tessera issues a session, and kept server-side, sealed.
// Providers are configured with the CLI and the admin API.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const { startIdp, TOKEN_TYPE_ACCESS, TOKEN_TYPE_ID, TOKEN_TYPE_JWT, DEFAULTS } = require('./idp');

const AUD = DEFAULTS.audience;
const EMAIL = DEFAULTS.email;
const now = () => Math.floor(Date.now() / 1000);

describe('token exchange: subject_token verified against trusted identity providers', { timeout: 120000 }, () => {
  let env;
  let server;
  let url;
  let A; // org A: trusts `idp` (by JWKS URI) and `inlineIdp` (inline JWKS)
  let B; // org B: trusts `idpB`
  let C; // org C: trusts nobody
  let idp;
  let idpB;
  let inlineIdp;
  let psKid;
  const secrets = new Set();

  const exchange = (subject, extra = {}, token = A.embedToken) => {
    if (typeof subject === 'string') secrets.add(subject);
    return h.postToken(url, token, { email: EMAIL, name: 'Ada Lovelace', subject_token: subject, subject_token_type: TOKEN_TYPE_ACCESS, ...extra });
  };

  // A refusal: the status, a JSON error naming the check, no token echoed, nothing written but the
  // audit of the refusal (session.denied, written without delaying the reply).
  const written = (org) => h.auditEvents(env, org.orgId).filter((e) => e.action !== 'session.denied').length;
  async function refused(subject, status, descriptionRe, extra = {}, token = A.embedToken, org = A) {
    const before = written(org);
    const r = await exchange(subject, extra, token);
    assert.equal(r.status, status, `expected ${status}: ${r.status} ${r.text}`);
    assert.ok(r.json && typeof r.json.error === 'string' && typeof r.json.error_description === 'string', `not a JSON error: ${r.text}`);
    assert.match(r.json.error_description, descriptionRe);
    if (typeof subject === 'string') {
      for (const part of subject.split('.').filter((p) => p.length > 8)) assert.ok(!r.text.includes(part), 'the error echoes part of the subject token');
    }
    assert.equal(written(org), before, 'a refused exchange wrote something else than its session.denied audit event');
    return r;
  }

  const cliIdpAdd = (org, args) => h.cliJson(env, 'idp', 'add', '--org', org, ...args);

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Exchange A' });
    B = h.seed(env, { orgName: 'Exchange B', userEmail: 'b.admin@b.example' });
    C = h.seed(env, { orgName: 'Exchange C', userEmail: 'c.admin@c.example' });
    for (const o of [A, B, C]) {
      secrets.add(o.embedToken);
      secrets.add(o.adminToken);
    }
    idp = await startIdp({ issuerPath: '/oauth2/default' });
    psKid = idp.addKey('RSA', { alg: 'PS256' }); // published before Tessera's first fetch
    idpB = await startIdp();
    inlineIdp = await startIdp();
    const added = cliIdpAdd(A.orgId, ['--issuer', idp.issuer, '--jwks-uri', idp.jwksUri, '--audience', AUD, '--name', 'Okta (test)']);
    assert.match(added.id, h.UUID_RE);
    assert.equal(added.issuer, idp.issuer);
    assert.deepEqual(added.algorithms, ['RS256', 'PS256', 'ES256']);
    assert.equal(added.email_claim, 'email');
    cliIdpAdd(B.orgId, ['--issuer', idpB.issuer, '--jwks-uri', idpB.jwksUri, '--audience', AUD]);
    const jwksFile = path.join(env.dir, 'inline-jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify(inlineIdp.jwks()));
    const inl = cliIdpAdd(A.orgId, ['--issuer', inlineIdp.issuer, '--jwks-file', jwksFile, '--audience', AUD, '--algorithms', 'ES256']);
    assert.equal(inl.jwks_uri, null);
    assert.deepEqual(inl.algorithms, ['ES256']);
    server = await h.startServer(env);
    url = server.url;
  });

  after(async () => {
    try {
      if (server) {
        await server.stop();
        const log = server.logs() + server.stdout();
        for (const secret of secrets) {
          for (const part of secret.split('.').filter((p) => p.length > 8)) assert.ok(!log.includes(part), 'the server log contains a subject token or access token');
        }
      }
    } finally {
      if (server) await server.kill();
      for (const x of [idp, idpB, inlineIdp]) if (x) await x.close();
      if (env) env.cleanup();
    }
  });

  it('a valid RS256 access token yields a session for that user; the JWT carries no trace of the subject token', async () => {
    const subject = idp.mint({ email: EMAIL });
    const r = await exchange(subject);
    assert.equal(r.status, 200, r.text);
    secrets.add(r.json.access_token);
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'token_type']);
    const { payload } = h.jwtParts(r.json.access_token);
    assert.equal(payload.user_email, EMAIL);
    assert.equal(payload.user_name, 'Ada Lovelace');
    assert.equal(payload.org_id, A.orgId);
    const text = Buffer.from(r.json.access_token.split('.')[1], 'base64url').toString();
    for (const part of subject.split('.')) assert.ok(!text.includes(part.slice(0, 20)), 'the session JWT contains part of the subject token');
    const me = await h.me(url, r.json.access_token);
    assert.equal(me.status, 200, me.text);
    // The issuance is audited with the provider that vouched.
    const ev = h.auditEvents(env, A.orgId).filter((e) => e.action === 'session.issued').pop();
    assert.ok(ev, 'no session.issued audit event');
    assert.equal(JSON.stringify(ev).includes(subject.split('.')[2]), false, 'the audit event holds the subject token');
    assert.match(JSON.stringify(ev.detail || ev), /idp_id/, `the audit event does not name the provider: ${JSON.stringify(ev)}`);
  });

  it('the subject token is kept encrypted at rest: its text is nowhere in the database files', async () => {
    const subject = idp.mint({ email: EMAIL, sub: 'at-rest-check' });
    const r = await exchange(subject);
    assert.equal(r.status, 200, r.text);
    const [, payloadPart, sigPart] = subject.split('.');
    const files = fs.readdirSync(env.dir).filter((f) => f.startsWith('tessera.db')).map((f) => path.join(env.dir, f));
    assert.ok(files.length >= 1);
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      assert.ok(!bytes.includes(Buffer.from(sigPart)), `${path.basename(f)} holds the subject token's signature in clear`);
      assert.ok(!bytes.includes(Buffer.from(payloadPart.slice(0, 40))), `${path.basename(f)} holds the subject token's payload in clear`);
    }
  });

  it('ES256 and PS256 tokens, id_token and jwt types, and a differently-cased email are accepted', async () => {
    const cases = [
      [idp.mint({ email: EMAIL }, { alg: 'ES256', kid: 'ec-1' }), {}],
      [idp.mint({ email: EMAIL }, { alg: 'PS256', kid: psKid }), {}],
      [idp.mint({ email: EMAIL }), { subject_token_type: TOKEN_TYPE_ID }],
      [idp.mint({ email: EMAIL }), { subject_token_type: TOKEN_TYPE_JWT }],
      [idp.mint({ email: EMAIL }), { email: 'Ada.Lovelace@HOST.example' }],
      [idp.mint({ email: EMAIL, aud: ['other', AUD] }), {}],
      [idp.mint({ email: EMAIL, exp: now() - 30 }), {}], // within the 60 s skew
    ];
    for (const [subject, extra] of cases) {
      const r = await exchange(subject, extra);
      assert.equal(r.status, 200, `${JSON.stringify(extra)} ${h.jwtParts(subject).header.alg}: ${r.status} ${r.text}`);
    }
  });

  it('the JWKS is fetched once and then served from the cache', async () => {
    const fetched = idp.jwksFetches;
    assert.ok(fetched >= 1);
    for (let i = 0; i < 5; i++) assert.equal((await exchange(idp.mint({ email: EMAIL }))).status, 200);
    assert.equal(idp.jwksFetches, fetched, 'the JWKS was fetched again within its max-age');
  });

  it('an inline JWKS verifies without any fetch, and only with its configured algorithms', async () => {
    assert.equal((await exchange(inlineIdp.mint({ email: EMAIL }, { alg: 'ES256', kid: 'ec-1' }))).status, 200);
    await refused(inlineIdp.mint({ email: EMAIL }, { alg: 'RS256', kid: 'rsa-1' }), 401, /algorithm|key/i);
    assert.equal(inlineIdp.jwksFetches, 0, 'an inline JWKS was fetched over HTTP');
  });

  describe('each failed check is a 401 naming the check (or 400 for a malformed request)', () => {
    const cases = [
      ['wrong issuer', () => idp.mint({ email: EMAIL, iss: 'https://evil.example/oauth2/default' }), 401, /issuer/],
      ['issuer with a trailing slash (exact match)', () => idp.mint({ email: EMAIL, iss: `${idp.issuer}/` }), 401, /issuer/],
      ['wrong audience', () => idp.mint({ email: EMAIL, aud: 'api://someone-else' }), 401, /audience/],
      ['no audience', () => idp.mint({ email: EMAIL, aud: undefined }), 401, /audience/],
      ['expired', () => idp.mint({ email: EMAIL, exp: now() - 120 }), 401, /expired/],
      ['no exp', () => idp.mint({ email: EMAIL, exp: undefined }), 401, /exp/],
      ['not yet valid', () => idp.mint({ email: EMAIL, nbf: now() + 300 }), 401, /not valid yet|nbf/],
      ['issued in the future', () => idp.mint({ email: EMAIL, iat: now() + 300 }), 401, /iat|future/],
      ['alg none (empty signature)', () => idp.mint({ email: EMAIL }, { alg: 'none' }), 401, /algorithm|none|malformed/i],
      ['alg none with a signature', () => idp.mint({ email: EMAIL }, { alg: 'none', header: { alg: 'none' }, signWith: 'rsa-1' }), 401, /algorithm|none|malformed/i],
      ['HS256 keyed with the provider public key', () => idp.mint({ email: EMAIL }, { alg: 'HS256', hmacKey: idp.publicKeyPem('rsa-1') }), 401, /algorithm HS256/],
      ['jku header', () => idp.mint({ email: EMAIL }, { header: { jku: 'http://127.0.0.1:9/jwks' } }), 401, /jku/],
      ['embedded jwk header', () => idp.mint({ email: EMAIL }, { header: { jwk: idp.jwks().keys[0] } }), 401, /jwk/],
      ['tampered payload', () => idp.mint({ email: EMAIL }, { tamper: true }), 401, /signature/],
      ['signature stripped', () => idp.mint({ email: EMAIL }, { stripSignature: true }), 401, /signature|malformed/],
      ['signed by a key of another provider', () => idpB.mint({ email: EMAIL, iss: idp.issuer }), 401, /signature|key/],
      ['email mismatch', () => idp.mint({ email: 'mallory@host.example' }), 401, /email/],
      ['no email claim', () => idp.mint({ email: undefined }), 401, /email/],
      ['email_verified false', () => idp.mint({ email: EMAIL, email_verified: false }), 401, /email_verified/],
      ['not a JWT at all', () => 'opaque-access-token-value', 401, /JWT|JWS/],
    ];
    for (const [name, make, status, re] of cases) {
      it(name, async () => {
        await refused(make(), status, re);
      });
    }

    it('a wrong or missing subject_token_type: 400', async () => {
      const subject = idp.mint({ email: EMAIL });
      await refused(subject, 400, /subject_token_type must be/, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' });
      await refused(subject, 400, /subject_token_type is required/, { subject_token_type: undefined });
    });

    it("a token from another org's provider: 401 here, 200 with that org's access token", async () => {
      const subject = idpB.mint({ email: EMAIL });
      await refused(subject, 401, /not a trusted identity provider/);
      assert.equal((await exchange(subject, {}, B.embedToken)).status, 200);
    });

    it('an org that trusts no provider: 400 "token exchange is not configured for this organization"', async () => {
      const r = await refused(idp.mint({ email: EMAIL }), 400, /^token exchange is not configured for this organization$/, {}, C.embedToken, C);
      assert.equal(r.json.error, 'invalid_request');
    });
  });

  it('an unknown kid refetches the JWKS at most once a minute, and is refused', async () => {
    const hidden = idp.addKey('RSA', { publish: false });
    const fetched = idp.jwksFetches;
    for (let i = 0; i < 4; i++) await refused(idp.mint({ email: EMAIL }, { kid: hidden, signWith: hidden }), 401, /key|kid/);
    assert.ok(idp.jwksFetches - fetched <= 1, `the JWKS was fetched ${idp.jwksFetches - fetched} times for an unknown kid within a minute`);
  });

  it('a JWKS endpoint that is down: 503 with a clear message (not a 500); it recovers once the endpoint does', async () => {
    const down = await startIdp();
    try {
      h.cliJson(env, 'idp', 'add', '--org', A.orgId, '--issuer', down.issuer, '--jwks-uri', down.jwksUri, '--audience', AUD);
      const subject = down.mint({ email: EMAIL });
      for (const mode of ['503', 'close']) {
        down.setJwksDown(mode);
        const r = await h.poll(async () => {
          const x = await exchange(subject);
          return x.status === 503 ? x : null;
        }, { timeoutMs: 5000, intervalMs: 250 });
        assert.ok(r.ok, `JWKS ${mode}: no 503`);
        assert.equal(r.value.json.error, 'temporarily_unavailable');
        assert.match(r.value.json.error_description, /JWKS/);
        await new Promise((res) => setTimeout(res, 2100)); // past the retry pause
      }
      down.setJwksBody('{"keys": "not a list"}');
      down.setJwksDown(null);
      const bad = await h.poll(async () => {
        const x = await exchange(subject);
        return x.status === 503 && /not usable/.test(x.text) ? x : null;
      }, { timeoutMs: 5000, intervalMs: 250 });
      assert.ok(bad.ok, 'a malformed JWKS is not reported as unusable (503)');
      down.setJwksBody(null);
      const ok = await h.poll(async () => ((await exchange(subject)).status === 200 ? true : null), { timeoutMs: 5000, intervalMs: 250 });
      assert.ok(ok.ok, 'the exchange does not recover once the JWKS endpoint is back');
    } finally {
      await down.close();
    }
  });
});

describe('identity providers in the admin API', { timeout: 60000 }, () => {
  let env;
  let server;
  let url;
  let A;
  let B;
  let idp;

  const api = (org, token, method, p, body) =>
    h.httpRequest(`${url}/api/v1/organizations/${org}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'IdP API A' });
    B = h.seed(env, { orgName: 'IdP API B', userEmail: 'b@b.example' });
    idp = await startIdp();
    server = await h.startServer(env);
    url = server.url;
  });

  after(async () => {
    if (server) await server.kill();
    if (idp) await idp.close();
    if (env) env.cleanup();
  });

  it('create, list, get, patch, delete; the change is in effect at once', async () => {
    const subject = idp.mint({ email: EMAIL });
    const body = { email: EMAIL, subject_token: subject, subject_token_type: TOKEN_TYPE_ACCESS };
    assert.equal((await h.postToken(url, A.embedToken, body)).status, 400, 'before: not configured');

    const created = await api(A.orgId, A.adminToken, 'POST', '/idps', { name: 'Auth0', issuer: idp.issuer, jwks_uri: idp.jwksUri, audience: AUD, algorithms: ['RS256'] });
    assert.equal(created.status, 201, created.text);
    const p = created.json.data;
    assert.deepEqual(Object.keys(p).sort(), ['algorithms', 'audience', 'created_at', 'email_claim', 'id', 'issuer', 'jwks', 'jwks_uri', 'name']);
    assert.deepEqual(p.algorithms, ['RS256']);
    assert.equal(p.jwks, null);
    assert.equal((await h.postToken(url, A.embedToken, body)).status, 200, 'right after the create');

    const list = await api(A.orgId, A.adminToken, 'GET', '/idps');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.data.map((x) => x.id), [p.id]);
    assert.deepEqual((await api(B.orgId, B.adminToken, 'GET', '/idps')).json.data, [], "org B sees org A's provider");
    assert.equal((await api(B.orgId, B.adminToken, 'GET', `/idps/${p.id}`)).status, 404);
    assert.equal((await api(B.orgId, B.adminToken, 'PATCH', `/idps/${p.id}`, { audience: 'x' })).status, 404);
    assert.equal((await api(B.orgId, B.adminToken, 'DELETE', `/idps/${p.id}`)).status, 404);
    assert.equal((await api(A.orgId, B.adminToken, 'GET', '/idps')).status, 404);

    const patched = await api(A.orgId, A.adminToken, 'PATCH', `/idps/${p.id}`, { audience: 'api://changed' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.data.audience, 'api://changed');
    assert.equal(patched.json.data.issuer, idp.issuer, 'PATCH changed a field it was not given');
    const r = await h.postToken(url, A.embedToken, body);
    assert.equal(r.status, 401, 'the old audience is still accepted after the PATCH');
    assert.match(r.json.error_description, /audience/);

    assert.deepEqual((await api(A.orgId, A.adminToken, 'DELETE', `/idps/${p.id}`)).json.data, { id: p.id, removed: true });
    assert.equal((await h.postToken(url, A.embedToken, body)).status, 400, 'after the delete: not configured');
    assert.equal((await api(A.orgId, A.adminToken, 'GET', `/idps/${p.id}`)).status, 404);
    const actions = h.auditEvents(env, A.orgId).map((e) => e.action);
    for (const a of ['idp.added', 'idp.updated', 'idp.removed']) assert.ok(actions.includes(a), `no ${a} audit event`);
  });

  it('bad input is a 400 naming the field, and writes nothing', async () => {
    const bad = [
      [{ jwks_uri: idp.jwksUri }, /issuer is required/],
      [{ issuer: idp.issuer }, /jwks_uri/],
      [{ issuer: 'http://idp.example.com', jwks_uri: idp.jwksUri }, /issuer must be an https/],
      [{ issuer: idp.issuer, jwks_uri: 'ftp://127.0.0.1/keys' }, /jwks_uri must be an https/],
      [{ issuer: idp.issuer, jwks_uri: 'http://10.0.0.1/keys' }, /jwks_uri must be an https/],
      [{ issuer: idp.issuer, jwks_uri: idp.jwksUri, jwks: idp.jwks() }, /not both/],
      [{ issuer: idp.issuer, jwks: { keys: [] } }, /jwks/],
      [{ issuer: idp.issuer, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /jwks/],
      [{ issuer: idp.issuer, jwks_uri: idp.jwksUri, algorithms: ['HS256'] }, /algorithms/],
      [{ issuer: idp.issuer, jwks_uri: idp.jwksUri, algorithms: [] }, /algorithms/],
      [{ issuer: idp.issuer, jwks_uri: idp.jwksUri, email_claim: 'em ail' }, /email_claim/],
      [{ issuer: 5, jwks_uri: idp.jwksUri }, /issuer must be a string/],
    ];
    for (const [body, re] of bad) {
      const r = await api(A.orgId, A.adminToken, 'POST', '/idps', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${r.text}`);
      assert.match(r.json.error_description, re, JSON.stringify(body));
    }
    assert.deepEqual((await api(A.orgId, A.adminToken, 'GET', '/idps')).json.data, []);
    // One org trusts an issuer once.
    const ok = await api(A.orgId, A.adminToken, 'POST', '/idps', { issuer: idp.issuer, jwks_uri: idp.jwksUri });
    assert.equal(ok.status, 201, ok.text);
    const dup = await api(A.orgId, A.adminToken, 'POST', '/idps', { issuer: idp.issuer, jwks_uri: idp.jwksUri });
    assert.equal(dup.status, 409, dup.text);
    assert.equal((await api(B.orgId, B.adminToken, 'POST', '/idps', { issuer: idp.issuer, jwks_uri: idp.jwksUri })).status, 201, 'another org may trust the same issuer');
  });

  it('an Embed access token gets 403 on the provider routes', async () => {
    assert.equal((await api(A.orgId, A.embedToken, 'GET', '/idps')).status, 403);
    assert.equal((await api(A.orgId, A.embedToken, 'POST', '/idps', { issuer: 'https://x.example', jwks_uri: 'https://x.example/k' })).status, 403);
  });
});

describe('integrations: apps call host APIs on the user\'s behalf (RFC 8693 exchange + forward)', { timeout: 120000 }, () => {
  let env;
  let server;
  let url;
  let A;
  let B;
  let idp;
  let api; // the host's backend API
  let integration; // base URL with a path: <api>/v1
  let plain; // base URL without one, for the backend's special routes (/status, /redirect, /big, /slow)
  const { startBackend } = require('./idp');

  const admin = (org, token, method, p, body) =>
    h.httpRequest(`${url}/api/v1/organizations/${org}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  // A session bought with a subject token for `email` (a fresh user: the exchange cache is per user).
  const sessionFor = async (email, org = A) => {
    const subject = idp.mint({ email });
    const r = await h.postToken(url, org.embedToken, { email, subject_token: subject, subject_token_type: TOKEN_TYPE_ACCESS });
    assert.equal(r.status, 200, `session for ${email}: ${r.status} ${r.text}`);
    return { session: r.json.access_token, subject };
  };
  const call = (session, p, { method = 'GET', body, headers = {}, id = integration.id } = {}) =>
    h.httpRequest(`${url}/api/v1/integrations/${id}/proxy${p}`, {
      method,
      headers: { ...(session ? { authorization: `Bearer ${session}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });

  before(async () => {
    env = h.makeEnv();
    A = h.seed(env, { orgName: 'Calls A' });
    B = h.seed(env, { orgName: 'Calls B', userEmail: 'b@b.example' });
    idp = await startIdp();
    api = await startBackend(idp);
    for (const o of [A, B]) h.cliJson(env, 'idp', 'add', '--org', o.orgId, '--issuer', idp.issuer, '--jwks-uri', idp.jwksUri, '--audience', AUD);
    server = await h.startServer(env);
    url = server.url;
    const r = await admin(A.orgId, A.adminToken, 'POST', '/integrations', { name: 'Orders API', base_url: `${api.url}/v1/`, token_url: idp.tokenUrl, client_id: 'tessera-client', client_secret: 'tessera-secret', audience: api.audience, scope: 'orders:read' });
    assert.equal(r.status, 201, r.text);
    integration = r.json.data;
    const r2 = await admin(A.orgId, A.adminToken, 'POST', '/integrations', { name: 'Orders API (root)', base_url: api.url, token_url: idp.tokenUrl, client_id: 'tessera-client', client_secret: 'tessera-secret', audience: api.audience });
    assert.equal(r2.status, 201, r2.text);
    plain = r2.json.data;
  });

  after(async () => {
    try {
      if (server) {
        await server.stop();
        const log = server.logs() + server.stdout();
        assert.ok(!log.includes('tessera-secret'), 'the client secret is in the server log');
        for (const t of idp.exchangeRequests.map((x) => x.issuedToken).filter(Boolean)) assert.ok(!log.includes(t.split('.')[2]), 'an exchanged token is in the server log');
      }
    } finally {
      if (server) await server.kill();
      if (api) await api.close();
      if (idp) await idp.close();
      if (env) env.cleanup();
    }
  });

  it('the integration never shows its client secret', async () => {
    assert.deepEqual(Object.keys(integration).sort(), ['audience', 'base_url', 'client_id', 'created_at', 'has_client_secret', 'id', 'name', 'scope', 'token_url']);
    assert.equal(integration.has_client_secret, true);
    assert.equal(integration.base_url, `${api.url}/v1`, 'the trailing slash is not dropped');
    const list = await admin(A.orgId, A.adminToken, 'GET', '/integrations');
    assert.ok(!list.text.includes('tessera-secret'));
    const audit = await admin(A.orgId, A.adminToken, 'GET', '/audit');
    assert.ok(!audit.text.includes('tessera-secret'));
  });

  it('a call reaches the API with a token from the exchange for that user; the exchanged token is cached', async () => {
    const { session, subject } = await sessionFor('ada@host.example');
    const exchangesBefore = idp.exchanges;
    const r = await call(session, '/orders?status=open&page=2', { method: 'POST', body: { item: 'tea', qty: 2 }, headers: { 'if-none-match': '"v1"', 'accept-language': 'fr', 'x-evil': '1', cookie: 'a=b' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.json.path, '/v1/orders');
    assert.equal(r.json.method, 'POST');
    assert.deepEqual(r.json.query, { status: 'open', page: '2' });
    assert.deepEqual(r.json.body, { item: 'tea', qty: 2 });
    assert.equal(r.json.user.email, 'ada@host.example');

    // The exchange: client authentication, the subject token, its type, audience and scope.
    assert.equal(idp.exchanges, exchangesBefore + 1);
    const x = idp.exchangeRequests[idp.exchangeRequests.length - 1];
    assert.equal(x.clientId, 'tessera-client');
    assert.equal(x.subjectToken, subject);
    assert.equal(x.subjectTokenType, TOKEN_TYPE_ACCESS);
    assert.equal(x.audience, api.audience);
    assert.equal(x.scope, 'orders:read');

    // What the API received: the exchanged token, nothing of Tessera's.
    const got = api.requests[api.requests.length - 1];
    assert.equal(got.headers.authorization, `Bearer ${x.issuedToken}`);
    const all = JSON.stringify(got.headers);
    assert.ok(!all.includes(session.split('.')[2]), 'the session token was forwarded');
    assert.ok(!all.includes(subject.split('.')[2]), 'the subject token was forwarded');
    assert.equal(got.headers.cookie, undefined);
    assert.equal(got.headers['x-evil'], undefined, 'a header outside the allow-list was forwarded');
    assert.equal(got.headers['if-none-match'], '"v1"');
    assert.equal(got.headers['accept-language'], 'fr');

    // A second call (another method) reuses the exchanged token.
    const again = await call(session, '/orders/7', { method: 'DELETE' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.method, 'DELETE');
    assert.equal(idp.exchanges, exchangesBefore + 1, 'the second call exchanged again');
    assert.equal(api.requests[api.requests.length - 1].headers.authorization, `Bearer ${x.issuedToken}`);
  });

  it("the API's own statuses come back as they are; Tessera's failures are JSON errors", async () => {
    const { session } = await sessionFor('grace@host.example');
    const five = await call(session, '/status/500', { id: plain.id });
    assert.equal(five.status, 500, 'the API 500 is not passed through');
    const redirect = await call(session, `/redirect?to=${encodeURIComponent('https://evil.example/')}`, { id: plain.id });
    assert.equal(redirect.status, 502, redirect.text);
    assert.match(redirect.json.error_description, /redirect/);
    const big = await call(session, '/big', { id: plain.id });
    assert.equal(big.status, 502, 'a 5 MiB answer is relayed');
    assert.match(big.json.error_description, /more than/);
  });

  it('refusals: no session 401, a session without a subject token 409, another org 404, unknown integration 404', async () => {
    assert.equal((await call(null, '/orders')).status, 401);
    assert.equal((await call('not.a.token', '/orders')).status, 401);
    const plain = await h.postToken(url, A.embedToken, { email: 'plain@host.example' });
    const r409 = await call(plain.json.access_token, '/orders');
    assert.equal(r409.status, 409, r409.text);
    assert.match(r409.json.error_description, /no subject token/);
    // Even when that user's exchanged token is cached (from a token-exchange session), a session
    // without its own subject token is refused.
    const { session: withSubject } = await sessionFor('plain@host.example');
    assert.equal((await call(withSubject, '/orders')).status, 200);
    const again409 = await call(plain.json.access_token, '/orders');
    assert.equal(again409.status, 409, `a plain session rode on the cached exchange: ${again409.status}`);
    const { session: bSession } = await sessionFor('b.user@host.example', B);
    assert.equal((await call(bSession, '/orders')).status, 404, "org B's session reaches org A's integration");
    const { session } = await sessionFor('ann@host.example');
    assert.equal((await call(session, '/orders', { id: h.randomUuid() })).status, 404);
    assert.equal(api.requests.filter((q) => q.user && q.user.email === 'b.user@host.example').length, 0);
  });

  it('paths that could leave the base URL are refused (400) before anything is sent', async () => {
    const { session } = await sessionFor('eve@host.example');
    const seen = api.requests.length;
    for (const p of ['/../admin', '/a/%2e%2e/admin', '/a/%2E./b', '/a%2fb', '/a\\b', '/.']) {
      const raw = `GET /api/v1/integrations/${integration.id}/proxy${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${session}\r\nConnection: close\r\n\r\n`;
      const r = await h.rawRequest(url, raw);
      assert.equal(r.status, 400, `${p}: ${r.status}`);
    }
    assert.equal(api.requests.length, seen, 'a refused path reached the API');
  });

  it('a token URL that refuses or fails: 502 naming it; the next call after it recovers works', async () => {
    const { session } = await sessionFor('bob@host.example');
    idp.setTokenUrlMode('500');
    const r = await call(session, '/orders');
    assert.equal(r.status, 502, r.text);
    assert.match(r.json.error_description, /token URL/);
    idp.setTokenUrlMode('refuse');
    const r2 = await call(session, '/orders');
    assert.equal(r2.status, 502, r2.text);
    idp.setTokenUrlMode(null);
    assert.equal((await call(session, '/orders')).status, 200);
    // Wrong client credentials: the token URL's refusal is named.
    const bad = await admin(A.orgId, A.adminToken, 'POST', '/integrations', { name: 'Bad creds', base_url: api.url, token_url: idp.tokenUrl, client_id: 'tessera-client', client_secret: 'wrong', audience: api.audience });
    assert.equal(bad.status, 201);
    const r3 = await call(session, '/orders', { id: bad.json.data.id });
    assert.equal(r3.status, 502);
    assert.match(r3.json.error_description, /invalid_client/);
  });

  it('slow API calls do not hold up token issuance', async () => {
    const { session } = await sessionFor('slow@host.example');
    let slowDone = 0;
    const slow = [1, 2, 3, 4].map(() => call(session, '/slow?ms=2500', { id: plain.id }).then((r) => { slowDone++; return r; }));
    await new Promise((res) => setTimeout(res, 200));
    const t = await h.postToken(url, A.embedToken, { email: 'meanwhile@host.example' });
    assert.equal(t.status, 200);
    assert.equal(slowDone, 0, 'the token was issued only after the slow calls finished');
    for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
  });
});
