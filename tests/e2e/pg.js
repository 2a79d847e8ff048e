'use strict';
// A throwaway PostgreSQL server for the node:test suites, started with scripts/pg-temp in a fresh
// temp directory: loopback only, trust authentication, fsync on, one database "tessera".
//
//   const { startPostgres } = require('./pg');
//   const pg = await startPostgres();   // { url, dir, stop() }
//   ... TESSERA_DB = pg.url ...
//   await pg.stop();                    // stops the server and removes its directory
//
// scripts/pg-temp also watches this process: if the test process dies before stop(), the server is
// stopped and its directory removed within a second or so.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PG_TEMP = path.join(__dirname, '..', '..', 'scripts', 'pg-temp');
const START_TIMEOUT_MS = 60000;

// Runs `bash scripts/pg-temp ...args`; resolves {code, stdout, stderr}.
function pgTemp(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [PG_TEMP, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code === null ? signal : code, stdout, stderr });
    });
  });
}

// Starts a server. Resolves { url: 'postgres://USER@127.0.0.1:PORT/tessera', dir, stop() }.
async function startPostgres() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-pg-'));
  const r = await pgTemp(['start', dir, String(process.pid)], START_TIMEOUT_MS);
  const url = r.stdout.trim();
  if (r.code !== 0 || !/^postgres:\/\/[^@/]+@127\.0\.0\.1:\d+\/tessera$/.test(url)) {
    await pgTemp(['stop', dir], 30000).catch(() => {});
    throw new Error(`scripts/pg-temp start failed (${r.code}): ${r.stderr.trim()}`);
  }
  let stopped = null;
  return {
    url,
    dir,
    // Idempotent: a second call waits for the first.
    stop() {
      if (!stopped) {
        stopped = pgTemp(['stop', dir], 60000).then((s) => {
          if (s.code !== 0) throw new Error(`scripts/pg-temp stop failed (${s.code}): ${s.stderr.trim()}`);
        });
      }
      return stopped;
    },
  };
}

// Another database on the same server (e.g. one per test): its URL. Uses psql from
// postgresql-client (the server's own bin directory has it too).
async function createDatabase(url, name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const base = url.slice(0, url.lastIndexOf('/'));
  const r = await new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', `${base}/postgres`, '-c', `CREATE DATABASE ${name}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (r.code !== 0) throw new Error(`CREATE DATABASE ${name} failed: ${r.stderr.trim()}`);
  return `${base}/${name}`;
}

module.exports = { startPostgres, createDatabase };
