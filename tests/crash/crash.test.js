'use strict';
// Crash safety (issue 9): kill -9 `tessera serve` again and again while it issues session tokens,
// restart it on the same database each time, and check after every restart that
//
//   - every session whose POST /api/v1/public/token got a complete 200 reply is in the sessions
//     table (the JWT's jti is the row's primary key) and has exactly one session.issued audit event;
//   - every session of the cycle that IS in the table (also those whose reply was lost in the crash)
//     has its session.issued event: record and event are committed together or not at all;
//   - no jti was handed out twice; no request got a non-200 status; requests failed only around the
//     kill (a connection error on a request that ended after SIGKILL was sent);
//   - the database passes its integrity check: SQLite `PRAGMA integrity_check` = ok and
//     `PRAGMA foreign_key_check` empty; PostgreSQL amcheck (`verify_heapam` on every table,
//     `bt_index_check` on every B-tree index) reports nothing;
//   - the restarted server is ready (/readyz), verifies session tokens issued before the crash
//     (GET /api/v1/me: the signing key survived) and issues new ones.
//
// The load: CRASH_CONCURRENCY (32) requests in flight over a keep-alive node:http agent, each for a
// new session of one of 32 emails of the cycle, with an access token whose rate limit is off. The
// kill comes at a random moment 100-1500 ms after the load starts (a seeded PRNG: CRASH_SEED
// repeats a run; the seed is printed).
//
//   node --test tests/crash/                          # CI: 5 cycles on SQLite, 3 on PostgreSQL
//   CRASH_CYCLES=250 CRASH_PG_CYCLES=60 node --test tests/crash/   # the long run (~12 min)
//   CRASH_PG_CYCLES=0 ...                              # SQLite only (no PostgreSQL server needed)
//
// TESSERA_BIN picks the binary (default build/test/tessera, the ASan/UBSan build of scripts/test).
// docs/RELIABILITY.md has the details and the latest long-run figures.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const h = require('../e2e/harness');

