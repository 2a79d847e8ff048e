'use strict';
// Stand-ins for a host's identity provider (IdP) and the host's backend API,
// for Tessera's token-exchange end-to-end tests. Both are real HTTP servers on
// 127.0.0.1 (port 0) with real keys from node:crypto; nothing is mocked inside
// Tessera.
//
//   const { startIdp, startBackend } = require('./idp');
//   const idp = await startIdp();                  // RSA key 'rsa-1', EC key 'ec-1'
//   const api = await startBackend(idp);           // accepts tokens from idp.tokenUrl
//   const subject = idp.mint({ sub: 'u-1', email: 'u1@host.example' });
//   // ... configure Tessera with idp.issuer / idp.jwksUri / idp.tokenUrl / api.url,
//   // post `subject` to Tessera, then assert on idp.jwksFetches,
//   // idp.exchangeRequests and api.requests ...
//   await api.close(); await idp.close();
//
// The IdP serves, under its issuer (origin + opts.issuerPath):
//   GET  /.well-known/jwks.json            public keys; failure modes via setJwksDown / setJwksBody
//   GET  /.well-known/openid-configuration discovery document
//   POST /oauth2/token                     RFC 8693 token exchange (client_secret_basic or _post)
// idp.mint() signs arbitrary, and arbitrarily broken, JWS for negative tests.
//
// The backend requires `Authorization: Bearer <token>` where the token is one
// the IdP's token URL issued for the backend's audience, and echoes the request.
//
// close() on either destroys every socket (held ones too) and clears every
// timer, so a test process exits promptly. Uses only node:http, node:crypto,
// node:url and node:querystring.

const http = require('node:http');
const crypto = require('node:crypto');
const { URL } = require('node:url');
const querystring = require('node:querystring');

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const TOKEN_TYPE_ID = 'urn:ietf:params:oauth:token-type:id_token';
const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const SUBJECT_TOKEN_TYPES = new Set([TOKEN_TYPE_ACCESS, TOKEN_TYPE_ID, TOKEN_TYPE_JWT]);

const DEFAULTS = Object.freeze({
  audience: 'api://tessera-test', // aud of minted subject tokens
  sub: 'idp-user-ada',
  email: 'ada.lovelace@host.example',
  clients: Object.freeze({ 'tessera-client': 'tessera-secret' }),
  jwksCacheControl: 'max-age=300',
  exchangeExpiresIn: 300,
  backendAudience: 'https://api.host.test',
  bigBytes: 5 * 1024 * 1024,
  slowMs: 10000,
});

const TOKEN_BODY_LIMIT = 64 * 1024;
const API_BODY_LIMIT = 16 * 1024 * 1024;
const JWKS_DOWN_MODES = new Set([null, '503', 'close', 'slow']);
const TOKEN_URL_MODES = new Set([null, 'refuse', '500', 'slow']);
// Key type each asymmetric JWS alg needs.
const ALG_KEY_TYPE = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC' };

const nowSec = () => Math.floor(Date.now() / 1000);
const b64url = (bufOrString) => Buffer.from(bufOrString).toString('base64url');

// ---- small HTTP helpers -------------------------------------------------------

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

// Resolves with the whole request body (Buffer); rejects with .status 413
// past `limit` bytes (the rest of the body is drained and dropped).
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onData = (chunk) => {
      size += chunk.length;
      if (size <= limit) return chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      reject(Object.assign(new Error(`request body over ${limit} bytes`), { status: 413, code: 'invalid_request' }));
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Last resort for a handler that threw: a JSON error, or a reset if the
// reply had already started.
function replyToThrow(res, err) {
  if (res.headersSent) return res.destroy();
  const status = err.status || 500;
  sendJson(res, status, { error: err.code || 'server_error', error_description: err.message }, { connection: 'close' });
}

// Starts an HTTP server on 127.0.0.1:0 running `handler` (may be async).
// Resolves {port, close}; close() destroys every socket, held or idle, and
// resolves once the listener is gone. onClose runs first (timers etc.).
async function serve(handler, onClose = () => {}) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err) => replyToThrow(res, err));
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  let closing = null;
  const close = () => {
    if (!closing) {
      closing = new Promise((resolve) => server.close(() => resolve()));
      onClose();
      for (const sock of sockets) sock.destroy();
    }
    return closing;
  };
  return { port: server.address().port, close };
}

