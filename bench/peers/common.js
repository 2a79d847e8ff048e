'use strict'
// What both Node.js peers share: the data file, the access-token check, the
// strict request parse and the session claims of Tessera's
// POST /api/v1/public/token (src/api/public_token.c, src/domain/*.c,
// src/jwt/claims.c), and the 2-process node:cluster start-up. The peers
// differ only in the HTTP framework and the JWT library that signs.

const cluster = require('node:cluster')
const crypto = require('node:crypto')
const fs = require('node:fs')
const { isUtf8 } = require('node:buffer')

const AUDIENCE = 'tessera:session'
const DEFAULT_TTL = 86400
const MAX_BODY = 64 * 1024
const MAX_DEPTH = 32
const MAX_NAME = 200
const MAX_GROUPS = 100
const MAX_METADATA = 8192
const MAX_SUBJECT_TOKEN = 8192
const TOKEN_TYPES = [
  'urn:ietf:params:oauth:token-type:access_token',
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:jwt'
]
const STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_too_large: 413,
  unsupported_media_type: 415,
  server_error: 500
}

// A refusal: Tessera's {"error","error_description"} with its HTTP status.
class Refusal extends Error {
  constructor (error, description) {
    super(description)
    this.error = error
    this.status = STATUS[error]
  }
}
const refuse = (error, description) => { throw new Refusal(error, description) }

// The JSON body and headers of a refusal, for the frameworks to send.
function refusalReply (err) {
  const r = err instanceof Refusal ? err : new Refusal('server_error', 'internal error')
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-request-id': requestId() }
  if (r.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"'
  return { status: r.status, headers, body: { error: r.error, error_description: r.message } }
}

// Headers of every successful token reply (besides Content-Type).
function okHeaders () {
  return { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-request-id': requestId() }
}

// ---- random bytes, from a pool (request ids and UUIDv7 jti) ----
const pool = Buffer.alloc(4096)
let poolAt = pool.length
function randomBytes (n) {
  if (poolAt + n > pool.length) {
    crypto.randomFillSync(pool)
    poolAt = 0
  }
  const at = poolAt
  poolAt += n
  return pool.subarray(at, at + n)
}
function requestId () {
  return randomBytes(8).toString('hex')
}

const HEX = '0123456789abcdef'
function uuidFormat (b) {
  let s = ''
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-'
    s += HEX[b[i] >> 4] + HEX[b[i] & 15]
  }
  return s
}

// uuid_v7 (src/core/uuid.c): 48-bit Unix milliseconds, then random bits.
const v7 = Buffer.alloc(16)
function uuidV7 () {
  const ms = Date.now()
  v7.writeUIntBE(ms, 0, 6)
  randomBytes(10).copy(v7, 6)
  v7[6] = (v7[6] & 0x0f) | 0x70
  v7[8] = (v7[8] & 0x3f) | 0x80
  return uuidFormat(v7)
}

const sha256 = typeof crypto.hash === 'function'
  ? (s) => crypto.hash('sha256', s, 'hex')
  : (s) => crypto.createHash('sha256').update(s).digest('hex')

// sessions_external_user_id: uuid_from_name("tessera:external-user:<org>",
// email) = SHA-256 of the namespace, its NUL and the name, marked version 8.
function externalUserId (orgId, email) {
  const d = crypto.createHash('sha256').update('tessera:external-user:' + orgId + '\0' + email).digest()
  d[6] = (d[6] & 0x0f) | 0x80
  d[8] = (d[8] & 0x3f) | 0x80
  return uuidFormat(d)
}

// ---- the data file (README.md: "The data file") ----
// A time of the data file: Unix seconds or an ISO 8601 string; null (or
// absent) gives `none`.
function seconds (v, what, none) {
  if (v === null || v === undefined) return none
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string') {
    const ms = Date.parse(v)
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000)
  }
  throw new Error(`${what}: expected Unix seconds, an ISO 8601 time or null, got ${JSON.stringify(v)}`)
}