const intEnv = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(v)}`);
  return n;
};
const CYCLES = intEnv('CRASH_CYCLES', 5);
const PG_CYCLES = intEnv('CRASH_PG_CYCLES', 3);
const CONCURRENCY = intEnv('CRASH_CONCURRENCY', 32);
const SEED = intEnv('CRASH_SEED', crypto.randomInt(2 ** 31));
const KILL_MIN_MS = 100;
const KILL_MAX_MS = 1500;
const EMAILS = 32; // per cycle

// mulberry32: a small seeded PRNG, so that CRASH_SEED reproduces the kill moments of a run.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the load ----------------------------------------------------------------------------------

// One POST /api/v1/public/token over the agent. Resolves {status, jti, token} for a complete reply,
// or {error} (connection reset, refused, timeout...); never rejects.
function tokenRequest(agent, port, accessToken, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    let done = false;
    const finish = (r) => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/api/v1/public/token',
      method: 'POST',
      agent,
      timeout: 15000,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => finish({ error: e.code || e.message }));
      res.on('aborted', () => finish({ error: 'aborted' }));
      res.on('end', () => {
        if (!res.complete) return finish({ error: 'incomplete reply' });
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return finish({ status: res.statusCode, text: text.slice(0, 300) });
        let token;
        try {
          token = JSON.parse(text).access_token;
        } catch {
          return finish({ status: 200, error: `200 with an unreadable body: ${text.slice(0, 100)}` });
        }
        finish({ status: 200, token, jti: h.jwtParts(token).payload.jti });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => finish({ error: e.code || e.message }));
    req.end(data);
  });
}

// Runs CONCURRENCY request loops against server until killMs after the start, then SIGKILLs it; the
// loops stop issuing once the kill is sent. Resolves {results, killedAt (ms since the start)}.
async function loadUntilKill(server, accessToken, groupId, prefix, killMs) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const port = Number(new URL(server.url).port);
  const t0 = performance.now();
  const results = [];
  let killedAt = null;
  let n = 0;
  const killer = (async () => {
    await h.sleep(killMs);
    killedAt = performance.now() - t0;
    await server.kill(); // SIGKILL, waits for the exit; asserts no secret in the log
  })();
  const loop = async () => {
    while (killedAt === null) {
      const i = n++;
      const email = `${prefix}${i % EMAILS}@load.example`;
      const start = performance.now() - t0;
      const r = await tokenRequest(agent, port, accessToken, { email, name: `Load ${i}`, groupIds: [groupId], metadata: { i } });
      results.push({ ...r, i, email, start, end: performance.now() - t0 });
    }
  };
  await Promise.all([killer, ...Array.from({ length: CONCURRENCY }, loop)]);
  agent.destroy();
  return { results, killedAt };
}

// ---- the database, read directly -------------------------------------------------------------------

// Runs SQL text through the sqlite3 or psql client; returns the rows as arrays of strings.
function sql(env, text) {
  const pgUrl = /^postgres(ql)?:/.test(env.dbUrl) ? env.dbUrl : null;
  const r = pgUrl
    ? spawnSync('psql', ['-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl], { input: text, encoding: 'utf8', timeout: 120000, maxBuffer: 256 * 1024 * 1024 })
    : spawnSync('sqlite3', ['-batch', '-bail', '-noheader', '-separator', '|', env.dbPath], { input: text, encoding: 'utf8', timeout: 120000, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${pgUrl ? 'psql' : 'sqlite3'} failed (${r.status}): ${r.stderr}\nSQL: ${text.slice(0, 500)}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

// What the store holds for the cycle: acked jtis without a session row, session.issued event counts
// of acked jtis, and the cycle's stored sessions with no event.
function storeCheck(env, acked, prefix) {
  const values = acked.map((j) => `('${j.replace(/'/g, "''")}')`);
  const inserts = [];
  for (let k = 0; k < values.length; k += 500) inserts.push(`INSERT INTO acked (jti) VALUES ${values.slice(k, k + 500).join(',')};`);
  const rows = sql(env, `
CREATE TEMP TABLE acked (jti TEXT PRIMARY KEY);
${inserts.join('\n')}
SELECT 'missing', jti FROM acked WHERE jti NOT IN (SELECT jti FROM sessions);
SELECT 'event', target, count(*) FROM audit_events WHERE action = 'session.issued' AND target IN (SELECT jti FROM acked) GROUP BY target;
SELECT 'stored', count(*) FROM sessions WHERE email LIKE '${prefix}%';
SELECT 'unacked', count(*) FROM sessions WHERE email LIKE '${prefix}%' AND jti NOT IN (SELECT jti FROM acked);
SELECT 'no_event', jti FROM sessions WHERE email LIKE '${prefix}%' AND jti NOT IN (SELECT target FROM audit_events WHERE action = 'session.issued');
`);
  const out = { missing: [], events: new Map(), stored: 0, unacked: 0, noEvent: [] };
  for (const r of rows) {
    if (r[0] === 'missing') out.missing.push(r[1]);
    else if (r[0] === 'event') out.events.set(r[1], Number(r[2]));
    else if (r[0] === 'stored') out.stored = Number(r[1]);
    else if (r[0] === 'unacked') out.unacked = Number(r[1]);
    else if (r[0] === 'no_event') out.noEvent.push(r[1]);
  }
  return out;
}

// The database's own consistency checks. SQLite: integrity_check (which includes quick_check's
// checks, plus index contents against their tables) and foreign_key_check. PostgreSQL (the server
// was not the one killed, but Tessera's connections were cut mid-transaction): amcheck.
function integrityCheck(env) {
  if (/^postgres(ql)?:/.test(env.dbUrl)) {
    const rows = sql(env, `
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT 'heap', c.relname, v.blkno, v.msg FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
  LATERAL verify_heapam(c.oid) v WHERE n.nspname = 'public' AND c.relkind = 'r';
SELECT 'btree', c.relname, bt_index_check(c.oid, true)::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE a.amname = 'btree' AND n.nspname = 'public';
`);
    const bad = rows.filter((r) => r[0] === 'heap');
    assert.deepEqual(bad, [], 'PostgreSQL amcheck verify_heapam found corruption');
    const btree = rows.filter((r) => r[0] === 'btree');
    assert.ok(btree.length > 0, `amcheck checked no B-tree index: ${JSON.stringify(rows)}`);
    return `amcheck: every table and ${btree.length} B-tree indexes (with heapallindexed) verified`;
  }
  const rows = sql(env, 'PRAGMA integrity_check;\nSELECT \'fk\', * FROM pragma_foreign_key_check;');
  assert.deepEqual(rows, [['ok']], 'SQLite PRAGMA integrity_check / foreign_key_check');
  return 'integrity_check ok, foreign_key_check empty';
}