// ---- keys -------------------------------------------------------------------

function generateKey(type, kid, alg) {
  const pair =
    type === 'RSA'
      ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { kid, use: 'sig', ...pair.publicKey.export({ format: 'jwk' }) };
  if (alg) jwk.alg = alg;
  return { kid, type, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

function normalizeKeyType(type) {
  const t = String(type || '').toUpperCase();
  if (t !== 'RSA' && t !== 'EC') throw new Error(`key type must be 'RSA' or 'EC', not ${JSON.stringify(type)}`);
  return t;
}

// Every key ever made (so tests can still sign with a removed one) and the
// subset published in the JWKS, in publication order.
function createKeyring() {
  const all = new Map();
  const published = new Set();
  const counters = { RSA: 0, EC: 0 };
  return {
    // options.alg: the JWK's alg (default RS256 / ES256; null omits it);
    // options.publish: false keeps the key out of the JWKS.
    add(type, { alg, publish = true } = {}) {
      const t = normalizeKeyType(type);
      const kid = `${t.toLowerCase()}-${++counters[t]}`;
      const jwkAlg = alg === undefined ? (t === 'RSA' ? 'RS256' : 'ES256') : alg;
      all.set(kid, generateKey(t, kid, jwkAlg));
      if (publish) published.add(kid);
      return kid;
    },
    remove: (kid) => published.delete(kid),
    get: (kid) => all.get(kid),
    getPublished: (kid) => (published.has(kid) ? all.get(kid) : undefined),
    kids: () => [...published],
    jwks: () => ({ keys: [...published].map((kid) => all.get(kid).jwk) }),
  };
}

// ---- JWS --------------------------------------------------------------------

// The key argument for crypto.sign / crypto.verify for an asymmetric alg.
function keyParams(alg, key) {
  if (alg === 'PS256') return { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  if (alg === 'ES256') return { key, dsaEncoding: 'ieee-p1363' };
  return { key };
}

function computeSignature(alg, input, privateKey, hmacKey) {
  if (alg === 'none') return Buffer.alloc(0);
  if (alg === 'HS256') {
    if (hmacKey === undefined || hmacKey === null) throw new Error("idp.mint: alg 'HS256' needs options.hmacKey");
    return crypto.createHmac('sha256', hmacKey).update(input).digest();
  }
  if (!ALG_KEY_TYPE[alg]) throw new Error(`idp.mint: unsupported alg ${JSON.stringify(alg)}`);
  return crypto.sign('sha256', Buffer.from(input), keyParams(alg, privateKey));
}

// {...base, ...overrides} where an override of undefined deletes the member.
function mergeDefined(base, overrides = {}) {
  const out = { ...base, ...overrides };
  for (const k of Object.keys(overrides)) if (overrides[k] === undefined) delete out[k];
  return out;
}

function flipChar(c) {
  if (c >= '0' && c <= '9') return String((Number(c) + 1) % 10);
  if (c.toLowerCase() !== c.toUpperCase()) return c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
  return c === 'x' ? 'y' : 'x';
}

// Changes the last letter or digit inside a JSON string of `text`: the result
// is still valid JSON (so a verifier fails on the signature, not the parse)
// but no longer the bytes that were signed.
function tamperText(text) {
  let inString = false;
  let target = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!inString) inString = c === '"';
    else if (c === '\\') i++;
    else if (c === '"') inString = false;
    else if (/[A-Za-z0-9]/.test(c)) target = i;
  }
  if (target < 0) target = text.length - 1;
  return text.slice(0, target) + flipChar(text[target]) + text.slice(target + 1);
}

// Parses and verifies a compact JWS against findKey(kid) (a published key).
// Returns {header, claims}; throws an Error naming the first problem.
function verifyJws(token, findKey) {
  if (typeof token !== 'string') throw new Error('token is not a string');
  const segs = token.split('.');
  if (segs.length !== 3) throw new Error('not a compact JWS (three segments)');
  if (!segs.every((s) => /^[A-Za-z0-9_-]*$/.test(s))) throw new Error('segment is not base64url');
  const header = parseSegment(segs[0], 'header');
  const claims = parseSegment(segs[1], 'payload');
  const keyType = ALG_KEY_TYPE[header.alg];
  if (!keyType) throw new Error(`alg ${JSON.stringify(header.alg)} not accepted`);
  if (header.crit !== undefined) throw new Error('crit header not understood');
  const key = findKey(header.kid);
  if (!key || key.type !== keyType) throw new Error(`no ${keyType} key with kid ${JSON.stringify(header.kid)}`);
  if (!verifySignature(header.alg, `${segs[0]}.${segs[1]}`, key.publicKey, segs[2])) throw new Error('bad signature');
  return { header, claims };
}

function parseSegment(seg, what) {
  let value;
  try {
    value = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`${what} is not JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not a JSON object`);
  return value;
}

function verifySignature(alg, input, publicKey, sigSeg) {
  try {
    return crypto.verify('sha256', Buffer.from(input), keyParams(alg, publicKey), Buffer.from(sigSeg, 'base64url'));
  } catch {
    return false;
  }
}

// exp (required) and nbf (optional) against the clock, in whole seconds.
function checkTimes(claims) {
  const t = nowSec();
  if (typeof claims.exp !== 'number') throw new Error('exp missing or not a number');
  if (claims.exp <= t) throw new Error('token expired');
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= t)) throw new Error('token not yet valid (nbf)');
}

