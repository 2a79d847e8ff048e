'use strict';
// The command line of DESIGN section 6: --json shapes, exit codes, names in
// place of ids, secrets never shown twice, and key rotation on a live server.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const jose = require('jose');
const h = require('./harness');

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

// Exit code 2 or 1 with exactly one line on stderr and nothing on stdout.
function assertFails(r, code, what) {
  assert.equal(r.code, code, `${what}: exit ${r.code}, expected ${code}; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `${what}: expected one stderr line, got ${JSON.stringify(r.stderr)}`);
  assert.ok(lines[0].trim().length > 10, `${what}: stderr line is not a clear message: ${JSON.stringify(lines[0])}`);
  assert.equal(r.stdout.trim(), '', `${what}: printed on stdout: ${r.stdout}`);
}

describe('tessera CLI', () => {
  let env;
  let n = 0;
  const newOrg = (name) => h.cliJson(env, 'org', 'create', name || `Org ${++n} ${Date.now()}`);

  before(() => {
    env = h.makeEnv();
  });
  after(() => env && env.cleanup());

  describe('--json output shapes', () => {
    it('org create -> {id, name}; org list -> {data: [...]}', () => {
      const org = h.cliJson(env, 'org', 'create', 'Shape Org');
      assert.deepEqual(Object.keys(org).sort(), ['id', 'name']);
      assert.match(org.id, h.UUID_RE);
      assert.equal(org.name, 'Shape Org');
      const list = h.cliJson(env, 'org', 'list');
      assert.ok(Array.isArray(list.data));
      const mine = list.data.find((o) => o.id === org.id);
      assert.ok(mine, 'created org not listed');
      assert.equal(mine.name, 'Shape Org');
    });

    it('plain output of a create is the id alone', () => {
      const r = h.cli(env, 'org', 'create', 'Plain Org');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), h.UUID_RE);
    });

    it('token create -> {id, token, expires_at, type}; the value is tse_/tsa_ + 43 base64url chars', () => {
      const org = newOrg();
      const t0 = Date.now() / 1000;
      const t = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'shape');
      assert.deepEqual(Object.keys(t).sort(), ['expires_at', 'id', 'token', 'type']);
      assert.match(t.id, h.UUID_RE);
      assert.match(t.token, /^tse_[A-Za-z0-9_-]{43}$/);
      assert.equal(t.type, 'embed');
      assert.match(t.expires_at, ISO_RE);
      const days = (Date.parse(t.expires_at) / 1000 - t0) / 86400;
      assert.ok(Math.abs(days - 90) < 0.01, `default expiry is ${days} days, not 90`);

      const a = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'adm', '--type', 'admin', '--expires-in', '7');
      assert.match(a.token, /^tsa_[A-Za-z0-9_-]{43}$/);
      assert.equal(a.type, 'admin');
      const adays = (Date.parse(a.expires_at) / 1000 - t0) / 86400;
      assert.ok(Math.abs(adays - 7) < 0.01, `--expires-in 7 gave ${adays} days`);

      const at = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'at', '--expires-at', '2030-01-02T03:04:05Z');
      assert.equal(at.expires_at, '2030-01-02T03:04:05Z');
      assert.notEqual(t.token, a.token);
    });

    it('token create without --json prints the value alone on stdout', () => {
      const org = newOrg();
      const r = h.cli(env, 'token', 'create', '--org', org.id, '--name', 'plain');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^tse_[A-Za-z0-9_-]{43}\n$/);
      assert.ok(!r.stderr.includes(r.stdout.trim()), 'the value is repeated on stderr');
    });

    it('token list -> {data: [...]} with the prefix (first 12 chars) and never the value', () => {
      const org = newOrg();
      const t1 = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'one');
      const t2 = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'two', '--type', 'admin');
      const r = h.cli(env, 'token', 'list', '--org', org.id, '--json');
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout);
      assert.equal(list.data.length, 2);
      for (const t of [t1, t2]) {
        const row = list.data.find((x) => x.id === t.id);
        assert.ok(row, `token ${t.id} not listed`);
        assert.equal(row.prefix, t.token.slice(0, 12));
        assert.equal(row.type, t.type);
        assert.equal(row.expires_at, t.expires_at);
        assert.equal(row.revoked_at ?? null, null);
        assert.ok(!('token' in row) && !('value' in row) && !('hash' in row), `row exposes ${Object.keys(row)}`);
        assert.ok(!r.stdout.includes(t.token), 'token list --json shows a token value');
        assert.ok(!r.stdout.includes(t.token.slice(12)), 'token list --json shows the secret part of a value');
      }
      const plain = h.cli(env, 'token', 'list', '--org', org.id);
      assert.equal(plain.code, 0);
      for (const t of [t1, t2]) {
        assert.ok(plain.stdout.includes(t.id));
        assert.ok(plain.stdout.includes(t.token.slice(0, 12)));
        assert.ok(!plain.stdout.includes(t.token.slice(12)), 'token list shows a token value');
      }
      // Nor does any other output of the CLI.
      const audit = h.cli(env, 'audit', '--org', org.id, '--json').stdout;
      for (const t of [t1, t2]) assert.ok(!audit.includes(t.token.slice(12)), 'audit shows a token value');
    });

    it('token revoke marks the token revoked; revoking twice or an unknown token fails with 1', () => {
      const org = newOrg();
      const t = h.cliJson(env, 'token', 'create', '--org', org.id, '--name', 'rev');
      const out = h.cliJson(env, 'token', 'revoke', '--org', org.id, t.id);
      assert.equal(out.id, t.id);
      const row = h.cliJson(env, 'token', 'list', '--org', org.id).data.find((x) => x.id === t.id);
      assert.match(row.revoked_at, ISO_RE);
      assertFails(h.cli(env, 'token', 'revoke', '--org', org.id, t.id), 1, 'revoke twice');
      assertFails(h.cli(env, 'token', 'revoke', '--org', org.id, h.randomUuid()), 1, 'revoke unknown');
      // A token of another org cannot be revoked through this org.
      const org2 = newOrg();
      const t2 = h.cliJson(env, 'token', 'create', '--org', org2.id, '--name', 'other');
      assertFails(h.cli(env, 'token', 'revoke', '--org', org.id, t2.id), 1, "revoke another org's token");
      const row2 = h.cliJson(env, 'token', 'list', '--org', org2.id).data.find((x) => x.id === t2.id);
      assert.equal(row2.revoked_at ?? null, null);
    });

    it('user add -> object with id; user list -> {data} without password material', () => {
      const org = newOrg();
      const u = h.cliJson(env, 'user', 'add', '--org', org.id, 'Owner@Example.com', '--role', 'owner', '--name', 'Olive Owner');
      assert.match(u.id, h.UUID_RE);
      assert.equal(u.email, 'owner@example.com');
      const withPw = h.cliJson(env, 'user', 'add', '--org', org.id, 'dev@example.com', '--role', 'developer', '--password-stdin', { input: 'correct horse battery staple\n' });
      assert.match(withPw.id, h.UUID_RE);
      const r = h.cli(env, 'user', 'list', '--org', org.id, '--json');
      assert.equal(r.code, 0);
      const list = JSON.parse(r.stdout);
      assert.equal(list.data.length, 2);
      const owner = list.data.find((x) => x.id === u.id);
      assert.equal(owner.email, 'owner@example.com');
      assert.equal(owner.name, 'Olive Owner');
      assert.equal(owner.role, 'owner');
      assert.ok(!r.stdout.includes('correct horse'), 'password shown');
      assert.ok(!/argon2/i.test(r.stdout), 'password hash shown');
    });

    it('group create/list/grant/add-member and app create/list/deploy --json', () => {
      const org = newOrg();
      const g = h.cliJson(env, 'group', 'create', '--org', org.id, 'Viewers');
      assert.deepEqual(Object.keys(g).sort(), ['id', 'name']);
      assert.match(g.id, h.UUID_RE);
      const app = h.cliJson(env, 'app', 'create', '--org', org.id, 'Orders', '--mode', 'private', '--allow-origin', 'https://A.example', '--allow-origin', 'http://localhost:3000');
      assert.match(app.id, h.UUID_RE);
      assert.equal(app.name, 'Orders');
      assert.equal(app.mode, 'private');
      assert.deepEqual(app.allowed_origins, ['https://a.example', 'http://localhost:3000']);
      const grant = h.cliJson(env, 'group', 'grant', '--org', org.id, g.id, app.id);
      assert.equal(grant.group_id, g.id);
      assert.equal(grant.app_id, app.id);
      assert.equal(grant.permission, 'apps:view');
      h.cliJson(env, 'user', 'add', '--org', org.id, 'member@example.com');
      const m = h.cliJson(env, 'group', 'add-member', '--org', org.id, g.id, 'member@example.com');
      assert.equal(m.group_id, g.id);
      const groups = h.cliJson(env, 'group', 'list', '--org', org.id);
      assert.deepEqual(groups.data, [{ id: g.id, name: 'Viewers' }]);
      const apps = h.cliJson(env, 'app', 'list', '--org', org.id);
      assert.equal(apps.data.length, 1);
      assert.equal(apps.data[0].id, app.id);

      const dir = fs.mkdtempSync(path.join(env.dir, 'bundle-'));
      fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title><p>hello</p>');
      fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1);');
      const v = h.cliJson(env, 'app', 'deploy', '--org', org.id, app.id, dir);
      assert.match(v.id, h.UUID_RE);
      assert.equal(v.app_id, app.id);
    });

    it('audit -> {data: [...]} of events {id, at, actor, action, target}; --since filters', () => {
      const org = newOrg();
      h.cliJson(env, 'group', 'create', '--org', org.id, 'Audited');
      const ev = h.cliJson(env, 'audit', '--org', org.id);
      assert.ok(Array.isArray(ev.data));
      const actions = ev.data.map((e) => e.action);
      assert.ok(actions.includes('org.created'), `actions: ${actions}`);
      assert.ok(actions.includes('group.created'), `actions: ${actions}`);
      for (const e of ev.data) {
        assert.match(e.id, h.UUID_RE);
        assert.match(e.at, ISO_RE);
        assert.equal(typeof e.actor, 'string');
        assert.equal(typeof e.target, 'string');
      }
      assert.deepEqual(h.cliJson(env, 'audit', '--org', org.id, '--since', '2999-01-01T00:00:00Z').data, []);
      assert.equal(h.cliJson(env, 'audit', '--org', org.id, '--since', '2000-01-01').data.length, ev.data.length);
    });

  });

  describe('exit codes', () => {
    it('bad usage exits 2 with one line on stderr', () => {
      const org = newOrg();
      const cases = [
        [['frobnicate'], 'unknown command'],
        [['token', 'frobnicate', '--org', org.id], 'unknown verb'],
        [['token'], 'missing verb'],
        [['token', 'list'], 'missing --org'],
        [['token', 'create', '--name', 'x'], 'token create without --org'],
        [['group', 'create', 'G'], 'group create without --org'],
        [['token', 'list', '--org', org.id, '--bogus'], 'unknown option'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-in', 'abc'], 'bad --expires-in (abc)'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-in', '0'], 'bad --expires-in (0)'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-in', '-5'], 'bad --expires-in (-5)'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-in', '7d'], 'bad --expires-in (7d)'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-at', 'tomorrow'], 'bad --expires-at'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-in', '3', '--expires-at', '2030-01-01'], 'both expiries'],
        [['token', 'create', '--org', org.id], 'token create without --name'],
        [['token', 'list', '--org'], '--org without a value'],
        [['org', 'create'], 'org create without NAME'],
        [['org', 'create', 'A', 'B'], 'org create with two names'],
        [['token', 'revoke', '--org', org.id], 'token revoke without TOKEN_ID'],
        [['audit', '--org', org.id, '--since', 'yesterday'], 'bad --since'],
        [['keys', 'list', '--json=yes'], 'flag with a value'],
      ];
      for (const [args, what] of cases) assertFails(h.cli(env, ...args), 2, what);
    });

    it('domain errors exit 1 with one line on stderr', () => {
      const org = newOrg();
      h.cliJson(env, 'user', 'add', '--org', org.id, 'dup@example.com');
      const cases = [
        [['token', 'list', '--org', 'No Such Org'], 'unknown org (name)'],
        [['token', 'list', '--org', h.randomUuid()], 'unknown org (id)'],
        [['user', 'add', '--org', org.id, 'dup@example.com'], 'duplicate user'],
        [['user', 'add', '--org', org.id, 'DUP@Example.COM'], 'duplicate user, other case'],
        [['user', 'add', '--org', org.id, 'not-an-email'], 'invalid email'],
        [['user', 'add', '--org', org.id, 'role@example.com', '--role', 'emperor'], 'invalid role'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--type', 'superuser'], 'invalid token type'],
        [['token', 'create', '--org', org.id, '--name', 'x', '--expires-at', '2001-01-01T00:00:00Z'], 'expiry in the past'],
        [['group', 'grant', '--org', org.id, 'No Group', 'No App'], 'grant on unknown group'],
        [['group', 'add-member', '--org', org.id, h.randomUuid(), 'dup@example.com'], 'add-member to unknown group'],
        [['app', 'create', '--org', org.id, 'A', '--mode', 'secret'], 'invalid app mode'],
        [['app', 'create', '--org', org.id, 'A', '--allow-origin', 'javascript:alert(1)'], 'invalid origin'],
      ];
      for (const [args, what] of cases) assertFails(h.cli(env, ...args), 1, what);
    });

    it('serve with a bad --listen is bad usage: exit 2 with one line', () => {
      for (const listen of ['bogus', '127.0.0.1:99999', '127.0.0.1:', 'example.com:80']) {
        const r = h.cli(env, 'serve', '--listen', listen);
        assertFails(r, 2, `serve --listen ${listen}`);
      }
    });

    it('a command on a database that cannot be opened exits 1', () => {
      const r = h.cli(env, 'org', 'list', '--db', `sqlite:${env.dir}/no/such/dir/x.db`);
      assertFails(r, 1, 'unopenable db');
    });
  });

  describe('names in place of ids', () => {
    it('accepts org, group and app names where they are unambiguous', () => {
      const orgName = `Named Org ${Date.now()}`;
      const org = newOrg(orgName);
      const t = h.cliJson(env, 'token', 'create', '--org', orgName, '--name', 'by-name');
      assert.ok(h.cliJson(env, 'token', 'list', '--org', org.id).data.some((x) => x.id === t.id));
      const g = h.cliJson(env, 'group', 'create', '--org', orgName, 'Readers');
      const app = h.cliJson(env, 'app', 'create', '--org', orgName, 'Inventory');
      const grant = h.cliJson(env, 'group', 'grant', '--org', orgName, 'Readers', 'Inventory');
      assert.equal(grant.group_id, g.id);
      assert.equal(grant.app_id, app.id);
      h.cliJson(env, 'user', 'add', '--org', orgName, 'reader@example.com');
      const m = h.cliJson(env, 'group', 'add-member', '--org', orgName, 'Readers', 'reader@example.com');
      assert.equal(m.group_id, g.id);
      const list = h.cliJson(env, 'group', 'list', '--org', orgName);
      assert.deepEqual(list.data.map((x) => x.id), [g.id]);
    });

    it('an ambiguous group name is an error (exit 1), the id still works', () => {
      const org = newOrg();
      const g1 = h.cliJson(env, 'group', 'create', '--org', org.id, 'Twins');
      h.cliJson(env, 'group', 'create', '--org', org.id, 'Twins');
      const app = h.cliJson(env, 'app', 'create', '--org', org.id, 'App');
      const r = h.cli(env, 'group', 'grant', '--org', org.id, 'Twins', app.id);
      assertFails(r, 1, 'ambiguous group');
      assert.match(r.stderr, /Twins/);
      const ok = h.cliJson(env, 'group', 'grant', '--org', org.id, g1.id, app.id);
      assert.equal(ok.group_id, g1.id);
    });

    it('an ambiguous org name is an error (exit 1)', () => {
      const name = `Same Name ${Date.now()}`;
      const o1 = newOrg(name);
      const o2 = h.cli(env, 'org', 'create', name, '--json');
      if (o2.code !== 0) {
        // Refusing a duplicate org name is also acceptable.
        assertFails(o2, 1, 'duplicate org name');
        return;
      }
      assertFails(h.cli(env, 'token', 'list', '--org', name), 1, 'ambiguous org');
      assert.equal(h.cliJson(env, 'token', 'list', '--org', o1.id).data.length, 0);
    });

    it("a name never reaches another org's group", () => {
      const a = newOrg();
      const b = newOrg();
      h.cliJson(env, 'group', 'create', '--org', b.id, 'Only In B');
      h.cliJson(env, 'app', 'create', '--org', a.id, 'App A');
      assertFails(h.cli(env, 'group', 'grant', '--org', a.id, 'Only In B', 'App A'), 1, "another org's group by name");
    });
  });
});

describe('tessera keys', () => {
  let env;
  let server;
  let s;

  before(() => {
    env = h.makeEnv();
    s = h.seed(env);
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (server) await server.kill();
      if (env) env.cleanup();
    }
  });

  it('keys list shows one active ES256 key after the first serve start, and rotation works live', async () => {
    assert.deepEqual(h.cliJson(env, 'keys', 'list').data, [], 'keys exist before the first serve');
    server = await h.startServer(env);
    const url = server.url;
    const keys = h.cliJson(env, 'keys', 'list').data;
    assert.equal(keys.length, 1, JSON.stringify(keys));
    assert.equal(keys[0].alg, 'ES256');
    assert.equal(keys[0].state, 'active');
    assert.equal(typeof keys[0].kid, 'string');
    assert.ok(keys[0].kid.length > 0);
    const oldKid = keys[0].kid;

    const before = await h.issue(url, s.embedToken, { email: 'rotate@example.com', metadata: { n: 1 } });
    assert.equal(before.header.kid, oldKid);

    const rot = h.cliJson(env, 'keys', 'rotate');
    assert.equal(typeof rot.kid, 'string');
    assert.notEqual(rot.kid, oldKid);
    const rotatedAt = Date.now();

    // New tokens are signed with the new key within about a second.
    const switched = await h.poll(async () => {
      const t = await h.issue(url, s.embedToken, { email: 'rotate@example.com' });
      return t.header.kid === rot.kid ? t : null;
    }, { timeoutMs: 1500 });
    assert.ok(switched.ok, `still signing with ${oldKid} ${Date.now() - rotatedAt} ms after keys rotate`);

    const after = h.cliJson(env, 'keys', 'list').data;
    assert.equal(after.length, 2);
    assert.equal(after.find((k) => k.kid === rot.kid).state, 'active');
    assert.notEqual(after.find((k) => k.kid === oldKid).state, 'active');

    // The JWKS lists both keys; both tokens verify.
    const jwksRes = await h.httpRequest(`${url}/.well-known/jwks.json`);
    const kids = jwksRes.json.keys.map((k) => k.kid).sort();
    assert.deepEqual(kids, [oldKid, rot.kid].sort());
    const jwks = jose.createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    for (const t of [before, switched.value]) {
      const { payload } = await jose.jwtVerify(t.accessToken, jwks, { issuer: url, audience: 'tessera:session', algorithms: ['ES256'] });
      assert.equal(payload.jti, t.claims.jti);
      const m = await h.me(url, t.accessToken);
      assert.equal(m.status, 200, `token signed with ${t.header.kid}: ${m.text}`);
      assert.equal(m.json.data.session_id, t.claims.jti);
    }
  });
});

describe('tessera keys rotate with the wrong master key', () => {
  it('exits 1 with one line and changes no key', async () => {
    const env = h.makeEnv();
    let server;
    try {
      h.seed(env);
      server = await h.startServer(env); // creates the master key and the first signing key
      await server.stop();
      server = null;
      const before = h.cliJson(env, 'keys', 'list').data;
      assert.equal(before.length, 1);
      const r = h.cli(env, 'keys', 'rotate', { env: { TESSERA_MASTER_KEY: 'cd'.repeat(32) } });
      const afterKeys = h.cliJson(env, 'keys', 'list').data;
      assert.deepEqual(afterKeys, before, `keys rotate with a wrong master key changed the keys (exit ${r.code})`);
      assertFails(r, 1, 'keys rotate with a wrong master key');
      // The server still starts.
      server = await h.startServer(env);
    } finally {
      if (server) await server.stop().finally(() => server.kill());
      env.cleanup();
    }
  });
});