// ---- the cycles ----------------------------------------------------------------------------------

function crashSuite(backend, cycles, makeEnv) {
  const rand = prng(SEED ^ (backend === 'postgres' ? 0x5bd1e995 : 0));
  const killAt = Array.from({ length: cycles }, () => Math.round(KILL_MIN_MS + rand() * (KILL_MAX_MS - KILL_MIN_MS)));
  const run = crypto.randomBytes(3).toString('hex'); // emails unique to this run and cycle
  const timeout = 120000 + cycles * 30000;

  describe(`crash safety on ${backend}: ${cycles} cycles of load, kill -9, restart (CRASH_SEED=${SEED})`, { timeout }, () => {
    let env;
    let pg;
    let server = null;
    let accessToken;
    let groupId;
    let orgId;
    const totals = { acked: 0, failed: 0, unacked: 0, cycles: 0 };
    // A fixed issuer: with --listen 127.0.0.1:0 the default base URL would change with the port.
    const args = ['--workers', '2', '--base-url', 'https://sso.crash.test'];

    before(async () => {
      ({ env, pg } = await makeEnv());
      const org = h.cliJson(env, 'org', 'create', `Crash ${backend}`);
      orgId = org.id;
      groupId = h.cliJson(env, 'group', 'create', '--org', orgId, 'Customers').id;
      accessToken = h.cliJson(env, 'token', 'create', '--org', orgId, '--name', 'crash load', '--rate-limit', 'off').token;
      server = await h.startServer(env, args);
    });

    after(async () => {
      try {
        // The last restarted server must still stop cleanly (SIGTERM, exit 0, no sanitizer report).
        if (server && !server.exitInfo) await server.stop();
      } finally {
        if (server) await server.kill();
        if (pg) await pg.stop();
        if (env) env.cleanup();
      }
    });

    for (let k = 0; k < cycles; k++) {
      it(`cycle ${k + 1}: kill -9 ${killAt[k]} ms into the load, restart, check`, async (t) => {
        assert.ok(server && !server.exitInfo, 'no running server at the start of the cycle (an earlier cycle failed)');
        const prefix = `crash-${run}-c${k + 1}-`;
        const { results, killedAt } = await loadUntilKill(server, accessToken, groupId, prefix, killAt[k]);
        assert.equal(server.exitInfo.signal, 'SIGKILL', `the server was not killed by SIGKILL: ${JSON.stringify(server.exitInfo)}`);
        h.assertNoSanitizer(server.logs(), 'the stderr of the killed tessera serve');

        const acked = results.filter((r) => r.status === 200 && r.jti);
        const failed = results.filter((r) => !(r.status === 200 && r.jti));
        // Rate limit off, valid requests: any HTTP status but 200 is a bug, whenever it came.
        const badStatus = failed.filter((r) => r.status !== undefined);
        assert.deepEqual(badStatus.map((r) => `${r.status} ${r.error || r.text}`), [], 'requests answered with a status other than 200');
        // A connection error is expected only for a request still open when SIGKILL was sent.
        const early = failed.filter((r) => r.end < killedAt);
        assert.deepEqual(early.map((r) => `${r.error} at ${r.end.toFixed(0)} ms`), [], `requests failed before the kill at ${killedAt.toFixed(0)} ms`);
        assert.equal(new Set(acked.map((r) => r.jti)).size, acked.length, 'a jti was handed out twice');
        // A few tokens of the cycle stand for all in the harness's check that no log holds a secret.
        for (const r of acked.slice(-5)) h.noteSecret(r.token);

        // Restart on the same database: it must come up (recovering what the crash left) and be ready.
        server = await h.startServer(env, args);
        const ready = await h.httpRequest(`${server.url}/readyz`);
        assert.equal(ready.status, 200, `/readyz after the restart: ${ready.status} ${ready.text}`);

        const integrity = integrityCheck(env);
        // A made-up jti goes in with the acknowledged ones: the check must report it missing, or
        // it is blind (a query that matches nothing would pass every cycle).
        const control = `control-${crypto.randomUUID()}`;
        const s = storeCheck(env, [...acked.map((r) => r.jti), control], prefix);
        assert.ok(s.missing.includes(control), `the store check did not report a made-up jti missing: ${JSON.stringify(s.missing.slice(0, 3))}`);
        const missing = s.missing.filter((j) => j !== control);
        assert.deepEqual(missing, [], `acknowledged sessions missing from the store after kill -9 (${missing.length} of ${acked.length})`);
        const lostEvents = acked.filter((r) => !s.events.has(r.jti)).map((r) => r.jti);
        const doubled = [...s.events].filter(([, n]) => n !== 1).map(([j, n]) => `${j} x${n}`);
        assert.deepEqual(lostEvents, [], 'acknowledged sessions without a session.issued audit event');
        assert.deepEqual(doubled, [], 'session.issued written more than once');
        assert.deepEqual(s.noEvent, [], 'sessions in the store without their session.issued event (not committed together)');

        // The product's own view agrees (one email of the cycle through `tessera session list`).
        if (acked.length) {
          const one = acked[acked.length - 1];
          const listed = h.cliJson(env, 'session', 'list', '--org', orgId, '--email', one.email).data.map((x) => x.jti);
          const want = acked.filter((r) => r.email === one.email).map((r) => r.jti);
          assert.deepEqual(want.filter((j) => !listed.includes(j)), [], `tessera session list --email ${one.email} misses acknowledged sessions`);
        }
        // The restarted server verifies tokens issued before the crash and issues new ones.
        for (const r of acked.slice(-3)) {
          const m = await h.me(server.url, r.token);
          assert.equal(m.status, 200, `GET /api/v1/me with a token acknowledged before the crash: ${m.status} ${m.text}`);
        }
        const fresh = await h.postToken(server.url, accessToken, { email: `${prefix}after@load.example`, groupIds: [groupId] });
        assert.equal(fresh.status, 200, `issuance after the restart: ${fresh.status} ${fresh.text}`);

        const errors = {};
        for (const r of failed) errors[r.error] = (errors[r.error] || 0) + 1;
        totals.acked += acked.length;
        totals.failed += failed.length;
        totals.unacked += s.unacked;
        totals.cycles += 1;
        t.diagnostic(`${backend} cycle ${k + 1}: SIGKILL at ${killedAt.toFixed(0)} ms; ${results.length} requests, ${acked.length} acknowledged (all stored, each with one session.issued), ` +
          `${s.unacked} committed but unacknowledged, ${failed.length} cut by the kill ${JSON.stringify(errors)}; ${integrity}`);
        t.diagnostic(`${backend} totals after ${totals.cycles} cycles: ${totals.acked} acknowledged sessions, none lost; ${totals.unacked} committed but unacknowledged; ${totals.failed} requests cut by kills`);
      });
    }

    it('the load was real: sessions were acknowledged before the kills', () => {
      assert.ok(totals.acked >= cycles, `only ${totals.acked} sessions acknowledged in ${cycles} cycles: too little load to prove anything`);
    });
  });
}

if (CYCLES > 0) {
  crashSuite('sqlite', CYCLES, async () => ({ env: h.makeEnv(), pg: null }));
}

if (PG_CYCLES > 0) {
  crashSuite('postgres', PG_CYCLES, async () => {
    const c = require('../e2e/cluster');
    const { pg, env } = await c.pgEnv();
    return { env, pg };
  });
}