function audienceMatches(aud, wanted) {
  return Array.isArray(aud) ? aud.includes(wanted) : aud === wanted;
}

// ---- RFC 8693 token exchange (pure steps; each throws OAuthError) --------------

class OAuthError extends Error {
  constructor(status, code, description) {
    super(description);
    this.status = status;
    this.code = code;
  }
}

const oauthFail = (status, code, description) => {
  throw new OAuthError(status, code, description);
};

// The form parameters; rejects another content type and repeated parameters.
function parseForm(req, bodyBuf) {
  const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    oauthFail(400, 'invalid_request', 'content type must be application/x-www-form-urlencoded');
  }
  const params = { ...querystring.parse(bodyBuf.toString('utf8')) };
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) oauthFail(400, 'invalid_request', `parameter ${k} is repeated`);
  }
  return params;
}

// HTTP Basic credentials (RFC 6749 §2.3.1: each part form-urlencoded), or
// null when there is no Basic Authorization header.
function parseBasic(header) {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header || '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) oauthFail(401, 'invalid_client', 'malformed Basic credentials');
  const decode = (s) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return oauthFail(401, 'invalid_client', 'malformed Basic credentials');
    }
  };
  return { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)), method: 'client_secret_basic' };
}

function secretsEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Returns {id, method} of the authenticated client.
function authenticateClient(req, params, clients) {
  const basic = parseBasic(req.headers.authorization);
  if (basic && params.client_secret !== undefined) {
    oauthFail(400, 'invalid_request', 'more than one client authentication method');
  }
  const cred = basic || { id: params.client_id, secret: params.client_secret, method: 'client_secret_post' };
  if (!cred.id) oauthFail(401, 'invalid_client', 'client authentication missing');
  if (basic && params.client_id !== undefined && params.client_id !== basic.id) {
    oauthFail(401, 'invalid_client', 'client_id does not match the Basic credentials');
  }
  const known = Object.prototype.hasOwnProperty.call(clients, cred.id);
  if (!known || cred.secret === undefined || !secretsEqual(clients[cred.id], cred.secret)) {
    oauthFail(401, 'invalid_client', 'unknown client or wrong secret');
  }
  return { id: cred.id, method: cred.method };
}

