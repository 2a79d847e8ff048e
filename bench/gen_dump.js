#!/usr/bin/env node
// gen_dump.js - grows a `tessera export` dump to benchmark scale for `bench/run --scale`.
//
//   node bench/gen_dump.js --in BASE.dump --out BIG.dump --tokens-out TOKENS.txt
//        [--orgs 100000] [--tokens 100000] [--sessions 1000000] [--revoked 0.01]
//
// BASE.dump is the export of a small seeded database (it brings the schema version, the sealed
// signing key and the benchmark's own organization and token). Every row of it is copied, and
// after each table's own rows come generated ones, until the store holds in all:
//   --orgs      organizations (each with one group, "Customers"),
//   --tokens    Embed access tokens, spread over the organizations in turn (default rate limit),
//   --sessions  session records, spread over the tokens in turn, issued in the last hour and
//               live for 24 h, a fraction --revoked of them revoked.
// No audit events or change-log rows are generated: a server loads its directory from the tables.
//
// Token values are made as Tessera makes them (src/domain/access_token.c): "tse_" + base64url of
// 32 random bytes, stored as the SHA-256 hex of the value, the first 12 characters as the prefix.
// TOKENS.txt gets one line per generated token, "<value> <group id>" (the token's org's group),
// which is the BENCH_TOKENS format of bench/wrk.lua.
//
// Columns are taken by name from the base dump's column lists, so a column added to these tables
// makes the script stop with its name rather than write a dump `tessera import` refuses.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const readline = require('node:readline');

function parseArgs(argv) {
  const o = { orgs: 100000, tokens: 100000, sessions: 1000000, revoked: 0.01 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '').replace(/-/g, '_');
    if (!(k in o) && !['in', 'out', 'tokens_out'].includes(k)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = ['in', 'out', 'tokens_out'].includes(k) ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!o.in || !o.out || !o.tokens_out) throw new Error('--in, --out and --tokens-out are required');
  return o;
}