function loadDirectory (file) {
  if (!file) throw new Error('BENCH_TOKENS_FILE is not set (the JSON data file, see bench/peers/README.md)')
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  const orgs = new Map()
  const groups = new Map() // org id -> Map(lower-case group id -> name)
  const tokens = new Map() // SHA-256 hex of the value -> token
  for (const o of doc.orgs || []) {
    if (typeof o.id !== 'string') throw new Error('orgs[].id must be a string')
    orgs.set(o.id, { id: o.id, name: o.name || '', type: o.type || '', session_ttl: o.session_ttl || 0 })
    groups.set(o.id, new Map())
  }
  for (const g of doc.groups || []) {
    const m = groups.get(g.org_id)
    if (m === undefined) throw new Error(`group ${g.id}: unknown org_id ${g.org_id}`)
    m.set(String(g.id).toLowerCase(), String(g.name))
  }
  for (const t of doc.tokens || []) {
    const hash = t.hash ? String(t.hash).toLowerCase() : (t.value ? sha256(t.value) : null)
    if (!hash || !/^[0-9a-f]{64}$/.test(hash)) throw new Error(`token ${t.id}: needs "hash" (SHA-256 hex of the value) or "value"`)
    if (!orgs.has(t.org_id)) throw new Error(`token ${t.id}: unknown org_id ${t.org_id}`)
    tokens.set(hash, {
      id: String(t.id),
      org_id: t.org_id,
      type: t.type || 'embed',
      expires_at: seconds(t.expires_at, `token ${t.id} expires_at`, Number.MAX_SAFE_INTEGER), // null: never
      revoked_at: seconds(t.revoked_at, `token ${t.id} revoked_at`, 0) // 0 or null: not revoked
    })
  }
  return { orgs, groups, tokens, counts: { orgs: orgs.size, tokens: tokens.size } }
}

// ---- the access token (domain/access_token.c, sessions_authenticate) ----
const ACCESS_TOKEN = /^ts[ea]_[A-Za-z0-9_-]{43}$/

