'use strict';
// Forged and tampered session tokens against GET /api/v1/me (and the embed session endpoint):
// every one is 401 with the JSON error of docs/API.md, leaks nothing, writes nothing, and the
// server stays healthy. Tokens "signed with the server key" use the key an insider would take
// from the database and the master key file (lib.serverKey), so the claim checks are tested
// behind a signature that verifies.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const s = require('./lib');

describe('forged session tokens', { timeout: 120000 }, () => {
  let w;
  let key; // the server's signing key {kid, privateKey, publicJwk}
  let claims; // the claims of a real session of org A
  let hdr; // the header of a real session token
  let canary;

  before(async () => {
    w = await s.World.start();
    key = s.serverKey(w.env);
    ({ header: hdr, claims } = s.decode(w.good));
    canary = await s.canary();
  });
  after(async () => {
    if (canary) await canary.close();
    if (w) await w.close();
  });

  // A token signed with the server's own key: header and claims changed by the case.
  const signed = (h, c) => s.es256(key.privateKey, { ...hdr, ...h }, { ...claims, ...c });
  const now = () => Math.floor(Date.now() / 1000);

  // GET /api/v1/me with `token` is 401, leaks nothing and writes nothing.
  function refusedByMe(token, { headers } = {}) {
    s.secret(token);
    return w.attack(
      () => w.me(token, headers),
      (res) => s.assertError(res, 401, { extra: [token] }),
    );
  }

  it('alg "none" with an empty signature', async () => {
    await refusedByMe(s.compact({ ...hdr, alg: 'none' }, claims, ''));
  });

  it('alg "None" / "NONE" with the real signature kept', async () => {
    const sig = w.good.split('.')[2];
    await refusedByMe(s.compact({ ...hdr, alg: 'None' }, claims, sig));
    await refusedByMe(s.compact({ ...hdr, alg: 'NONE' }, claims, ''));
  });

  it('HS256 keyed with the server public key (algorithm confusion)', async () => {
    const jwksRes = await s.h.httpRequest(`${w.url}/.well-known/jwks.json`);
    const jwk = jwksRes.json.keys.find((k) => k.kid === key.kid);
    const pem = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secretKey of [pem, JSON.stringify(jwk), Buffer.from(jwk.x, 'base64url')]) {
      await refusedByMe(s.hs256(secretKey, { ...hdr, alg: 'HS256' }, claims));
    }
  });

  it('ECDSA signature r = s = 0', async () => {
    await refusedByMe(s.compact(hdr, claims, Buffer.alloc(64)));
  });

  it('ECDSA signature r = s = n (the group order) and r = n, s = 1', async () => {
    await refusedByMe(s.compact(hdr, claims, Buffer.concat([s.P256_N, s.P256_N])));
    const one = Buffer.alloc(32);
    one[31] = 1;
    await refusedByMe(s.compact(hdr, claims, Buffer.concat([s.P256_N, one])));
  });

  it('the real signature in DER form, truncated, or one byte longer', async () => {
    const raw = Buffer.from(w.good.split('.')[2], 'base64url');
    const der = crypto.sign('sha256', Buffer.from(w.good.split('.').slice(0, 2).join('.')), { key: key.privateKey, dsaEncoding: 'der' });
    const [hs, ps] = w.good.split('.');
    await refusedByMe(`${hs}.${ps}.${s.b64u(der)}`);
    await refusedByMe(`${hs}.${ps}.${s.b64u(raw.subarray(0, 63))}`);
    await refusedByMe(`${hs}.${ps}.${s.b64u(Buffer.concat([raw, Buffer.from([0])]))}`);
  });

  it('a signature by another P-256 key under the server kid', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await refusedByMe(s.es256(privateKey, hdr, claims));
  });

  it('a kid that names no key', async () => {
    await refusedByMe(signed({ kid: 'no-such-kid' }, {}));
    const noKid = { ...hdr };
    delete noKid.kid;
    await refusedByMe(s.es256(key.privateKey, noKid, claims));
  });

  it('kid with path traversal and SQL injection', async () => {
    for (const kid of ['../../../../etc/passwd', `../${key.kid}`, "' OR '1'='1", `${key.kid}' --`, `${key.kid}\u0000x`, 'x'.repeat(5000)]) {
      await refusedByMe(signed({ kid }, {}));
    }
  });

  it('jku, x5u and an embedded jwk header pointing at the attacker (never fetched, never trusted)', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const forged = [
      s.es256(privateKey, { ...hdr, jku: `${canary.url}/jwks.json` }, claims),
      s.es256(privateKey, { ...hdr, x5u: `${canary.url}/cert.pem` }, claims),
      s.es256(privateKey, { ...hdr, jwk }, claims),
      s.es256(privateKey, { alg: 'ES256', typ: 'JWT', jwk, kid: 'attacker' }, claims),
    ];
    for (const t of forged) await refusedByMe(t);
    assert.equal(canary.hits, 0, `the server contacted the attacker's URL: ${canary.lines}`);
  });

  it('payload tampering: another org, another email, a later exp (signature kept)', async () => {
    const sig = w.good.split('.')[2];
    for (const c of [{ org_id: w.B.orgId }, { user_email: 'ceo@a-corp.example' }, { exp: claims.exp + 3600 }]) {
      await refusedByMe(s.compact(hdr, { ...claims, ...c }, sig));
    }
  });

  it('signature stripping: two segments, an empty signature, four segments', async () => {
    const [hs, ps, ss] = w.good.split('.');
    for (const t of [`${hs}.${ps}`, `${hs}.${ps}.`, `${hs}.${ps}.${ss}.${ss}`, `${hs}..${ss}`]) {
      await refusedByMe(t);
    }
  });

  it('base64 padding and characters outside base64url', async () => {
    const [hs, ps, ss] = w.good.split('.');
    const std = (seg) => Buffer.from(seg, 'base64url').toString('base64'); // "+", "/" and "=" padding
    const variants = [
      `${hs}==.${ps}.${ss}`,
      `${hs}.${ps}.${ss}=`,
      `${std(hs)}.${std(ps)}.${std(ss)}`,
      `${hs}.${ps}.${ss.slice(0, 10)}*${ss.slice(11)}`,
      `${hs}.${ps} .${ss}`,
      `${hs}.${ps}.${ss.slice(0, -1)}`,
    ];
    // The standard alphabet must be refused even when it happens to differ from base64url only
    // in padding; make sure at least one variant has "+" or "/".
    let guaranteed = null;
    for (let i = 0; i < 50 && !guaranteed; i++) {
      const t = signed({}, { jti: crypto.randomUUID() });
      const [h2, p2, s2] = t.split('.');
      if (/[-_]/.test(s2)) guaranteed = `${h2}.${p2}.${std(s2).replace(/=+$/, '')}`;
    }
    assert.ok(guaranteed, 'no signature with - or _ in 50 tries');
    variants.push(guaranteed);
    for (const t of variants) await refusedByMe(t);
  });

  it('duplicate keys in the header (alg) and in the payload (org_id), validly signed', async () => {
    const input1 = `${s.enc(`{"alg":"ES256","kid":${JSON.stringify(key.kid)},"typ":"JWT","kid":"other"}`)}.${s.enc(claims)}`;
    const payloadText = JSON.stringify(claims).replace(/}$/, `,"org_id":${JSON.stringify(w.B.orgId)}}`);
    const input2 = `${s.enc(hdr)}.${s.enc(payloadText)}`;
    for (const input of [input1, input2]) {
      const sig = crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
      await refusedByMe(`${input}.${s.b64u(sig)}`);
    }
  });

  it('huge and non-integer exp: beyond 64 bits, a float, a string, (validly signed)', async () => {
    const payload = (expText) => JSON.stringify({ ...claims, exp: 0 }).replace('"exp":0', `"exp":${expText}`);
    for (const expText of ['99999999999999999999999', '1e400', `${now() + 3600}.5`, `"${now() + 3600}"`, '-9223372036854775808']) {
      const input = `${s.enc(hdr)}.${s.enc(payload(expText))}`;
      const sig = crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
      await refusedByMe(`${input}.${s.b64u(sig)}`);
    }
  });

  it('missing exp (validly signed)', async () => {
    const c = { ...claims };
    delete c.exp;
    await refusedByMe(s.es256(key.privateKey, hdr, c));
  });

  it('expired beyond the skew (validly signed)', async () => {
    await refusedByMe(signed({}, { iat: now() - 7200, nbf: now() - 7200, exp: now() - 60 }));
  });

  it('not yet valid: nbf an hour ahead (validly signed)', async () => {
    await refusedByMe(signed({}, { nbf: now() + 3600, iat: now() + 3600 }));
  });

  it('wrong iss: another host, a trailing slash, absent (validly signed)', async () => {
    await refusedByMe(signed({}, { iss: 'https://evil.example' }));
    await refusedByMe(signed({}, { iss: `${claims.iss}/` }));
    const c = { ...claims };
    delete c.iss;
    await refusedByMe(s.es256(key.privateKey, hdr, c));
  });

  it('wrong aud: another audience, an array without ours, absent (validly signed)', async () => {
    await refusedByMe(signed({}, { aud: 'tessera:admin' }));
    await refusedByMe(signed({}, { aud: ['other', 'tessera:session '] }));
    const c = { ...claims };
    delete c.aud;
    await refusedByMe(s.es256(key.privateKey, hdr, c));
  });

  it('an org that does not exist, and an access token id that does not exist (validly signed)', async () => {
    await refusedByMe(signed({}, { org_id: crypto.randomUUID() }));
    await refusedByMe(signed({}, { atid: crypto.randomUUID() }));
  });

  it("another org's session token opening org A's app in the embed page", async () => {
    const other = await w.issue(w.B, { email: 'spy@b-corp.example', groupIds: [w.B.viewers.id] });
    await w.attack(
      () => w.embedSession(other, w.A.app.id),
      (res) => s.assertError(res, 403, { embedCode: 'forbidden', extra: [other] }),
    );
  });

  it("a session whose groups do not grant the app (apps:view) opening it in the embed page", async () => {
    await w.attack(
      () => w.embedSession(w.good, w.A.hidden.id),
      (res) => s.assertError(res, 403, { embedCode: 'forbidden' }),
    );
  });

  it('a forged token in the embed page: 401 with code "invalid"', async () => {
    const t = s.compact({ ...hdr, alg: 'none' }, claims, '');
    await w.attack(
      () => w.embedSession(t, w.A.app.id),
      (res) => s.assertError(res, 401, { embedCode: 'invalid', extra: [t] }),
    );
  });
});
