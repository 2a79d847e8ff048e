'use strict';
// Moving an installation from SQLite to PostgreSQL with `tessera export` / `tessera import`
// (docs/CLI.md, docs/OPERATIONS.md): everything the SQLite server accepted is on PostgreSQL
// afterwards, row for row, and a server on PostgreSQL carries on where the SQLite one stopped
// (sessions minted before still verify, revoked ones stay revoked, access tokens still work).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const { startPostgres } = require('./pg');

let pg;
let env;
let seeded;
let pgVars;
const minted = [];
let revokedJti;
let dumpPath;
// The issuer (--base-url) is the installation's public URL: the same before and after the move.
const BASE_URL = 'https://sso.acme.example';

before(async () => {
  pg = await startPostgres();
  env = h.makeEnv();
  seeded = h.seed(env);
  const server = await h.startServer(env, ['--base-url', BASE_URL]);
  try {
    for (let i = 0; i < 5; i++) {
      const s = await h.issue(server.url, seeded.embedToken, {
        email: `user${i}@acme.example`,
        name: `User ${i}`,
        groupIds: [seeded.group1.id],
        metadata: { n: i },
      });
      minted.push(s);
    }
    revokedJti = minted[4].claims.jti;
    const r = await h.httpRequest(`${server.url}/api/v1/public/sessions/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seeded.embedToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: revokedJti }),
    });
    assert.equal(r.status, 200, r.text);
  } finally {
    await server.stop();
  }
  dumpPath = path.join(env.dir, 'tessera.dump');
  // The PostgreSQL installation uses the same master key (the dump does not carry it).
  pgVars = { TESSERA_DB: pg.url };
});

after(async () => {
  if (pg) await pg.stop();
  if (env) env.cleanup();
});

function lines(file) {
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n');
}

test('export writes every row to a new file of mode 0600 and never overwrites one', () => {
  const r = h.cli(env, 'export', '--out', dumpPath);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /exported \d+ rows \(schema \d+\)/);
  assert.equal(fs.statSync(dumpPath).mode & 0o777, 0o600);
  const l = lines(dumpPath);
  assert.deepEqual(Object.keys(JSON.parse(l[0])), ['tessera_export', 'schema']);
  assert.equal(JSON.parse(l[l.length - 1]).end.rows, l.filter((x) => x.startsWith('[')).length);
  const tables = l.filter((x) => x.startsWith('{"table"')).map((x) => JSON.parse(x).table);
  for (const t of ['orgs', 'users', 'access_tokens', 'groups', 'apps', 'group_members', 'signing_keys', 'sessions', 'audit_events', 'change_log']) {
    assert.ok(tables.includes(t), `the dump has no ${t}`);
  }
  // Every session the server acknowledged, and its audit event.
  const text = fs.readFileSync(dumpPath, 'utf8');
  for (const s of minted) assert.ok(text.includes(s.claims.jti), `session ${s.claims.jti} is not in the dump`);
  // No access token or session token in clear.
  assert.ok(!text.includes(seeded.embedToken));
  assert.ok(!text.includes(minted[0].accessToken));

  const again = h.cli(env, 'export', '--out', dumpPath);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /never overwritten/);
});

test('import into PostgreSQL keeps every row, in order; a second import is refused', () => {
  const m = h.cli(env, 'migrate', { env: pgVars });
  assert.equal(m.code, 0, m.stderr);
  const r = h.cli(env, 'import', '--in', dumpPath, '--json', { env: pgVars });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout).rows;
  assert.equal(rows, lines(dumpPath).filter((x) => x.startsWith('[')).length);

  // Exported back out of PostgreSQL: the same dump, line for line.
  const back = path.join(env.dir, 'from-pg.dump');
  const e = h.cli(env, 'export', '--out', back, { env: pgVars });
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(lines(back), lines(dumpPath));

  const twice = h.cli(env, 'import', '--in', dumpPath, { env: pgVars });
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /not empty/);
});

test('a cut or foreign dump is refused and writes nothing', async () => {
  const other = await startPostgres();
  try {
    const vars = { TESSERA_DB: other.url };
    assert.equal(h.cli(env, 'migrate', { env: vars }).code, 0);
    const cut = path.join(env.dir, 'cut.dump');
    fs.writeFileSync(cut, lines(dumpPath).slice(0, -3).join('\n') + '\n');
    const r = h.cli(env, 'import', '--in', cut, { env: vars });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /end line/);
    const junk = path.join(env.dir, 'junk.dump');
    fs.writeFileSync(junk, '{"hello":1}\n');
    const j = h.cli(env, 'import', '--in', junk, { env: vars });
    assert.equal(j.code, 1);
    assert.match(j.stderr, /not a tessera export/);
    assert.deepEqual(h.cliJson(env, 'org', 'list', { env: vars }).data, []);
  } finally {
    await other.stop();
  }
});

test('a server on the imported PostgreSQL database carries on where SQLite stopped', async () => {
  const server = await h.startServer({ ...env, vars: { ...env.vars, ...pgVars } }, ['--base-url', BASE_URL]);
  try {
    for (const s of minted.slice(0, 4)) {
      const r = await h.me(server.url, s.accessToken);
      assert.equal(r.status, 200, `a session minted on SQLite does not verify on PostgreSQL: ${r.text}`);
      assert.equal(r.json.email, s.claims.email);
    }
    const revoked = await h.me(server.url, minted[4].accessToken);
    assert.equal(revoked.status, 401, 'a session revoked on SQLite verifies on PostgreSQL');
    const fresh = await h.issue(server.url, seeded.embedToken, { email: 'new@acme.example', name: 'New' });
    assert.equal(fresh.header.kid, minted[0].header.kid, 'the signing key changed in the move');
    const events = h.cliJson(env, 'audit', '--org', seeded.orgId, { env: pgVars }).data;
    for (const s of minted) {
      assert.ok(
        events.some((ev) => ev.action === 'session.issued' && ev.target === s.claims.jti),
        `no session.issued event for ${s.claims.jti} after the move`,
      );
    }
    assert.ok(events.some((ev) => ev.action === 'session.revoked'));
  } finally {
    await server.stop();
  }
});