function iso8601 (s) {
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function authenticate (dir, header, now) {
  if (header === undefined || header === null) {
    refuse('unauthorized', "missing Authorization header; send 'Authorization: Bearer <access token>'")
  }
  let h = header.replace(/^[ \t]+/, '')
  if (h === '') refuse('unauthorized', 'Authorization header is empty')
  if (h.length < 6 || h.slice(0, 6).toLowerCase() !== 'bearer' || (h.length > 6 && h[6] !== ' ')) {
    refuse('unauthorized', 'Authorization header must use the Bearer scheme')
  }
  h = h.slice(6).replace(/^ +/, '').replace(/[ \t]+$/, '')
  if (h === '') refuse('unauthorized', "Authorization header has no token after 'Bearer'")
  if (!ACCESS_TOKEN.test(h)) refuse('unauthorized', 'the Bearer token is not a Tessera access token')
  const tok = dir.tokens.get(sha256(h))
  if (tok === undefined) refuse('unauthorized', 'access token is not recognized')
  if (tok.revoked_at !== 0) refuse('unauthorized', 'access token has been revoked')
  if (tok.expires_at <= now) refuse('unauthorized', `access token expired at ${iso8601(tok.expires_at)}`)
  if (tok.type !== 'embed') {
    refuse('forbidden', `this endpoint needs an Embed access token; the token given is of type '${tok.type}'`)
  }
  if (!dir.orgs.has(tok.org_id)) refuse('unauthorized', 'access token is not recognized')
  return tok
}

// api_require_json (src/api/routes.c)
function requireJson (contentType) {
  if (typeof contentType === 'string') {
    const ct = contentType.replace(/^ +/, '')
    if (ct.length >= 16 && ct.slice(0, 16).toLowerCase() === 'application/json') {
      const c = ct[16]
      if (c === undefined || c === ';' || c === ' ') return
    }
  }
  refuse('unsupported_media_type', 'Content-Type must be application/json')
}

// ---- the strict parse (core/json.c json_parse_strict over jansson) ----
const INT64_MAX = 9223372036854775807n
const INT64_MIN = -9223372036854775808n

// Walks a text JSON.parse accepted, for what JSON.parse lets through and
// Tessera refuses: nesting deeper than 32, duplicate keys, \u0000, lone
// surrogates, integers beyond 64 bits and reals beyond a double. Returns
// the span [start, end) of the top-level "metadata" object, or null.
function strictScan (t) {
  const n = t.length
  const stack = [] // a Set of the keys seen for each open object, null for arrays
  let depth = 0
  let metaStart = -1
  let metaEnd = -1
  let metaNext = false // the next value is the top-level "metadata"
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i)
    if (c === 0x22) { // a string: a key or a value
      const start = i
      let escaped = false
      let lowPending = false
      for (i++; ; i++) {
        const d = t.charCodeAt(i)
        if (d === 0x22) break
        if (d !== 0x5c) {
          if (lowPending) refuse('invalid_request', `malformed JSON at offset ${i}`)
          continue
        }
        escaped = true
        i++
        if (t.charCodeAt(i) !== 0x75) { // \" \\ \/ \b \f \n \r \t
          if (lowPending) refuse('invalid_request', `malformed JSON at offset ${i}`)
          continue
        }
        const u = parseInt(t.substr(i + 1, 4), 16)
        i += 4
        if (u === 0) refuse('invalid_request', `malformed JSON at offset ${i - 5}`)
        if (u >= 0xdc00 && u <= 0xdfff) {
          if (!lowPending) refuse('invalid_request', `malformed JSON at offset ${i - 5}`)
          lowPending = false
        } else {
          if (lowPending) refuse('invalid_request', `malformed JSON at offset ${i - 5}`)
          lowPending = u >= 0xd800 && u <= 0xdbff
        }
      }
      if (lowPending) refuse('invalid_request', `malformed JSON at offset ${i}`)
      let j = i + 1
      while (j < n && (t.charCodeAt(j) === 0x20 || t.charCodeAt(j) === 0x0a || t.charCodeAt(j) === 0x0d || t.charCodeAt(j) === 0x09)) j++
      if (t.charCodeAt(j) === 0x3a) { // a key
        const key = escaped ? JSON.parse(t.slice(start, i + 1)) : t.slice(start + 1, i)
        const seen = stack[stack.length - 1]
        if (seen.has(key)) refuse('invalid_request', `duplicate object key in JSON at offset ${start}`)
        seen.add(key)
        if (depth === 1 && key === 'metadata') metaNext = true
        i = j
      } else if (metaNext) {
        metaNext = false
      }
      continue
    }
    if (c === 0x7b || c === 0x5b) { // { [
      if (metaNext) {
        metaNext = false
        if (c === 0x7b) metaStart = i
      }
      if (++depth > MAX_DEPTH) refuse('invalid_request', `JSON nested deeper than ${MAX_DEPTH} levels`)
      stack.push(c === 0x7b ? new Set() : null)
      continue
    }
    if (c === 0x7d || c === 0x5d) { // } ]
      stack.pop()
      depth--
      if (depth === 1 && metaStart >= 0 && metaEnd < 0) metaEnd = i + 1
      continue
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) { // a number
      const start = i
      let real = false
      while (i + 1 < n) {
        const d = t.charCodeAt(i + 1)
        if (d === 0x2e || d === 0x65 || d === 0x45) real = true
        else if (!(d === 0x2b || d === 0x2d || (d >= 0x30 && d <= 0x39))) break
        i++
      }
      metaNext = false
      if (!real && i + 1 - start >= 19) {
        const v = BigInt(t.slice(start, i + 1))
        if (v > INT64_MAX || v < INT64_MIN) refuse('invalid_request', `number out of range in JSON at offset ${start}`)
      } else if (real && !Number.isFinite(Number(t.slice(start, i + 1)))) {
        refuse('invalid_request', `malformed JSON at offset ${start}`) // jansson: real number overflow
      }
      continue
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) metaNext = false // true false null
  }
  return metaStart >= 0 ? [metaStart, metaEnd] : null
}

