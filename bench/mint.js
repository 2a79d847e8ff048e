#!/usr/bin/env node
// mint.js - asks a token endpoint for N session tokens, one per distinct email, and writes
// them one a line: the pool of distinct fresh tokens that bench/run verifies with /api/v1/me.
//
//   node bench/mint.js URL ACCESS_TOKEN BODY_FILE GROUPS N OUT
//
// BODY_FILE is the token request body with the placeholders @EMAIL@ and @GROUPS@ (as wrk.lua),
// GROUPS a comma-separated list of group ids. 32 requests in flight over keep-alive connections.
'use strict';
const fs = require('node:fs');
const http = require('node:http');

const [url, access, bodyFile, groups, nStr, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node bench/mint.js URL ACCESS_TOKEN BODY_FILE GROUPS N OUT');
  process.exit(2);
}
const n = Number(nStr);
const template = fs.readFileSync(bodyFile, 'utf8').trim();
const groupJson = JSON.stringify(groups.split(',').filter(Boolean));
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const target = new URL(url);
const stamp = Date.now().toString(36);

function mint(i) {
  const body = template.replace('@EMAIL@', `pool${i}-${stamp}@customer.example`).replace('@GROUPS@', groupJson);
  return new Promise((resolve, reject) => {
    const req = http.request(target, {
      method: 'POST', agent,
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${data}`));
        resolve(JSON.parse(data).access_token);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

(async () => {
  const tokens = new Array(n);
  let next = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      tokens[i] = await mint(i);
    }
  }
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 32 }, lane));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (new Set(tokens).size !== n) throw new Error('the tokens are not all distinct');
  fs.writeFileSync(out, tokens.join('\n') + '\n');
  agent.destroy();
  console.error(`minted ${n} distinct session tokens in ${(ms / 1000).toFixed(1)} s`);
})().catch((err) => {
  console.error(`mint.js: ${err.message}`);
  process.exit(1);
});
