'use strict';
// Self-test of tests/e2e/idp.js (the fake IdP and host API used by the
// token-exchange tests), checked with node:crypto alone. Needs no Tessera
// binary.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');
const { startIdp, startBackend, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE_ACCESS, DEFAULTS } = require('./idp');

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

// Verifies token with the JWKS key of its kid, as a strict verifier would.
function verifyWithJwks(jwks, token) {
  const [hs, ps, ss] = token.split('.');
  const header = JSON.parse(Buffer.from(hs, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} not in JWKS`);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const opts = { key };
  if (header.alg === 'PS256') Object.assign(opts, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  if (header.alg === 'ES256') opts.dsaEncoding = 'ieee-p1363';
  return crypto.verify('sha256', Buffer.from(`${hs}.${ps}`), opts, Buffer.from(ss, 'base64url'));
}

const form = (fields) => new URLSearchParams(fields).toString();
const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('fake IdP (tests/e2e/idp.js)', () => {
  let idp;
  let jwks;

  before(async () => {
    idp = await startIdp({ issuerPath: '/oauth2/default' });
    jwks = (await h.httpRequest(idp.jwksUri)).json;
  });

  after(async () => {
    if (idp) await idp.close();
  });

  it('serves a JWKS of public RSA and EC keys with Cache-Control, and counts fetches', async () => {
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+\/oauth2\/default$/);
    const before = idp.jwksFetches;
    const res = await h.httpRequest(idp.jwksUri);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'max-age=300');
    assert.equal(idp.jwksFetches, before + 1);
    const [rsa, ec] = res.json.keys;
    assert.deepEqual([rsa.kid, rsa.kty, rsa.alg, rsa.use], ['rsa-1', 'RSA', 'RS256', 'sig']);
    assert.deepEqual([ec.kid, ec.kty, ec.alg, ec.use, ec.crv], ['ec-1', 'EC', 'ES256', 'sig', 'P-256']);
    assert.equal(Buffer.from(rsa.n, 'base64url').length, 256);
    for (const k of res.json.keys) assert.equal(k.d, undefined, 'private member in JWKS');
    idp.setJwksCacheControl('no-store');
    assert.equal((await h.httpRequest(idp.jwksUri)).headers.get('cache-control'), 'no-store');
    idp.setJwksCacheControl(null);
    assert.equal((await h.httpRequest(idp.jwksUri)).headers.get('cache-control'), null);
    idp.setJwksCacheControl('max-age=300');
  });

  it('serves discovery under the issuer path only', async () => {
    const d = (await h.httpRequest(idp.discoveryUrl)).json;
    assert.deepEqual([d.issuer, d.jwks_uri, d.token_endpoint], [idp.issuer, idp.jwksUri, idp.tokenUrl]);
    assert.equal((await h.httpRequest(`${idp.origin}/.well-known/jwks.json`)).status, 404);
  });

  for (const alg of ['RS256', 'PS256', 'ES256']) {
    it(`mints ${alg} tokens that verify with the JWKS key`, () => {
      const token = idp.mint({ sub: 'u-1' }, { alg });
      const segs = token.split('.');
      assert.equal(segs.length, 3);
      for (const s of segs) assert.match(s, B64URL_RE);
      const { header, payload } = h.jwtParts(token);
      assert.deepEqual(header, { alg, kid: alg === 'ES256' ? 'ec-1' : 'rsa-1', typ: 'JWT' });
      assert.equal(payload.iss, idp.issuer);
      assert.equal(payload.aud, DEFAULTS.audience);
      assert.equal(payload.sub, 'u-1');
      assert.equal(payload.email_verified, true);
      assert.equal(payload.exp - payload.iat, 3600);
      if (alg === 'ES256') assert.equal(Buffer.from(segs[2], 'base64url').length, 64);
      assert.equal(verifyWithJwks(jwks, token), true);
      assert.equal(verifyWithJwks(jwks, idp.mint({}, { alg, tamper: true })), false);
    });
  }

  it('mint options: deleted claims, header edits, none, HS256, signWith, raw text, stripping', () => {
    const p = h.jwtParts(idp.mint({ email: undefined, exp: undefined, extra: 1 }, { kid: null, header: { jku: 'http://evil', typ: undefined } }));
    assert.equal('email' in p.payload || 'exp' in p.payload, false);
    assert.equal(p.payload.extra, 1);
    assert.deepEqual(p.header, { alg: 'RS256', jku: 'http://evil' });
    assert.ok(idp.mint({}, { alg: 'none' }).endsWith('.'));
    const pem = idp.publicKeyPem('rsa-1');
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    const hs = idp.mint({}, { alg: 'HS256', hmacKey: pem }).split('.');
    const mac = crypto.createHmac('sha256', pem).update(`${hs[0]}.${hs[1]}`).digest('base64url');
    assert.equal(hs[2], mac);
    const other = idp.addKey('RSA', { publish: false });
    assert.equal(verifyWithJwks(jwks, idp.mint({}, { signWith: other })), false, 'kid rsa-1 but signed by another key');
    const raw = idp.mint(undefined, { rawPayload: '{"sub":"a","sub":"b"}' });
    assert.equal(h.jwtParts(raw).payloadRaw, '{"sub":"a","sub":"b"}');
    assert.equal(verifyWithJwks(jwks, raw), true);
    assert.equal(idp.mint({}, { stripSignature: true }).split('.')[2], '');
    assert.equal(idp.mint({}, { stripSignature: 'segment' }).split('.').length, 2);
    const tampered = h.jwtParts(idp.mint({}, { tamper: true }));
    assert.equal(typeof tampered.payload, 'object', 'tampered payload is still JSON');
  });

  it('adds and removes keys (rotation)', async () => {
    const kid = idp.addKey('EC');
    const fetchKids = async () => (await h.httpRequest(idp.jwksUri)).json.keys.map((k) => k.kid);
    assert.ok((await fetchKids()).includes(kid));
    const keys = (await h.httpRequest(idp.jwksUri)).json;
    assert.equal(verifyWithJwks(keys, idp.mint({}, { alg: 'ES256', kid })), true);
    assert.equal(idp.removeKey(kid), true);
    assert.ok(!(await fetchKids()).includes(kid));
  });

  it('JWKS down modes: 503, close, slow, malformed body, back to normal', async () => {
    idp.setJwksDown('503');
    assert.equal((await h.httpRequest(idp.jwksUri)).status, 503);
    idp.setJwksDown('close');
    await assert.rejects(h.httpRequest(idp.jwksUri));
    idp.setJwksDown('slow');
    const started = idp.jwksFetches;
    await assert.rejects(fetch(idp.jwksUri, { signal: AbortSignal.timeout(200) }), /abort|timeout/i);
    assert.equal(idp.jwksFetches, started + 1);
    idp.setJwksDown(null);
    idp.setJwksBody('{"keys": [');
    assert.equal((await h.httpRequest(idp.jwksUri)).text, '{"keys": [');
    idp.setJwksBody(null);
    assert.equal((await h.httpRequest(idp.jwksUri)).json.keys.length, 2);
    assert.throws(() => idp.setJwksDown('bogus'));
  });
});

describe('fake IdP token URL and host API', () => {
  let idp;
  let api;
  const exchange = (fields, headers = { authorization: basic('tessera-client', 'tessera-secret') }) =>
    h.httpRequest(idp.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form(fields),
    });
  const goodFields = () => ({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: idp.mint({ sub: 'u-7', email: 'u7@host.example' }),
    subject_token_type: TOKEN_TYPE_ACCESS,
    audience: 'https://api.host.test',
    scope: 'read',
  });

  before(async () => {
    idp = await startIdp({ exchangeExpiresIn: 120 });
    api = await startBackend(idp, { slowMs: 60000 });
  });

  after(async () => {
    if (api) await api.close();
    if (idp) await idp.close();
  });

  it('exchanges a subject token (Basic and form client auth)', async () => {
    const res = await exchange(goodFields());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(res.json).sort(), ['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type']);
    assert.equal(res.json.issued_token_type, TOKEN_TYPE_ACCESS);
    assert.equal(res.json.token_type, 'Bearer');
    assert.equal(res.json.expires_in, 120);
    const { payload } = h.jwtParts(res.json.access_token);
    assert.equal(payload.aud, 'https://api.host.test');
    assert.deepEqual([payload.sub, payload.email, payload.iss], ['u-7', 'u7@host.example', idp.issuer]);
    assert.equal(payload.exp - payload.iat, 120);
    const last = idp.exchangeRequests.at(-1);
    assert.equal(last.authMethod, 'client_secret_basic');
    assert.equal(last.issuedToken, res.json.access_token);
    const post = await exchange({ ...goodFields(), client_id: 'tessera-client', client_secret: 'tessera-secret' }, {});
    assert.equal(post.status, 200, post.text);
    assert.equal(idp.exchangeRequests.at(-1).authMethod, 'client_secret_post');
    assert.equal(idp.exchangeRequests.at(-1).form.client_secret, undefined);
    assert.equal(idp.exchanges, 2);
  });

  it('answers RFC 6749 errors', async () => {
    const cases = [
      [401, 'invalid_client', goodFields(), {}],
      [401, 'invalid_client', goodFields(), { authorization: basic('tessera-client', 'wrong') }],
      [400, 'unsupported_grant_type', { ...goodFields(), grant_type: 'client_credentials' }],
      [400, 'invalid_request', { ...goodFields(), grant_type: undefined }],
      [400, 'invalid_request', { ...goodFields(), subject_token: undefined }],
      [400, 'invalid_request', { ...goodFields(), subject_token_type: undefined }],
      [400, 'invalid_request', { ...goodFields(), audience: undefined }],
      [400, 'invalid_request', { ...goodFields(), client_secret: 'tessera-secret' }],
      [400, 'invalid_grant', { ...goodFields(), subject_token: idp.mint({ exp: Math.floor(Date.now() / 1000) - 10 }) }],
      [400, 'invalid_grant', { ...goodFields(), subject_token: idp.mint({ iss: 'http://other.example' }) }],
      [400, 'invalid_grant', { ...goodFields(), subject_token: idp.mint({}, { tamper: true }) }],
      [400, 'invalid_grant', { ...goodFields(), subject_token: idp.mint({}, { alg: 'none' }) }],
    ];
    for (const [status, code, fields, headers] of cases) {
      for (const k of Object.keys(fields)) if (fields[k] === undefined) delete fields[k];
      const res = await exchange(fields, headers);
      assert.equal(res.status, status, `${code}: ${res.text}`);
      assert.equal(res.json.error, code);
      assert.equal(typeof res.json.error_description, 'string');
      if (status === 401) assert.match(res.headers.get('www-authenticate'), /^Basic /);
    }
    const wrongType = await h.httpRequest(idp.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrongType.json.error, 'invalid_request');
    assert.equal(idp.exchanges, 2, 'no failed request counted as an exchange');
  });

  it('token URL modes: refuse, 500', async () => {
    idp.setTokenUrlMode('refuse');
    await assert.rejects(exchange(goodFields()));
    idp.setTokenUrlMode('500');
    assert.equal((await exchange(goodFields())).status, 500);
    idp.setTokenUrlMode(null);
    assert.equal((await exchange(goodFields())).status, 200);
  });

  it('the host API accepts an exchanged token and refuses a subject token', async () => {
    const token = (await exchange(goodFields())).json.access_token;
    const res = await h.httpRequest(`${api.url}/things/1?x=2`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', cookie: 'a=b' },
      body: '{"n":1}',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { ok: true, path: '/things/1', method: 'POST', query: { x: '2' }, user: { sub: 'u-7', email: 'u7@host.example' }, body: { n: 1 } });
    const seen = api.requests.at(-1);
    assert.equal(seen.headers.cookie, 'a=b');
    assert.equal(seen.status, 200);
    const refused = await h.httpRequest(`${api.url}/things`, { headers: { authorization: `Bearer ${idp.mint()}` } });
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'invalid_token');
    assert.equal((await h.httpRequest(`${api.url}/things`)).status, 401);
  });

  it('host API special routes: /status/500, /big, /slow, /redirect', async () => {
    const auth = { authorization: `Bearer ${(await exchange(goodFields())).json.access_token}` };
    assert.equal((await h.httpRequest(`${api.url}/status/500`, { headers: auth })).status, 500);
    const big = await h.httpRequest(`${api.url}/big`, { headers: auth });
    assert.equal(big.text.length, DEFAULTS.bigBytes);
    assert.equal(typeof big.json, 'string');
    const chunked = await h.httpRequest(`${api.url}/big?chunked=1`, { headers: auth });
    assert.equal(chunked.headers.get('content-length'), null);
    assert.equal(chunked.text.length, DEFAULTS.bigBytes);
    const t0 = Date.now();
    assert.equal((await h.httpRequest(`${api.url}/slow?ms=150`, { headers: auth })).status, 200);
    assert.ok(Date.now() - t0 >= 140);
    const redir = await h.httpRequest(`${api.url}/redirect?to=http://169.254.169.254/`, { headers: auth });
    assert.deepEqual([redir.status, redir.headers.get('location')], [302, 'http://169.254.169.254/']);
  });

  it('close() ends held requests and leaves no handles', async () => {
    const idp2 = await startIdp();
    const api2 = await startBackend(idp2);
    idp2.setJwksDown('slow');
    idp2.setTokenUrlMode('slow');
    const token = idp2.mint({ aud: 'https://api.host.test' });
    const pending = [
      fetch(idp2.jwksUri),
      fetch(idp2.tokenUrl, { method: 'POST' }),
      fetch(`${api2.url}/slow`, { headers: { authorization: `Bearer ${token}` } }),
    ].map((p) => p.then((r) => r.text()).then(() => 'answered', (e) => e));
    await h.sleep(100);
    const t0 = Date.now();
    await Promise.all([idp2.close(), api2.close()]);
    for (const outcome of await Promise.all(pending)) assert.ok(outcome instanceof Error, `a held request was ${outcome}`);
    assert.ok(Date.now() - t0 < 1000, 'close() waited for held requests');
    await assert.rejects(fetch(idp2.jwksUri));
  });
});
