#!/usr/bin/env node
// peer_data.js - the data file of the Node.js peers (bench/peers/README.md, BENCH_TOKENS_FILE)
// from a `tessera export` dump, so that the peers know the same organizations, groups and access
// tokens (by the same SHA-256 hashes) as the Tessera they are compared with.
//
//   node bench/peer_data.js DUMP OUT.json
//
// Output: {"orgs":[{id,name,type,session_ttl}], "groups":[{id,org_id,name}],
//          "tokens":[{id,org_id,type,hash,expires_at,revoked_at}]}
'use strict';
const fs = require('node:fs');

const [dumpPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node bench/peer_data.js DUMP OUT.json');
  process.exit(2);
}
const want = {
  orgs: ['id', 'name', 'type', 'session_ttl'],
  groups: ['id', 'org_id', 'name'],
  access_tokens: ['id', 'org_id', 'type', 'hash', 'expires_at', 'revoked_at'],
};
const data = { orgs: [], groups: [], tokens: [] };
let table = null;
let columns = null;
for (const line of fs.readFileSync(dumpPath, 'utf8').split('\n')) {
  if (!line) continue;
  const v = JSON.parse(line);
  if (!Array.isArray(v)) {
    table = v.table || null;
    columns = v.columns || null;
    continue;
  }
  if (!(table in want)) continue;
  const obj = {};
  for (const c of want[table]) {
    const i = columns.indexOf(c);
    if (i < 0) throw new Error(`${table}.${c} is not in the dump`);
    obj[c] = v[i];
  }
  data[table === 'access_tokens' ? 'tokens' : table].push(obj);
}
fs.writeFileSync(outPath, JSON.stringify(data) + '\n');
console.error(`peer data: ${data.orgs.length} orgs, ${data.groups.length} groups, ${data.tokens.length} access tokens`);