// A raw request body (a Buffer) to its parsed object and the byte length of
// its top-level "metadata" member's text.
function parseBody (buf) {
  if (buf === undefined || buf === null || buf.length === 0) {
    refuse('invalid_request', 'request body is empty; expected a JSON object')
  }
  if (buf.length > MAX_BODY) refuse('request_too_large', `request body is larger than ${MAX_BODY} bytes`)
  if (buf.indexOf(0) !== -1) refuse('invalid_request', 'request body contains a NUL byte')
  if (!isUtf8(buf)) refuse('invalid_request', 'invalid UTF-8 or escape in JSON')
  const text = buf.toString('utf8')
  let root
  try {
    root = JSON.parse(text)
  } catch (e) {
    refuse('invalid_request', `malformed JSON (${e.message})`)
  }
  const meta = strictScan(text)
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    refuse('invalid_request', 'request body must be a JSON object')
  }
  let metadataBytes = 0
  if (meta !== null) {
    const len = meta[1] - meta[0]
    // (under a third of the limit in characters it cannot be over it in bytes)
    metadataBytes = len * 3 <= MAX_METADATA ? len : Buffer.byteLength(text.slice(meta[0], meta[1]))
  }
  return { root, metadataBytes }
}

// ---- the token request (domain/token_request.c, domain/email.c) ----
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/
const ATEXT_PUNCT = "!#$%&'*+/=?^_`{|}~-"

function isAlnum (c) {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
}

// email_normalize: the same checks in the same order, then lower case.
function normalizeEmail (s) {
  const bad = (why) => refuse('invalid_request', `email is invalid: ${why}`)
  const n = s.length
  if (n === 0) bad('email is empty')
  if (n > 254 || (n > 84 && Buffer.byteLength(s) > 254)) bad('email is longer than 254 characters')
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) bad('email must be ASCII; internationalized addresses are not supported')
    if (c <= 0x20 || c === 0x7f) bad('email must not contain spaces or control characters')
  }
  const at = s.indexOf('@')
  if (at < 0) bad("email must contain '@'")
  if (s.indexOf('@', at + 1) >= 0 && s[0] !== '"') bad("email must contain exactly one '@'")
  // the local part
  if (at === 0 || at > 64) bad('email local part must be 1 to 64 characters')
  if (s[0] === '"') bad('email with a quoted local part is not supported')
  if (s[0] === '.' || s[at - 1] === '.') bad("email local part must not start or end with '.'")
  for (let i = 0; i < at; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2e && s.charCodeAt(i + 1) === 0x2e) bad("email local part must not contain '..'")
    if (c !== 0x2e && !isAlnum(c) && !ATEXT_PUNCT.includes(s[i])) {
      bad('email local part contains a character that is not allowed')
    }
  }
  // the domain
  let labels = 0
  let start = at + 1
  let numeric = true
  for (let i = start; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e
    if (i < n && c !== 0x2e) {
      if (!isAlnum(c) && c !== 0x2d) bad('email domain contains a character that is not allowed')
      continue
    }
    const len = i - start
    if (len === 0 || len > 63) bad('email domain has an empty or over-long label')
    if (s.charCodeAt(start) === 0x2d || s.charCodeAt(i - 1) === 0x2d) bad("email domain label must not start or end with '-'")
    numeric = true
    for (let j = start; j < i; j++) {
      const d = s.charCodeAt(j)
      if (d < 0x30 || d > 0x39) numeric = false
    }
    labels++
    start = i + 1
  }
  if (labels < 2) bad('email domain must have at least two labels')
  if (numeric) bad('email domain must not be an IP address')
  return s.toLowerCase()
}

const member = (root, key) => (root[key] === null ? undefined : root[key])

