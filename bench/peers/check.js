'use strict'
// Quick check of the Node.js peers: node --test bench/peers/check.js
// Starts each peer (2 workers, a random port), issues tokens and verifies
// their ES256 signature against the peer's /.well-known/jwks.json and their
// claims against Tessera's, and checks the refusals (401, 403, 400, 413, 415).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

// The organization, token and email of a session Tessera issued
// (build/main/tessera serve), and the sub/user_id it put in the token.
const ORG = '120a9ed6-1ce1-4dc4-9cf8-86b37c097ab0'
const TESSERA_SUB = '65ef5059-dbba-8f10-80e7-9f2edcc5e255' // for jane.wind@company.com in ORG
const OTHER_ORG = '2f0d8c1e-5a4b-4c3d-9e8f-7a6b5c4d3e2f'
const G1 = '732b4677-f76a-4dfa-922d-9f9e623d8ec0'
const G2 = '8384ef99-13f3-4895-b284-ae24ddf78179'
const G_OTHER = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
const value = (c) => 'tse_' + c.repeat(43)
const GOOD = value('G')
const SHORT = value('S') // in OTHER_ORG: session_ttl 3600, type "enterprise"
const REVOKED = value('R')
const EXPIRED = value('E')
const ADMIN = 'tsa_' + 'A'.repeat(43)
const UNKNOWN = value('U')
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex')

const CLAIM_ORDER = ['iss', 'aud', 'sub', 'jti', 'iat', 'nbf', 'exp', 'org_id', 'org_type', 'user_email', 'user_id',
  'user_name', 'user_type', 'rbac_group_objects', 'atid', 'metadata']

