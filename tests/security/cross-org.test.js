'use strict';
// Cross-organization access on every admin endpoint (the routes are read from src/api/routes.c,
// so a new endpoint is covered without touching this file). For each one, org A's owner tries to
// reach org B, three ways: A's admin token on B's organization id with B's resource ids, A's
// admin token on A's own id with B's resource ids (when the route names a resource), and A's
// console session (cookie + CSRF token) on B's id. docs/API.md: "another organization's id, or
// any resource of another organization, is 404 -- as if it did not exist". Each must be 404
// with the JSON error, reveal nothing of B, and write nothing (B's data unchanged).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const s = require('./lib');

const ORG_PREFIX = '/api/v1/organizations/{org}';
const ROUTES = s.routesFromSource().filter((r) => r.pattern.startsWith(ORG_PREFIX));

// A plausible body for each write, so a refusal cannot be blamed on validation.
function bodyFor(method, pattern) {
  if (method === 'GET' || method === 'DELETE') return undefined;
  const tail = pattern.slice(ORG_PREFIX.length);
  const bodies = [
    [/^\/access-tokens$/, { name: 'pwned', type: 'admin' }],
    [/^\/access-tokens\/\{id\}$/, { rate_limit: 'off' }],
    [/^\/groups$/, { name: 'pwned' }],
    [/^\/groups\/\{group\}$/, { name: 'pwned' }],
    [/\/members$/, { email: 'attacker@a-corp.example', role: 'owner', name: 'x', password: 'a long passphrase here' }],
    [/\/permissions$/, { app_id: '{app}', permission: 'apps:view', granted: true }],
    [/^\/applications$/, { name: 'pwned', mode: 'public' }],
    [/^\/applications\/\{app\}$/, { allowed_origins: ['https://evil.example'], mode: 'public' }],
    [/\/versions$/, { files: [{ path: 'index.html', content_base64: Buffer.from('<h1>pwned</h1>').toString('base64') }] }],
    [/^\/members\/\{user\}$/, { role: 'owner' }],
    [/^\/idps/, { name: 'Evil', issuer: 'https://evil.example', jwks_uri: 'https://evil.example/jwks' }],
    [/^\/integrations/, { name: 'Evil', base_url: 'https://evil.example', token_url: 'https://evil.example/token', client_id: 'x', client_secret: 'y' }],
    [/^\/webhooks$|^\/webhooks\/\{webhook\}$/, { url: 'https://evil.example/hook', enabled: true }],
    [/\/sessions\/revoke$/, { email: 'good.user@customer.example' }],
  ];
  for (const [re, body] of bodies) if (re.test(tail)) return body;
  return {};
}

describe('cross-organization access on every admin endpoint', { timeout: 150000 }, () => {
  let w;
  let ids; // org B's resource ids by path parameter name
  let idsA;
  let consoleA; // org A owner's console session

  before(async () => {
    w = await s.World.start();
    const B = w.B;
    const create = async (p, body) => {
      const res = await w.admin(B, 'POST', p, body);
      assert.equal(res.status, 201, `seeding B ${p}: ${res.status} ${res.text}`);
      if (res.json.data.secret) s.secret(res.json.data.secret);
      return res.json.data.id;
    };
    ids = {
      id: B.embedTokenId,
      group: B.viewers.id,
      app: B.app.id,
      user: B.users.member.id,
      idp: await create('/idps', { name: 'B IdP', issuer: 'https://idp.b-corp.example', jwks_uri: 'https://idp.b-corp.example/jwks' }),
      integration: await create('/integrations', { name: 'B API', base_url: 'https://api.b-corp.example', token_url: 'https://idp.b-corp.example/token', client_id: 'b-client', client_secret: 'b-client-secret-0123456789' }),
      webhook: await create('/webhooks', { url: 'https://hooks.b-corp.example/tessera', enabled: false }),
    };
    idsA = { group: w.A.viewers.id, app: w.A.app.id };
    consoleA = await s.consoleLogin(w.url, w.A.users.owner.email);
  });
  after(async () => {
    if (w) await w.close();
  });

  // The path of `pattern` for organization `orgId` with resource ids from `res`.
  const pathOf = (pattern, orgId, res) =>
    pattern.replace('{org}', orgId).replace(/\{(\w+)\}/g, (all, name) => {
      assert.ok(res[name], `no id for {${name}} in ${pattern}`);
      return res[name];
    });
  const withIds = (body, res) => (body === undefined ? undefined : JSON.parse(JSON.stringify(body).replace(/"\{(\w+)\}"/g, (all, n) => JSON.stringify(res[n]))));

  for (const { method, pattern } of ROUTES) {
    it(`${method} ${pattern.slice(ORG_PREFIX.length) || '/'}: org A cannot reach org B`, async () => {
      const body = bodyFor(method, pattern);
      const bSecrets = [w.B.adminToken, w.B.embedToken];
      const attempts = [];
      await w.attack(
        async () => {
          // 1. A's admin token, B's organization id and B's resources.
          const p1 = pathOf(pattern, w.B.orgId, ids);
          attempts.push([`admin token on ${p1}`, await s.h.httpRequest(`${w.url}${p1}`, jsonRequest(method, withIds(body, ids), { authorization: `Bearer ${w.A.adminToken}` }))]);
          // 2. A's admin token, A's own id, B's resources.
          if (/\{(?!org\})\w+\}/.test(pattern)) {
            const p2 = pathOf(pattern, w.A.orgId, ids);
            attempts.push([`admin token on ${p2}`, await s.h.httpRequest(`${w.url}${p2}`, jsonRequest(method, withIds(body, { ...ids, ...idsA }), { authorization: `Bearer ${w.A.adminToken}` }))]);
          }
          // 3. A's console session (with its CSRF token), B's organization id.
          attempts.push([`console session on ${p1}`, await s.h.httpRequest(`${w.url}${p1}`, jsonRequest(method, withIds(body, ids), { cookie: `${s.COOKIE}=${consoleA.cookie}`, 'x-csrf-token': consoleA.csrf }))]);
        },
        () => {
          for (const [what, res] of attempts) {
            s.assertError(res, 404, { what, extra: bSecrets });
            assert.ok(!res.text.includes('b-corp') && !res.text.includes(w.B.orgName), `${what}: reveals org B: ${res.text}`);
          }
        },
      );
    });
  }

  function jsonRequest(method, body, headers) {
    const hdrs = { ...headers };
    if (body !== undefined) hdrs['content-type'] = 'application/json';
    return { method, headers: hdrs, body: body === undefined ? undefined : JSON.stringify(body) };
  }
});