// Checks the grant parameters; returns the audience to issue for.
function checkExchangeParams(params, allowedAudiences) {
  if (!params.grant_type) oauthFail(400, 'invalid_request', 'grant_type missing');
  if (params.grant_type !== TOKEN_EXCHANGE_GRANT) oauthFail(400, 'unsupported_grant_type', `grant_type ${params.grant_type} not supported`);
  if (!params.subject_token) oauthFail(400, 'invalid_request', 'subject_token missing');
  if (!params.subject_token_type) oauthFail(400, 'invalid_request', 'subject_token_type missing');
  if (!SUBJECT_TOKEN_TYPES.has(params.subject_token_type)) {
    oauthFail(400, 'invalid_request', `subject_token_type ${params.subject_token_type} not supported`);
  }
  const audience = params.audience || params.resource;
  if (!audience) oauthFail(400, 'invalid_request', 'audience (or resource) missing');
  if (allowedAudiences && !allowedAudiences.includes(audience)) oauthFail(400, 'invalid_target', `audience ${audience} not allowed`);
  return audience;
}

// What exchangeRequests keeps of one request: every form parameter but
// client_secret, plus how the client authenticated.
function exchangeLogEntry(req, params) {
  const form = { ...params };
  const hadSecret = form.client_secret !== undefined;
  delete form.client_secret;
  return {
    at: Date.now(),
    contentType: req.headers['content-type'] || null,
    basicAuth: /^Basic\s/i.test(req.headers.authorization || ''),
    clientSecretInForm: hadSecret,
    clientId: null,
    authMethod: null,
    grantType: form.grant_type,
    subjectToken: form.subject_token,
    subjectTokenType: form.subject_token_type,
    audience: form.audience,
    resource: form.resource,
    scope: form.scope,
    form,
    status: null,
    error: null,
    issuedToken: null,
  };
}

// ---- the IdP ----------------------------------------------------------------