function parseTokenRequest (root, metadataBytes) {
  const req = { email: '', name: null, groupIds: [], metadata: undefined, platformUser: false, subjectToken: null }
  let v = member(root, 'email')
  if (v === undefined) refuse('invalid_request', 'email is required')
  if (typeof v !== 'string') refuse('invalid_request', 'email must be a string')
  req.email = normalizeEmail(v)

  v = member(root, 'name')
  if (v !== undefined) {
    if (typeof v !== 'string') refuse('invalid_request', 'name must be a string')
    if (v.length > MAX_NAME || (v.length * 3 > MAX_NAME && Buffer.byteLength(v) > MAX_NAME)) {
      refuse('invalid_request', `name is longer than ${MAX_NAME} bytes`)
    }
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i)
      if (c < 0x20 || c === 0x7f) refuse('invalid_request', 'name must not contain control characters')
    }
    if (v !== '') req.name = v
  }

  v = member(root, 'groupIds')
  if (v !== undefined) {
    if (!Array.isArray(v)) refuse('invalid_request', 'groupIds must be an array of group ids')
    if (v.length > MAX_GROUPS) refuse('invalid_request', `groupIds has more than ${MAX_GROUPS} entries`)
    for (let i = 0; i < v.length; i++) {
      const g = v[i]
      if (typeof g !== 'string') refuse('invalid_request', `groupIds[${i}] must be a string`)
      if (!UUID.test(g)) refuse('invalid_request', `groupIds[${i}] is not a group id (UUID)`)
      const lower = g.toLowerCase()
      if (!req.groupIds.includes(lower)) req.groupIds.push(lower)
    }
  }

  v = member(root, 'metadata')
  if (v !== undefined) {
    if (typeof v !== 'object' || Array.isArray(v)) refuse('invalid_request', 'metadata must be a JSON object')
    if (metadataBytes > MAX_METADATA) refuse('invalid_request', `metadata is larger than ${MAX_METADATA} bytes`)
    req.metadata = v
  }

  const a = member(root, 'isSuperblocksUser')
  const b = member(root, 'isSuperblocks')
  if (a !== undefined && typeof a !== 'boolean') refuse('invalid_request', 'isSuperblocksUser must be a boolean')
  if (b !== undefined && typeof b !== 'boolean') refuse('invalid_request', 'isSuperblocks must be a boolean')
  if (a !== undefined && b !== undefined && a !== b) refuse('invalid_request', 'isSuperblocksUser and isSuperblocks disagree')
  req.platformUser = a === true || b === true

  const st = member(root, 'subject_token')
  const stt = member(root, 'subject_token_type')
  if (st !== undefined || stt !== undefined) {
    if (st !== undefined && typeof st !== 'string') refuse('invalid_request', 'subject_token must be a string')
    if (stt !== undefined && typeof stt !== 'string') refuse('invalid_request', 'subject_token_type must be a string')
    if (st === undefined) refuse('invalid_request', 'subject_token_type was given without a subject_token')
    if (stt === undefined) {
      refuse('invalid_request', `subject_token_type is required with a subject_token (e.g. ${TOKEN_TYPES[0]})`)
    }
    if (!TOKEN_TYPES.includes(stt)) {
      refuse('invalid_request', `subject_token_type must be ${TOKEN_TYPES[0]}, ${TOKEN_TYPES[1]} or ${TOKEN_TYPES[2]}`)
    }
    const n = Buffer.byteLength(st)
    if (n === 0 || n > MAX_SUBJECT_TOKEN) refuse('invalid_request', `subject_token must be 1 to ${MAX_SUBJECT_TOKEN} bytes`)
    req.subjectToken = st
  }
  return req
}

// ---- the session claims (domain/sessions.c issue(), jwt/claims.c order) ----
function sessionClaims (dir, issuer, tok, req, now) {
  const org = dir.orgs.get(tok.org_id)
  if (org === undefined) refuse('unauthorized', 'access token is not recognized')
  // No identity provider is ever configured here (token_exchange_verify).
  if (req.subjectToken !== null) refuse('invalid_request', 'token exchange is not configured for this organization')
  const names = dir.groups.get(org.id)
  const groups = []
  let unknown = null
  for (const id of req.groupIds) {
    const name = names.get(id)
    if (name !== undefined) groups.push({ id, name })
    else (unknown || (unknown = [])).push(id)
  }
  if (unknown !== null) { // named as resolve_groups does, within its 256-byte message
    let list = ''
    for (const id of unknown) if (list.length + 40 < 256 - 40) list += (list ? ', ' : '') + id
    const detail = `unknown groupIds (not groups of this organization): ${list}${list.length + 80 >= 256 ? ', ...' : ''}`
    refuse('invalid_request', detail.slice(0, 255))
  }
  // No platform users are loaded: isSuperblocksUser finds nobody.
  if (req.platformUser) refuse('unauthorized', 'no platform user with this email in this organization')
  const userId = externalUserId(org.id, req.email)
  const ttl = org.session_ttl > 0 ? org.session_ttl : DEFAULT_TTL
  const c = {
    iss: issuer,
    aud: AUDIENCE,
    sub: userId,
    jti: uuidV7(),
    iat: now,
    nbf: now,
    exp: now + ttl,
    org_id: org.id,
    org_type: org.type || 'standard',
    user_email: req.email,
    user_id: userId
  }
  if (req.name !== null) c.user_name = req.name
  c.user_type = 'external'
  c.rbac_group_objects = groups
  c.atid = tok.id
  if (req.metadata !== undefined) c.metadata = req.metadata
  return { claims: c, expiresIn: ttl }
}