function writeData (dir) {
  const now = Math.floor(Date.now() / 1000)
  const data = {
    orgs: [
      { id: ORG, name: 'Acme', type: '', session_ttl: 0 },
      { id: OTHER_ORG, name: 'Other', type: 'enterprise', session_ttl: 3600 }
    ],
    groups: [
      { id: G1, org_id: ORG, name: 'Customers' },
      { id: G2, org_id: ORG, name: 'Admins' },
      { id: G_OTHER, org_id: OTHER_ORG, name: 'Elsewhere' }
    ],
    tokens: [
      { id: 'b5ae019d-9aa7-4378-9e94-8635a7da9783', org_id: ORG, hash: sha256(GOOD), expires_at: now + 86400, revoked_at: null },
      { id: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', org_id: OTHER_ORG, value: SHORT, expires_at: '2099-01-01T00:00:00Z' },
      { id: 'd1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', org_id: ORG, hash: sha256(REVOKED), expires_at: now + 86400, revoked_at: now - 10 },
      { id: 'e1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', org_id: ORG, hash: sha256(EXPIRED), expires_at: now - 10, revoked_at: null },
      { id: 'f1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', org_id: ORG, type: 'admin', hash: sha256(ADMIN), expires_at: null }
    ]
  }
  const file = path.join(dir, 'data.json')
  fs.writeFileSync(file, JSON.stringify(data))
  return file
}

function startPeer (script, dataFile) {
  const child = spawn(process.execPath, [path.join(__dirname, script)], {
    env: { ...process.env, PORT: '0', BENCH_TOKENS_FILE: dataFile, BENCH_ISSUER: 'https://sso.example.com' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let err = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 15 s:\n${err}`)), 15000)
    child.stderr.on('data', (d) => {
      err += d
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)
      if (m) {
        clearTimeout(timer)
        resolve({ child, port: Number(m[1]) })
      }
    })
    child.on('exit', (code) => reject(new Error(`${script} exited (${code}):\n${err}`)))
  })
}

function stopPeer (peer) {
  return new Promise((resolve) => {
    if (!peer || peer.child.exitCode !== null) return resolve()
    peer.child.on('exit', resolve)
    peer.child.kill('SIGTERM')
  })
}

// One HTTP request; agent false = a connection of its own.
function request (port, { method = 'POST', path: p = '/api/v1/public/token', headers = {}, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let json
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode, headers: res.headers, text, json })
      })
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

const issue = (port, body, bearer = GOOD, extra = {}) => request(port, {
  headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...extra },
  body: typeof body === 'string' ? body : JSON.stringify(body)
})

// Verifies a compact ES256 JWS against a JWKS; returns [header, claims, claims text].
function verifyJwt (token, jwks) {
  const [h, p, s] = token.split('.')
  const header = JSON.parse(Buffer.from(h, 'base64url'))
  assert.equal(header.alg, 'ES256')
  assert.equal(header.typ, 'JWT')
  const jwk = jwks.keys.find((k) => k.kid === header.kid)
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`)
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
  assert.ok(ok, 'the ES256 signature verifies')
  const text = Buffer.from(p, 'base64url').toString()
  return [header, JSON.parse(text), text]
}

const REALISTIC = {
  email: 'Jane.Wind@Company.COM',
  name: 'Jane Wind',
  groupIds: [G1.toUpperCase(), G2, G1],
  metadata: {
    externalUserId: 'd942c6a1-7f3e-4b1a-9c2d-5e8f0a1b2c3d',
    isAdmin: true,
    plan: 'enterprise',
    tenant: { id: 't-3f9a21', tier: 2 },
    features: ['billing', 'reports'],
    u: 'café 😀'
  }
}

for (const script of ['fastify.js', 'express.js']) {
  describe(`${script} peer`, () => {
    let tmp, peer, jwks
    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-peers-'))
      peer = await startPeer(script, writeData(tmp))
      const r = await request(peer.port, { method: 'GET', path: '/.well-known/jwks.json' })
      assert.equal(r.status, 200)
      jwks = r.json
      assert.equal(jwks.keys.length, 1)
      assert.deepEqual(Object.keys(jwks.keys[0]), ['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use'])
      assert.equal(jwks.keys[0].crv, 'P-256')
    })
    after(async () => {
      await stopPeer(peer)
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
    })

    it('issues an ES256 session token with Tessera\'s claims, in Tessera\'s order', async () => {
      const before = Math.floor(Date.now() / 1000)
      const r = await issue(peer.port, REALISTIC)
      assert.equal(r.status, 200, r.text)
      assert.match(r.headers['content-type'], /^application\/json\b/)
      assert.equal(r.headers['cache-control'], 'no-store')
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
      assert.match(r.headers['x-request-id'], /^[0-9a-f]{16}$/)
      assert.deepEqual(Object.keys(r.json), ['access_token', 'token_type', 'expires_in'])
      assert.equal(r.json.token_type, 'Bearer')
      assert.equal(r.json.expires_in, 86400)
      const [, c] = verifyJwt(r.json.access_token, jwks)
      assert.deepEqual(Object.keys(c), CLAIM_ORDER)
      assert.equal(c.iss, 'https://sso.example.com')
      assert.equal(c.aud, 'tessera:session')
      assert.equal(c.sub, TESSERA_SUB)
      assert.equal(c.user_id, TESSERA_SUB)
      assert.match(c.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.ok(c.iat >= before && c.iat <= before + 5)
      assert.equal(c.nbf, c.iat)
      assert.equal(c.exp, c.iat + 86400)
      assert.equal(c.org_id, ORG)
      assert.equal(c.org_type, 'standard')
      assert.equal(c.user_email, 'jane.wind@company.com')
      assert.equal(c.user_name, 'Jane Wind')
      assert.equal(c.user_type, 'external')
      assert.deepEqual(c.rbac_group_objects, [{ id: G1, name: 'Customers' }, { id: G2, name: 'Admins' }])
      assert.equal(c.atid, 'b5ae019d-9aa7-4378-9e94-8635a7da9783')
      assert.deepEqual(c.metadata, REALISTIC.metadata)
    })

    it('leaves out user_name and metadata when not sent, and uses the org\'s TTL and type', async () => {
      const r = await issue(peer.port, { email: 'x@y.example', name: '', groupIds: null, metadata: null }, SHORT)
      assert.equal(r.status, 200, r.text)
      assert.equal(r.json.expires_in, 3600)
      const [, c] = verifyJwt(r.json.access_token, jwks)
      assert.deepEqual(Object.keys(c), CLAIM_ORDER.filter((k) => k !== 'user_name' && k !== 'metadata'))
      assert.equal(c.exp - c.iat, 3600)
      assert.equal(c.org_id, OTHER_ORG)
      assert.equal(c.org_type, 'enterprise')
      assert.deepEqual(c.rbac_group_objects, [])
    })

    it('signs in every worker with the one published key', async () => {
      const jtis = new Set()
      for (let i = 0; i < 8; i++) {
        const r = await request(peer.port, {
          agent: false, // a new connection each time: the cluster hands them to both workers
          headers: { authorization: `Bearer ${GOOD}`, 'content-type': 'application/json' },
          body: JSON.stringify({ email: `user${i}@example.com` })
        })
        assert.equal(r.status, 200, r.text)
        jtis.add(verifyJwt(r.json.access_token, jwks)[1].jti)
      }
      assert.equal(jtis.size, 8)
    })

    it('refuses missing, wrong, revoked and expired access tokens with 401, admin tokens with 403', async () => {
      const cases = [
        [undefined, 401, /missing Authorization header/],
        ['Basic abc', 401, /Bearer scheme/],
        ['Bearer not-a-token', 401, /not a Tessera access token/],
        [`Bearer ${UNKNOWN}`, 401, /not recognized/],
        [`Bearer ${REVOKED}`, 401, /revoked/],
        [`Bearer ${EXPIRED}`, 401, /expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/],
        [`Bearer ${ADMIN}`, 403, /Embed access token/]
      ]
      for (const [authorization, status, description] of cases) {
        const headers = { 'content-type': 'application/json' }
        if (authorization) headers.authorization = authorization
        const r = await request(peer.port, { headers, body: '{"email":"a@b.co"}' })
        assert.equal(r.status, status, `${authorization}: ${r.text}`)
        assert.equal(r.json.error, status === 401 ? 'unauthorized' : 'forbidden')
        assert.match(r.json.error_description, description)
        assert.equal(r.headers['cache-control'], 'no-store')
        if (status === 401) assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"')
      }
    })

    it('refuses bad bodies with 400, a wrong Content-Type with 415 and a body over 64 KiB with 413', async () => {
      const bad = [
        ['', /body is empty/],
        ['{"email":', /malformed JSON/],
        ['[]', /must be a JSON object/],
        ['{"email":"a@b.co","email":"c@d.co"}', /duplicate object key/],
        ['{"email":"a@b.co","name":"\\u0000"}', /malformed JSON/],
        [`{"email":"a@b.co","metadata":${'{"a":'.repeat(32)}1${'}'.repeat(32)}}`, /nested deeper than 32/],
        ['{"email":"a@b.co","metadata":{"n":9223372036854775808}}', /number out of range/],
        ['{"name":"Jane"}', /email is required/],
        ['{"email":"jane"}', /email is invalid: email must contain '@'/],
        ['{"email":"a@b.co","name":"a\\nb"}', /control characters/],
        ['{"email":"a@b.co","groupIds":"x"}', /groupIds must be an array/],
        ['{"email":"a@b.co","groupIds":["x"]}', /groupIds\[0\] is not a group id/],
        [`{"email":"a@b.co","groupIds":["${G_OTHER}"]}`, new RegExp(`unknown groupIds .*${G_OTHER}`)],
        ['{"email":"a@b.co","metadata":[1]}', /metadata must be a JSON object/],
        [`{"email":"a@b.co","metadata":{"x":"${'a'.repeat(8200)}"}}`, /metadata is larger than 8192 bytes/],
        ['{"email":"a@b.co","isSuperblocksUser":1}', /must be a boolean/],
        ['{"email":"a@b.co","subject_token":"x"}', /subject_token_type is required/]
      ]
      for (const [body, description] of bad) {
        const r = await issue(peer.port, body)
        assert.equal(r.status, 400, `${body.slice(0, 60)}: ${r.text}`)
        assert.equal(r.json.error, 'invalid_request')
        assert.match(r.json.error_description, description)
      }
      const ok = await issue(peer.port, '{"email":"a@b.co","metadata":{"n":-9223372036854775808}}', GOOD,
        { 'content-type': 'Application/JSON; charset=utf-8' })
      assert.equal(ok.status, 200, ok.text)
      const media = await issue(peer.port, '{"email":"a@b.co"}', GOOD, { 'content-type': 'text/plain' })
      assert.equal(media.status, 415)
      assert.equal(media.json.error, 'unsupported_media_type')
      const large = await issue(peer.port, JSON.stringify({ email: 'a@b.co', pad: 'x'.repeat(70000) }))
      assert.equal(large.status, 413)
      assert.equal(large.json.error, 'request_too_large')
    })
  })
}