// Time-ordered UUID (version 7), as Tessera's session ids.
function uuid7(ms) {
  const b = crypto.randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// A buffered line writer: 1 MiB chunks, waiting for 'drain'.
function writer(path) {
  const out = fs.createWriteStream(path, { mode: 0o600, flags: 'wx' });
  let chunk = [];
  let size = 0;
  return {
    async line(s) {
      chunk.push(s);
      size += s.length + 1;
      if (size >= 1 << 20) await this.flush();
    },
    async flush() {
      if (chunk.length === 0) return;
      const data = chunk.join('\n') + '\n';
      chunk = [];
      size = 0;
      if (!out.write(data)) await new Promise((r) => out.once('drain', r));
    },
    async close() {
      await this.flush();
      await new Promise((r, j) => out.end((err) => (err ? j(err) : r())));
    },
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const now = Math.floor(t0 / 1000);
  const lines = readline.createInterface({ input: fs.createReadStream(o.in), crlfDelay: Infinity });

  // Pass 1 is the base dump itself, read into memory (it is small); counted per table.
  const sections = []; // { table, columns, rows: [line] }
  let header = null;
  let end = null;
  for await (const line of lines) {
    if (!line) continue;
    const v = JSON.parse(line);
    if (header === null) header = v;
    else if (Array.isArray(v)) sections[sections.length - 1].rows.push(line);
    else if (v.table) sections.push({ table: v.table, columns: v.columns, rows: [] });
    else if (v.end) end = v.end;
  }
  if (!header || header.tessera_export !== 1 || !end) throw new Error(`${o.in} is not a complete tessera export`);
  const section = (name) => {
    const s = sections.find((x) => x.table === name);
    if (!s) throw new Error(`the base dump has no ${name} rows (seed at least one)`);
    return s;
  };
  for (const t of ['orgs', 'groups', 'access_tokens', 'sessions']) section(t);

  // A row from an object keyed by column name, in the dump's column order.
  const row = (s, obj) =>
    JSON.stringify(s.columns.map((c) => {
      if (!(c in obj)) throw new Error(`${s.table}.${c}: a column this script does not know; update bench/gen_dump.js`);
      return obj[c];
    }));

  const base = { orgs: section('orgs').rows.length, tokens: section('access_tokens').rows.length,
    sessions: section('sessions').rows.length };
  const nOrgs = Math.max(0, o.orgs - base.orgs);
  const nTokens = Math.max(0, o.tokens - base.tokens);
  const nSessions = Math.max(0, o.sessions - base.sessions);
  if (nOrgs === 0 && (nTokens > 0 || nSessions > 0)) throw new Error('--orgs must exceed the base dump');
  if (nTokens === 0 && nSessions > 0) throw new Error('--tokens must exceed the base dump');

  // Generated ids, kept in memory (100,000 orgs: a few MB).
  const orgIds = Array.from({ length: nOrgs }, () => crypto.randomUUID());
  const groupIds = Array.from({ length: nOrgs }, () => crypto.randomUUID());
  const tokenIds = Array.from({ length: nTokens }, () => crypto.randomUUID());
  const tokenOrg = (i) => i % nOrgs;

  const out = writer(o.out);
  const tokensOut = writer(o.tokens_out);
  let rows = 0;
  await out.line(JSON.stringify(header));
  for (const s of sections) {
    await out.line(JSON.stringify({ table: s.table, columns: s.columns }));
    for (const r of s.rows) await out.line(r);
    rows += s.rows.length;
    if (s.table === 'orgs') {
      for (let i = 0; i < nOrgs; i++) {
        await out.line(row(s, { id: orgIds[i], name: `Bench org ${i + 1}`, type: 'standard', session_ttl: 86400,
          session_ttl_max: 86400, created_at: now - 86400 }));
      }
      rows += nOrgs;
    } else if (s.table === 'groups') {
      for (let i = 0; i < nOrgs; i++) {
        await out.line(row(s, { id: groupIds[i], org_id: orgIds[i], name: 'Customers', created_at: now - 86400 }));
      }
      rows += nOrgs;
    } else if (s.table === 'access_tokens') {
      for (let i = 0; i < nTokens; i++) {
        const value = 'tse_' + crypto.randomBytes(32).toString('base64url');
        const hash = crypto.createHash('sha256').update(value).digest('hex');
        const org = tokenOrg(i);
        await out.line(row(s, { id: tokenIds[i], org_id: orgIds[org], name: 'Host backend', type: 'embed',
          prefix: value.slice(0, 12), hash, created_by: 'cli', created_at: now - 86400,
          expires_at: now + 89 * 86400, last_used_at: 0, revoked_at: 0, rate_limit_rps: 0, rate_limit_burst: 0 }));
        await tokensOut.line(`${value} ${groupIds[org]}`);
      }
      rows += nTokens;
    } else if (s.table === 'sessions') {
      const revokeEvery = o.revoked > 0 ? Math.round(1 / o.revoked) : 0;
      for (let i = 0; i < nSessions; i++) {
        const tok = i % nTokens;
        const org = tokenOrg(tok);
        const issued = now - 3600 + Math.floor((i / nSessions) * 3500); // the last hour, in order
        const n = Math.floor(i / nTokens);
        await out.line(row(s, { jti: uuid7(issued * 1000 + (i % 1000)), org_id: orgIds[org],
          user_id: crypto.randomUUID(), email: `user${n}@org${org + 1}.example`, user_type: 'external',
          atid: tokenIds[tok], issued_at: issued, expires_at: issued + 86400,
          revoked_at: revokeEvery && i % revokeEvery === 0 ? issued + 60 : 0 }));
      }
      rows += nSessions;
    }
  }
  await out.line(JSON.stringify({ end: { rows } }));
  await out.close();
  await tokensOut.close();
  const size = fs.statSync(o.out).size;
  console.error(`gen_dump: ${rows} rows (${base.orgs + nOrgs} orgs, ${base.tokens + nTokens} access tokens, ` +
    `${base.sessions + nSessions} sessions), ${(size / 1048576).toFixed(0)} MiB, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(`gen_dump.js: ${err.message}`);
  process.exit(1);
});