// Starts a fake IdP. opts: issuerPath ('' or e.g. '/oauth2/default'),
// clients ({id: secret}), exchangeExpiresIn (s), audiences (allowed
// exchange audiences; default any), exchangeLogSize (default 20).
async function startIdp(opts = {}) {
  const issuerPath = (opts.issuerPath || '').replace(/\/+$/, '');
  if (issuerPath && !issuerPath.startsWith('/')) throw new Error('opts.issuerPath must start with /');
  const cfg = {
    clients: opts.clients || DEFAULTS.clients,
    expiresIn: opts.exchangeExpiresIn ?? DEFAULTS.exchangeExpiresIn,
    audiences: opts.audiences || null,
    logSize: opts.exchangeLogSize ?? 20,
  };
  const keys = createKeyring();
  keys.add('RSA');
  keys.add('EC');
  const state = { jwksDown: null, jwksBody: null, cacheControl: DEFAULTS.jwksCacheControl, tokenUrlMode: null };

  const idp = {
    issuer: null,
    origin: null,
    jwksUri: null,
    tokenUrl: null,
    discoveryUrl: null,
    jwksFetches: 0,
    exchanges: 0,
    exchangeRequests: [],
  };

  // ---- key management
  idp.addKey = (type, options) => keys.add(type, options);
  idp.removeKey = (kid) => keys.remove(kid);
  idp.kids = () => keys.kids();
  idp.jwks = () => keys.jwks();
  idp.publicKeyPem = (kid = 'rsa-1') => requireKey(kid).publicKey.export({ type: 'spki', format: 'pem' });

  function requireKey(kid) {
    const key = keys.get(kid);
    if (!key) throw new Error(`idp: no key with kid ${JSON.stringify(kid)}`);
    return key;
  }

  // ---- failure switches
  idp.setJwksCacheControl = (value) => {
    state.cacheControl = value;
  };
  idp.setJwksDown = (mode) => {
    if (!JWKS_DOWN_MODES.has(mode)) throw new Error(`setJwksDown: unknown mode ${JSON.stringify(mode)}`);
    state.jwksDown = mode;
  };
  idp.setJwksBody = (text) => {
    state.jwksBody = text;
  };
  idp.setTokenUrlMode = (mode) => {
    if (!TOKEN_URL_MODES.has(mode)) throw new Error(`setTokenUrlMode: unknown mode ${JSON.stringify(mode)}`);
    state.tokenUrlMode = mode;
  };

  // ---- minting
  const defaultKid = (alg) => (alg === 'ES256' ? 'ec-1' : 'rsa-1');

  // The private key that signs: options.signWith, else the header kid's key
  // if it suits alg, else the alg's default key.
  function signingKey(alg, kid, signWith) {
    if (signWith !== undefined) return requireKey(signWith);
    const byKid = kid === null || kid === undefined ? undefined : keys.get(kid);
    if (byKid && byKid.type === ALG_KEY_TYPE[alg]) return byKid;
    return keys.get(defaultKid(alg));
  }

  function defaultClaims() {
    const t = nowSec();
    return { iss: idp.issuer, aud: DEFAULTS.audience, iat: t, exp: t + 3600, sub: DEFAULTS.sub, email: DEFAULTS.email, email_verified: true };
  }

  // Returns a compact JWS (RFC 7515; base64url without padding).
  // claims: merged over iss = issuer, aud = DEFAULTS.audience, iat = now,
  //   exp = now + 3600, sub, email, email_verified = true; undefined deletes.
  // options:
  //   alg        'RS256' (default) | 'PS256' | 'ES256' | 'HS256' | 'none'
  //              (rsa-1's JWK says alg RS256, so a verifier that matches the
  //              JWK alg rejects PS256 by rsa-1: for a valid PS256 token use
  //              kid = idp.addKey('RSA', { alg: 'PS256' }))
  //   kid        header kid (default 'rsa-1', 'ec-1' for ES256); null omits it
  //   header     members merged over {alg, kid, typ: 'JWT'}; undefined deletes
  //   signWith   kid of the key that signs (any key, even removed/unpublished);
  //              otherwise the header kid's key if it suits alg, else the default
  //   hmacKey    HS256 secret (pass publicKeyPem() for the confusion attack)
  //   rawHeader, rawPayload   JSON text signed verbatim (duplicate members...)
  //   tamper     true: change one character of the payload after signing
  //              (the payload stays valid JSON; only the signature is wrong)
  //   stripSignature  true: empty third segment; 'segment': only two segments
  idp.mint = (claims = {}, options = {}) => {
    const alg = options.alg || 'RS256';
    const kid = 'kid' in options ? options.kid : defaultKid(alg);
    const headerObj = mergeDefined({ alg, kid: kid ?? undefined, typ: 'JWT' }, options.header);
    const headerText = options.rawHeader ?? JSON.stringify(headerObj);
    const payloadText = options.rawPayload ?? JSON.stringify(mergeDefined(defaultClaims(), claims));
    const headerSeg = b64url(headerText);
    const payloadSeg = b64url(payloadText);
    const privateKey = ALG_KEY_TYPE[alg] ? signingKey(alg, kid, options.signWith).privateKey : undefined;
    const sig = computeSignature(alg, `${headerSeg}.${payloadSeg}`, privateKey, options.hmacKey);
    const signed = `${headerSeg}.${options.tamper ? b64url(tamperText(payloadText)) : payloadSeg}`;
    if (options.stripSignature === 'segment') return signed;
    return `${signed}.${options.stripSignature ? '' : b64url(sig)}`;
  };

  // ---- verification (also used by startBackend)
  // Verifies a token signed by a published key with iss = issuer, unexpired,
  // and (if given) audience among aud. Returns {header, claims}; throws.
  idp.verifyToken = (token, { audience } = {}) => {
    const out = verifyJws(token, (kid) => keys.getPublished(kid));
    if (out.claims.iss !== idp.issuer) throw new Error(`iss ${JSON.stringify(out.claims.iss)} is not ${idp.issuer}`);
    checkTimes(out.claims);
    if (audience !== undefined && !audienceMatches(out.claims.aud, audience)) {
      throw new Error(`aud ${JSON.stringify(out.claims.aud)} does not include ${audience}`);
    }
    return out;
  };

  // ---- HTTP
  function handleJwks(req, res) {
    idp.jwksFetches++;
    if (state.jwksDown === 'close') return req.socket.destroy();
    if (state.jwksDown === 'slow') return undefined; // held until close()
    if (state.jwksDown === '503') return sendJson(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '1' });
    const body = state.jwksBody ?? JSON.stringify(keys.jwks());
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (state.cacheControl !== null && state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl;
    res.writeHead(200, headers);
    return res.end(body);
  }

  function handleDiscovery(req, res) {
    sendJson(res, 200, {
      issuer: idp.issuer,
      jwks_uri: idp.jwksUri,
      token_endpoint: idp.tokenUrl,
      grant_types_supported: [TOKEN_EXCHANGE_GRANT],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
    });
  }

  function remember(entry) {
    idp.exchangeRequests.push(entry);
    while (idp.exchangeRequests.length > cfg.logSize) idp.exchangeRequests.shift();
  }

  // The access token the token URL issues for a verified subject.
  function mintExchanged(subject, audience, clientId, scope) {
    const t = nowSec();
    const claims = { iss: idp.issuer, aud: audience, sub: subject.sub, email: subject.email, email_verified: undefined };
    Object.assign(claims, { iat: t, exp: t + cfg.expiresIn, client_id: clientId, jti: crypto.randomUUID(), scope });
    return idp.mint(claims);
  }

  // Runs the exchange for parsed params; returns the 200 body.
  function exchange(req, params, entry) {
    const client = authenticateClient(req, params, cfg.clients);
    entry.clientId = client.id;
    entry.authMethod = client.method;
    const audience = checkExchangeParams(params, cfg.audiences);
    let subject;
    try {
      subject = idp.verifyToken(params.subject_token).claims;
    } catch (err) {
      oauthFail(400, 'invalid_grant', `subject_token rejected: ${err.message}`);
    }
    const reply = {
      access_token: mintExchanged(subject, audience, client.id, params.scope || undefined),
      issued_token_type: TOKEN_TYPE_ACCESS,
      token_type: 'Bearer',
      expires_in: cfg.expiresIn,
    };
    if (params.scope) reply.scope = params.scope;
    return reply;
  }

  async function handleToken(req, res) {
    if (state.tokenUrlMode === 'refuse') return req.socket.destroy();
    if (state.tokenUrlMode === 'slow') return undefined; // held until close()
    if (state.tokenUrlMode === '500') return sendJson(res, 500, { error: 'server_error', error_description: 'token URL set to fail' });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { allow: 'POST' });
    const body = await readBody(req, TOKEN_BODY_LIMIT);
    let entry = exchangeLogEntry(req, {});
    try {
      const params = parseForm(req, body);
      entry = exchangeLogEntry(req, params);
      const reply = exchange(req, params, entry);
      Object.assign(entry, { status: 200, issuedToken: reply.access_token });
      idp.exchanges++;
      return sendJson(res, 200, reply, { 'cache-control': 'no-store', pragma: 'no-cache' });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      Object.assign(entry, { status: err.status, error: err.code });
      const extra = err.status === 401 ? { 'www-authenticate': 'Basic realm="idp"' } : {};
      return sendJson(res, err.status, { error: err.code, error_description: err.message }, { 'cache-control': 'no-store', ...extra });
    } finally {
      remember(entry);
    }
  }

  const routes = {
    'GET /.well-known/jwks.json': handleJwks,
    'GET /.well-known/openid-configuration': handleDiscovery,
    'POST /oauth2/token': handleToken,
    'GET /oauth2/token': handleToken, // answers 405
  };

  function route(req, res) {
    const path = new URL(req.url, 'http://idp.invalid').pathname;
    const rel = path.startsWith(`${issuerPath}/`) ? path.slice(issuerPath.length) : null;
    const handler = rel !== null && routes[`${req.method} ${rel}`];
    if (!handler) return sendJson(res, 404, { error: 'not_found', error_description: `${req.method} ${path}` });
    return handler(req, res);
  }

  const { port, close } = await serve(route);
  idp.origin = `http://127.0.0.1:${port}`;
  idp.issuer = idp.origin + issuerPath;
  idp.jwksUri = `${idp.issuer}/.well-known/jwks.json`;
  idp.discoveryUrl = `${idp.issuer}/.well-known/openid-configuration`;
  idp.tokenUrl = `${idp.issuer}/oauth2/token`;
  idp.close = close;
  return idp;
}

