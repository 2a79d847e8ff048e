'use strict';
// Hostile bodies on POST /api/v1/public/token: oversized and deeply nested JSON, invalid UTF-8
// and NUL bytes, big numbers, duplicate keys, email edge cases, metadata that tries to set
// reserved claims, foreign groups, wrong token types. A refused request with a valid Embed token
// writes exactly one audit row, its session.denied event (docs/API.md: "A refused request writes
// nothing" but the audit of the refusal); anything else written fails the case.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const s = require('./lib');

describe('hostile token requests', { timeout: 120000 }, () => {
  let w;
  before(async () => {
    w = await s.World.start();
  });
  after(async () => {
    if (w) await w.close();
  });

  // POST the body (object, or raw string/Buffer) with org A's Embed token; expect `status`, the
  // error body, and only the session.denied audit event (none when `denied` is false).
  function refused(body, status, { token, contentType, headers, denied = true, match } = {}) {
    const opts = { headers };
    if (contentType !== undefined) opts.contentType = contentType;
    return w.attack(
      () => s.h.postToken(w.url, token || w.A.embedToken, body, opts),
      (res) => {
        s.assertError(res, status);
        if (match) assert.match(res.json.error_description, match);
      },
      { allow: denied ? [s.DENIED(w.A.orgId)] : [] },
    );
  }

  // The rows a successful token request writes: its session and its session.issued event.
  const ISSUED = [
    { table: 'sessions', exact: 1 },
    { table: 'audit_events', match: (r) => r.includes('session.issued'), exact: 1 },
  ];

  it('a body of 64 KiB + 1 byte (Content-Length) -> 413', async () => {
    const body = JSON.stringify({ email: 'big@customer.example', name: 'x' }).replace('"x"', `"${'x'.repeat(65537)}"`);
    await refused(body, 413, { denied: false });
  });

  it('a 1 MiB chunked body -> 413 as it arrives, and no token', async () => {
    const u = new URL(w.url);
    const start = '{"email":"x@customer.example","name":"';
    const pieces = [
      `POST /api/v1/public/token HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${w.A.embedToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${start.length.toString(16)}\r\n${start}\r\n`,
    ];
    for (let i = 0; i < 64; i++) pieces.push(`4000\r\n${'a'.repeat(0x4000)}\r\n`);
    pieces.push('0\r\n\r\n');
    // Refused by the HTTP layer before the handler runs: not even a session.denied event.
    await w.attack(() => s.h.rawRequest(w.url, pieces), (res) => s.assertError(res, 413));
  });

  it('metadata nested 33 levels -> 400 naming the depth', async () => {
    let meta = '1';
    for (let i = 0; i < 32; i++) meta = `{"a":${meta}}`;
    await refused(`{"email":"deep@customer.example","metadata":${meta}}`, 400);
  });

  it('100 000 levels of nested arrays (stack exhaustion) -> 400', async () => {
    const body = `{"email":"deep@customer.example","metadata":{"a":${'['.repeat(30000)}${']'.repeat(30000)}}}`;
    await refused(body, 400);
    await refused('['.repeat(60000), 400);
  });

  it('invalid UTF-8 in the email and in the name -> 400', async () => {
    // JSON text with raw bytes in the middle of a string.
    const withBytes = (before, bytes, rest) => Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(rest)]);
    await refused(withBytes('{"email":"u', [0xc3, 0x28], '@customer.example"}'), 400); // a broken sequence
    await refused(withBytes('{"email":"ok@customer.example","name":"', [0xed, 0xa0, 0x80], '"}'), 400); // an encoded surrogate
    await refused(withBytes('{"email":"ok@customer.example","name":"', [0xc0, 0xaf], '"}'), 400); // an overlong "/"
  });

  it('invalid UTF-8 and a lone surrogate escape in metadata -> 400', async () => {
    await refused(Buffer.concat([Buffer.from('{"email":"m@customer.example","metadata":{"k":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]), 400);
    await refused('{"email":"m@customer.example","metadata":{"k":"\\ud800"}}', 400);
  });

  it('\\u0000 in the email, the name and a metadata key -> 400', async () => {
    await refused('{"email":"nul\\u0000@customer.example"}', 400);
    await refused('{"email":"nul@customer.example","name":"a\\u0000b"}', 400);
    await refused('{"email":"nul@customer.example","metadata":{"a\\u0000b":1}}', 400);
  });

  it('a raw NUL byte in the body -> 400', async () => {
    await refused(Buffer.concat([Buffer.from('{"email":"nul@customer.example"'), Buffer.from([0]), Buffer.from(',"name":"x"}')]), 400);
  });

  it('metadata integers beyond 64 bits and reals out of range -> 400', async () => {
    for (const n of ['18446744073709551616', '-9223372036854775809', '1e400', '123456789012345678901234567890']) {
      await refused(`{"email":"n@customer.example","metadata":{"n":${n}}}`, 400);
    }
  });

  it('64-bit edge integers in metadata are kept byte for byte (200)', async () => {
    const meta = '{"max":9223372036854775807,"min":-9223372036854775808}';
    const res = await w.attack(
      () => s.h.postToken(w.url, w.A.embedToken, `{"email":"edge@customer.example","metadata":${meta}}`),
      (r) => assert.equal(r.status, 200, r.text),
      { allow: ISSUED },
    );
    const payloadText = Buffer.from(s.secret(res.json.access_token).split('.')[1], 'base64url').toString('utf8');
    assert.ok(payloadText.includes(`"metadata":${meta}`), payloadText);
  });

  it('duplicate keys: email twice, metadata key twice -> 400', async () => {
    await refused('{"email":"a@customer.example","email":"b@customer.example"}', 400, { match: /duplicate/i });
    await refused('{"email":"a@customer.example","metadata":{"isAdmin":false,"isAdmin":true}}', 400, { match: /duplicate/i });
  });

  it('not a JSON object: an array, a string, null, trailing garbage -> 400', async () => {
    for (const body of ['[]', '"x@customer.example"', 'null', '{"email":"a@customer.example"} {}', '']) await refused(body, 400);
  });

  it('email: Unicode look-alikes (Cyrillic, fullwidth @, dotless i) -> 400', async () => {
    for (const email of ['good.user@customer.ex\u0430mple', 'good.user\uff20customer.example', 'admın@a-corp.example', 'good.user@customer.example\u200b']) {
      await refused({ email }, 400);
    }
  });

  it('email: quoted local parts and IP-literal domains -> 400', async () => {
    for (const email of ['"good.user"@customer.example', '"a@b"@customer.example', 'x@[127.0.0.1]', 'x@[IPv6:::1]']) {
      await refused({ email }, 400);
    }
  });

  it('email: CR/LF, spaces, a single-label domain, over-long parts -> 400', async () => {
    for (const email of ['a@customer.example\r\nBcc: x@y.example', 'a b@customer.example', 'a@localhost', `${'a'.repeat(65)}@customer.example`, `a@${'b'.repeat(250)}.example`, 'a@@customer.example', '@customer.example']) {
      await refused({ email }, 400);
    }
  });

  it('email case: GOOD.USER@CUSTOMER.EXAMPLE is the same user, lower-cased in the token', async () => {
    const res = await w.attack(
      () => s.h.postToken(w.url, w.A.embedToken, { email: 'GOOD.User@Customer.EXAMPLE', groupIds: [w.A.viewers.id] }),
      (r) => assert.equal(r.status, 200, r.text),
      { allow: ISSUED },
    );
    const t = s.secret(res.json.access_token);
    const c = s.decode(t).claims;
    assert.equal(c.user_email, 'good.user@customer.example');
    assert.equal(c.sub, s.decode(w.good).claims.sub);
  });

  it('metadata setting reserved claims stays nested under "metadata"', async () => {
    const evil = { iss: 'https://evil.example', aud: 'tessera:admin', exp: 4102444800, org_id: w.B.orgId, user_email: 'ceo@a-corp.example', rbac_role: 'owner', sub: 'root', atid: w.B.embedTokenId };
    const res = await w.attack(
      () => s.h.postToken(w.url, w.A.embedToken, { email: 'meta@customer.example', metadata: evil }),
      (r) => assert.equal(r.status, 200, r.text),
      { allow: ISSUED },
    );
    const t = s.secret(res.json.access_token);
    const { claims } = s.decode(t);
    assert.deepEqual(claims.metadata, evil);
    assert.equal(claims.org_id, w.A.orgId);
    assert.equal(claims.user_email, 'meta@customer.example');
    assert.notEqual(claims.iss, evil.iss);
    assert.equal(claims.aud, 'tessera:session');
    assert.ok(claims.exp < evil.exp);
    assert.equal(claims.rbac_role, undefined);
    assert.equal(claims.atid, w.A.embedTokenId);
    const me = await w.me(t);
    assert.equal(me.status, 200);
    assert.equal(me.json.data.org_id, w.A.orgId);
  });

  it('metadata over 8 KiB and name over 200 bytes or with control characters -> 400', async () => {
    await refused({ email: 'm@customer.example', metadata: { k: 'x'.repeat(8200) } }, 400);
    await refused({ email: 'm@customer.example', name: 'x'.repeat(201) }, 400);
    await refused({ email: 'm@customer.example', name: 'Eve\u001b[31m' }, 400);
  });

  it("groupIds of another organization, unknown, or SQL -> 400 naming them", async () => {
    await refused({ email: 'g@customer.example', groupIds: [w.B.viewers.id] }, 400, { match: new RegExp(w.B.viewers.id) });
    await refused({ email: 'g@customer.example', groupIds: ["' OR 1=1 --"] }, 400);
    await refused({ email: 'g@customer.example', groupIds: Array.from({ length: 101 }, () => w.A.viewers.id) }, 400);
  });

  it('isSuperblocksUser for the owner of another organization -> 401', async () => {
    await refused({ email: w.B.users.owner.email, isSuperblocksUser: true }, 401);
  });

  it('an admin access token on the public token endpoint -> 403', async () => {
    await refused({ email: 'x@customer.example' }, 403, { token: w.A.adminToken, denied: false });
  });

  it('a form-encoded or text/plain body (a cross-site form post) -> 415', async () => {
    await refused('email=x%40customer.example', 415, { contentType: 'application/x-www-form-urlencoded', denied: false });
    await refused('{"email":"x@customer.example"}', 415, { contentType: 'text/plain', denied: false });
  });
});