// The whole request up to the claims: what POST /api/v1/public/token does
// before it signs. Throws a Refusal.
function tokenRequest (ctx, authorization, contentType, body) {
  const now = Math.floor(Date.now() / 1000)
  const tok = authenticate(ctx.dir, authorization, now)
  requireJson(contentType)
  const { root, metadataBytes } = parseBody(body)
  const req = parseTokenRequest(root, metadataBytes)
  return sessionClaims(ctx.dir, ctx.issuer, tok, req, now)
}

// ---- start-up: a primary and N workers sharing 127.0.0.1:$PORT ----
// The primary loads and checks the data file, generates the P-256 key and
// hands it to the workers over IPC; start(ctx) in each worker must listen
// on ctx.host:ctx.port. When every worker listens, the primary prints
// "listening on http://HOST:PORT" on stderr.
function run (label, start) {
  const host = process.env.HOST || '127.0.0.1'
  const port = Number(process.env.PORT || 0)
  if (cluster.isPrimary) {
    let dir
    try {
      dir = loadDirectory(process.env.BENCH_TOKENS_FILE)
    } catch (e) {
      console.error(`${label}: ${e.message}`)
      process.exit(2)
    }
    const workers = Number(process.env.BENCH_WORKERS || 2)
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const kid = 'ts-' + crypto.randomBytes(9).toString('base64url')
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }
    const setup = {
      pem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      kid,
      jwks: { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' }] }
    }
    let listening = 0
    let stopping = false
    cluster.on('message', (w, m) => { if (m && m.want === 'setup') w.send({ setup }) })
    cluster.on('listening', (w, address) => {
      if (++listening === workers) {
        console.error(`${label}: ${workers} workers, ${dir.counts.orgs} orgs, ${dir.counts.tokens} access tokens`)
        console.error(`listening on http://${host}:${address.port}`)
      }
    })
    cluster.on('exit', (w, code, signal) => {
      if (!stopping) {
        console.error(`${label}: worker ${w.process.pid} exited (${signal || code}); stopping`)
        stop(1)
      } else if (Object.keys(cluster.workers).length === 0) {
        process.exit(0)
      }
    })
    const stop = (code) => {
      if (stopping) return
      stopping = true
      process.exitCode = code
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM')
      setTimeout(() => process.exit(code), 2000).unref()
    }
    process.on('SIGTERM', () => stop(0))
    process.on('SIGINT', () => stop(0))
    for (let i = 0; i < workers; i++) cluster.fork()
    return
  }
  process.on('SIGTERM', () => process.exit(0)) // a clean exit (node --cpu-prof writes its profile)
  process.once('message', ({ setup }) => {
    const dir = loadDirectory(process.env.BENCH_TOKENS_FILE)
    const issuer = process.env.BENCH_ISSUER || `http://${host}:${port}`
    const privateKey = crypto.createPrivateKey(setup.pem)
    start({ dir, issuer, host, port, pem: setup.pem, privateKey, kid: setup.kid, jwks: setup.jwks })
  })
  process.send({ want: 'setup' })
}

module.exports = {
  Refusal,
  refusalReply,
  okHeaders,
  tokenRequest,
  run,
  MAX_BODY,
  // for check.js
  externalUserId,
  loadDirectory,
  parseBody,
  parseTokenRequest
}