// ---- the host's backend API ---------------------------------------------------

// The request as api.requests records it (all headers, as received).
function apiLogEntry(req, bodyBuf) {
  const u = new URL(req.url, 'http://api.invalid');
  return {
    at: Date.now(),
    method: req.method,
    path: u.pathname,
    url: req.url,
    query: { ...querystring.parse(u.search.slice(1)) },
    headers: { ...req.headers },
    rawHeaders: req.rawHeaders.slice(),
    body: bodyBuf.toString('utf8'),
    user: null,
    status: null,
  };
}

function parseJsonBody(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// A JSON string value of exactly n bytes (n >= 2).
function bigJsonBody(n) {
  const buf = Buffer.alloc(Math.max(n, 2), 'x');
  buf[0] = 0x22;
  buf[buf.length - 1] = 0x22;
  return buf;
}

// Starts the host API. opts: audience (required aud), bigBytes, slowMs.
// Routes (all behind Bearer auth): GET /status/<code>, GET /big[?chunked=1],
// GET /slow[?ms=N], GET /redirect?to=URL; anything else echoes the request.
async function startBackend(idp, opts = {}) {
  const cfg = {
    audience: opts.audience || DEFAULTS.backendAudience,
    bigBytes: opts.bigBytes ?? DEFAULTS.bigBytes,
    slowMs: opts.slowMs ?? DEFAULTS.slowMs,
  };
  const timers = new Set();
  const api = { url: null, audience: cfg.audience, requests: [] };

  function authenticate(header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header || '');
    if (!m) throw new Error('Bearer token missing');
    const { claims } = idp.verifyToken(m[1], { audience: cfg.audience });
    return { sub: claims.sub, email: claims.email };
  }

  function echo(entry) {
    return { ok: true, path: entry.path, method: entry.method, query: entry.query, user: entry.user, body: parseJsonBody(entry.body) };
  }

  function sendBig(res, chunked) {
    const body = bigJsonBody(cfg.bigBytes);
    if (!chunked) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      return res.end(body);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(body);
    return res.end();
  }

  function sendSlow(res, entry) {
    const ms = entry.query.ms !== undefined ? Number(entry.query.ms) : cfg.slowMs;
    const timer = setTimeout(() => {
      timers.delete(timer);
      sendJson(res, 200, echo(entry));
    }, ms);
    timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  }

  function dispatch(res, entry) {
    const status = /^\/status\/([1-5]\d\d)$/.exec(entry.path);
    if (status) return sendJson(res, Number(status[1]), { ok: false, status: Number(status[1]) });
    if (entry.path === '/big') return sendBig(res, entry.query.chunked === '1');
    if (entry.path === '/slow') return sendSlow(res, entry);
    if (entry.path === '/redirect') {
      if (!entry.query.to) return sendJson(res, 400, { ok: false, error: 'to missing' });
      res.writeHead(302, { location: entry.query.to, 'content-length': 0 });
      return res.end();
    }
    return sendJson(res, 200, echo(entry));
  }

  async function handle(req, res) {
    const body = await readBody(req, API_BODY_LIMIT);
    const entry = apiLogEntry(req, body);
    api.requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    try {
      entry.user = authenticate(req.headers.authorization);
    } catch (err) {
      const challenge = 'Bearer error="invalid_token"';
      return sendJson(res, 401, { error: 'invalid_token', error_description: err.message }, { 'www-authenticate': challenge });
    }
    return dispatch(res, entry);
  }

  const clearTimers = () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
  const { port, close } = await serve(handle, clearTimers);
  api.url = `http://127.0.0.1:${port}`;
  api.close = close;
  return api;
}

module.exports = {
  startIdp,
  startBackend,
  TOKEN_EXCHANGE_GRANT,
  TOKEN_TYPE_ACCESS,
  TOKEN_TYPE_ID,
  TOKEN_TYPE_JWT,
  DEFAULTS,
};
