'use strict';
// Brute force on credentials: access tokens, session tokens and console passwords. The server
// trusts 127.0.0.1 as a proxy (--trust-proxy), so each attack comes from its own X-Forwarded-For
// address the way it would through a reverse proxy (loopback itself is exempt from the
// failed-authentication limit, docs/API.md#limits). The limit must kick in (429 with
// Retry-After), even the right credential must then be refused from that address (nothing is
// learned), and a wrong token that shares a long prefix with a real one must get exactly the
// reply of a completely wrong one (the compare is constant time: src/domain/access_token.c
// looks tokens up by SHA-256, so no prefix of the stored value is ever compared).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const s = require('./lib');

const FAILURES_ALLOWED = 30; // docs/API.md: more than 30 within 60 s -> 429

describe('brute force', { timeout: 120000 }, () => {
  let w;
  let addr = 0;
  // A fresh client address per case (TEST-NET-3), so the cases do not share a window.
  const nextAddr = () => `203.0.113.${++addr}`;
  before(async () => {
    w = await s.World.start({ serverArgs: ['--trust-proxy', '127.0.0.1'] });
  });
  after(async () => {
    if (w) await w.close();
  });

  function assertLimited(res, what, windowSeconds = 60) {
    s.assertError(res, 429, { what });
    const retry = Number(s.header(res, 'retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= windowSeconds, `${what}: Retry-After ${s.header(res, 'retry-after')}`);
  }

  it('guessing Embed access tokens: 401 thirty times, then 429 with Retry-After, even for the real token', async () => {
    const from = { 'x-forwarded-for': nextAddr() };
    await w.attack(
      async () => {
        const replies = [];
        for (let i = 0; i < FAILURES_ALLOWED; i++) {
          replies.push(await s.h.postToken(w.url, `tse_${crypto.randomBytes(32).toString('base64url')}`, { email: 'x@customer.example' }, { headers: from }));
        }
        const over = await s.h.postToken(w.url, `tse_${crypto.randomBytes(32).toString('base64url')}`, { email: 'x@customer.example' }, { headers: from });
        const real = await s.h.postToken(w.url, w.A.embedToken, { email: 'x@customer.example' }, { headers: from });
        const elsewhere = await s.h.postToken(w.url, `tse_${crypto.randomBytes(32).toString('base64url')}`, { email: 'x@customer.example' }, { headers: { 'x-forwarded-for': nextAddr() } });
        return { replies, over, real, elsewhere };
      },
      ({ replies, over, real, elsewhere }) => {
        replies.forEach((r, i) => s.assertError(r, 401, { what: `guess ${i + 1}` }));
        assertLimited(over, 'guess 31');
        assertLimited(real, 'the real token from the attacking address');
        s.assertError(elsewhere, 401, { what: 'a guess from another address' });
      },
    );
  });

  it('wrong tokens sharing a long prefix with the real one get the reply of a completely wrong one', async () => {
    const real = w.A.embedToken;
    const flip = (c) => (c === 'A' ? 'B' : 'A');
    const random = (n) => `tse_${crypto.randomBytes(n).toString('base64url')}`.slice(0, n);
    // Same length as the real token: these must all get the very same reply.
    const guesses = [
      random(real.length), // completely wrong
      real.slice(0, -1) + flip(real.slice(-1)), // all but the last character
      real.slice(0, -8) + 'AAAAAAAA', // all but the last 8
      real.slice(0, 12) + 'A'.repeat(real.length - 12), // only the start
      `tsa_${real.slice(4)}`, // the right random part with the admin prefix
    ];
    // Other lengths are refused by shape; they must get the reply of a random token of that length.
    const offLength = [[real + 'A', random(real.length + 1)], [real.slice(0, -1), random(real.length - 1)]];
    await w.attack(
      async () => ({
        replies: await Promise.all(guesses.map((g) => s.h.postToken(w.url, g, { email: 'x@customer.example' }))),
        pairs: await Promise.all(offLength.map((pair) => Promise.all(pair.map((g) => s.h.postToken(w.url, g, { email: 'x@customer.example' }))))),
      }),
      ({ replies, pairs }) => {
        const reference = replies[0];
        s.assertError(reference, 401, { extra: guesses });
        replies.forEach((r, i) => {
          s.assertError(r, 401, { extra: guesses, what: `guess ${i}` });
          assert.equal(r.text, reference.text, `guess ${i} is told apart from a completely wrong token`);
          assert.equal(s.header(r, 'www-authenticate'), s.header(reference, 'www-authenticate'));
        });
        pairs.forEach(([near, far], i) => {
          s.assertError(near, 401, { extra: [real] });
          assert.equal(near.text, far.text, `off-length guess ${i} is told apart from a random token of its length`);
        });
      },
    );
  });

  it('guessing session tokens on /api/v1/me: 429 after thirty failures, then even a valid session is refused', async () => {
    const from = { 'x-forwarded-for': nextAddr() };
    const [hs, ps] = w.good.split('.');
    await w.attack(
      async () => {
        const replies = [];
        for (let i = 0; i < FAILURES_ALLOWED; i++) replies.push(await w.me(`${hs}.${ps}.${crypto.randomBytes(64).toString('base64url')}`, from));
        return { replies, over: await w.me(w.good, from) };
      },
      ({ replies, over }) => {
        replies.forEach((r, i) => s.assertError(r, 401, { what: `guess ${i + 1}` }));
        assertLimited(over, 'a valid session from the attacking address');
      },
    );
  });

  it('guessing admin tokens on the admin API is limited the same way', async () => {
    const from = { 'x-forwarded-for': nextAddr() };
    await w.attack(
      async () => {
        const replies = [];
        for (let i = 0; i < FAILURES_ALLOWED; i++) replies.push(await w.admin(w.A, 'GET', '/access-tokens', undefined, { token: `tsa_${crypto.randomBytes(32).toString('base64url')}`, headers: from }));
        return { replies, over: await w.admin(w.A, 'GET', '/access-tokens', undefined, { headers: from }) };
      },
      ({ replies, over }) => {
        replies.forEach((r, i) => s.assertError(r, 401, { what: `guess ${i + 1}` }));
        assertLimited(over, 'the real admin token from the attacking address');
      },
    );
  });

  it('guessing a console password: 429 after 5 failures for the email, then the right password is refused too', async () => {
    const email = w.B.users.developer.email;
    const login = (password) =>
      s.h.httpRequest(`${w.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': nextAddr() },
        body: JSON.stringify({ email, password }),
      });
    await w.attack(
      async () => {
        const replies = [];
        for (let i = 0; i < 5; i++) replies.push(await login(`wrong password ${i}`));
        return { replies, over: await login('still wrong'), right: await login(s.PASSWORD) };
      },
      ({ replies, over, right }) => {
        replies.forEach((r, i) => s.assertError(r, 401, { what: `password ${i + 1}` }));
        assertLimited(over, 'the sixth wrong password', 900);
        assertLimited(right, 'the right password after the limit', 900);
      },
      // Failed sign-ins are audited (who tried which account, from where): allowed, nothing else.
      { allow: [{ table: 'audit_events', match: (r) => /login|sign/i.test(r) && r.includes(w.B.orgId) }] },
    );
  });
});
