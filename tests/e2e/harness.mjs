// Test harness: a fresh database and a real `actorcable serve` process per test file.
import { spawn, execFileSync, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect } from 'node:net';
import { after } from 'node:test';

export const BIN = process.env.ACTORCABLE_BIN;
const PG = process.env.ACTORCABLE_TEST_PG;
if (!BIN || !PG) throw new Error('ACTORCABLE_BIN and ACTORCABLE_TEST_PG must be set (run through scripts/test)');

// Every child process has a deadline: a hang fails its test in seconds, not at CTest's limit.
export const CHILD_TIMEOUT_MS = 30000;
const LISTEN_TIMEOUT_MS = 30000;
const EXIT_TIMEOUT_MS = 30000;

// Every server a test file starts is checked when the file ends: it must have been stopped
// (or be stopped now with SIGTERM) and have exited as its stop asked (status 0 after SIGTERM or
// SIGINT, the signal itself after SIGKILL), with no sanitizer report in its stderr. Its stderr
// is printed when a check fails.
const servers = [];
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:|SUMMARY: \w+Sanitizer/;

export function serverProblems(server, outcome) {
  const problems = [];
  const { code, signal } = outcome;
  const expected = server.expectedSignal ?? 'SIGTERM';
  if (expected === 'SIGKILL') {
    if (signal !== 'SIGKILL') problems.push(`exited ${code ?? signal} instead of being killed`);
  } else if (code !== 0) {
    problems.push(`exited with ${code !== null ? `status ${code}` : `signal ${signal}`} after ${expected}`);
  }
  // UBSan's vptr check tests memory through a pipe(2): in a process run out of descriptors on
  // purpose every check fails that way ("invalid vptr", "<memory cannot be printed>"), which says
  // nothing about the code. Only vptr reports are passed over, and only for such a server.
  const vptr = /runtime error: member (call|access) .* does not point to an object of type/;
  const report = server.logs.find((l) => SANITIZER_REPORT.test(l) && !(server.descriptorsExhausted && vptr.test(l)));
  if (report) problems.push(`sanitizer report: ${report}`);
  return problems;
}

// What explains a failed server: its last log lines, or when it printed a sanitizer report, the
// lines before the report and the report's first frames (a long report would push them out).
function logExcerpt(logs) {
  const start = logs.findIndex((l) => SANITIZER_REPORT.test(l));
  if (start < 0) return `--- its last log lines:\n${logs.slice(-60).join('\n')}`;
  return `--- its log before the report:\n${logs.slice(Math.max(0, start - 40), start).join('\n')}\n`
    + `--- the report:\n${logs.slice(start, start + 60).join('\n')}`;
}

after(async () => {
  const failures = [];
  for (const s of servers) {
    const outcome = await withTimeout(s.stop(), EXIT_TIMEOUT_MS, `server on port ${s.port} to exit`)
      .catch((e) => { s.proc.kill('SIGKILL'); return { code: null, signal: 'timeout', error: e }; });
    const problems = serverProblems(s, outcome);
    if (problems.length)
      failures.push(`server on port ${s.port}: ${problems.join('; ')}\n${logExcerpt(s.logs)}`);
  }
  if (failures.length) throw new Error(failures.join('\n\n'));
});

let dbCounter = 0;
export function createDatabase() {
  const name = `ac_js_${process.pid}_${dbCounter++}`;
  psql(`${PG} dbname=postgres`, `DROP DATABASE IF EXISTS ${name}`);
  psql(`${PG} dbname=postgres`, `CREATE DATABASE ${name}`);
  return `${PG} dbname=${name}`;
}

export function psql(conninfo, query, params = []) {
  const args = [conninfo, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', query];
  return execFileSync('psql', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: CHILD_TIMEOUT_MS }).replace(/\n$/, '');
}

// Like psql() but without blocking the event loop: frames keep arriving while it runs.
export function psqlAsync(conninfo, query) {
  return new Promise((resolve, reject) => {
    execFile('psql', [conninfo, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS },
      (err, stdout) => (err ? reject(err) : resolve(stdout.replace(/\n$/, ''))));
  });
}

export const SECRET = 'test-secret-' + process.pid;

// The per-user limits (SPEC §13) are off unless a test asks for them (limits.test.mjs uses the
// defaults): most suites ask for more answers and connections than one person would.
export const NO_LIMITS = { ACTORCABLE_LIMIT_ANSWERS_CONCURRENT: '0', ACTORCABLE_LIMIT_ANSWERS_PER_MINUTE: '0',
  ACTORCABLE_LIMIT_CONNECTIONS: '0' };

export function baseEnv(db, extra = {}) {
  const env = { ...process.env, ...NO_LIMITS, DATABASE_URL: db, ACTORCABLE_SECRET: SECRET,
    ACTORCABLE_BIND: '127.0.0.1:0', ACTORCABLE_NODE_NAME: 'test-node', ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

export function token(db, email, extra = {}) {
  return execFileSync(BIN, ['token', '--email', email],
    { env: baseEnv(db, extra), encoding: 'utf8', timeout: CHILD_TIMEOUT_MS }).trim();
}

// A cluster CA and a certificate per node made by `actorcable cluster-certs` in a temp dir (gone
// when the process exits); returns tlsEnv(name): the node's ACTORCABLE_CLUSTER_TLS_* variables
// (a name not made yet is made then, under the same CA).
export function clusterCerts(names = []) {
  const dir = mkdtempSync(`${tmpdir()}/actorcable-certs-`);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const make = (list) => execFileSync(BIN, ['cluster-certs', dir, ...list], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
  make(names);
  return (name) => {
    if (!existsSync(`${dir}/${name}.pem`)) make([name]);
    return { ACTORCABLE_CLUSTER_TLS_CERT: `${dir}/${name}.pem`,
      ACTORCABLE_CLUSTER_TLS_KEY: `${dir}/${name}.key`, ACTORCABLE_CLUSTER_TLS_CA: `${dir}/ca.pem` };
  };
}

const configFiles = [];
process.on('exit', () => { for (const f of configFiles) rmSync(f, { force: true }); });

// Writes an ini file with the given { "section.key": value } settings; returns its path.
export function configFile(settings) {
  const bySection = {};
  for (const [k, v] of Object.entries(settings)) {
    const dot = k.lastIndexOf('.');  // [provider.NAME] sections have a dot in their name
    const [section, key] = [k.slice(0, dot), k.slice(dot + 1)];
    (bySection[section] ??= []).push(`${key} = ${v}`);
  }
  const text = Object.entries(bySection).map(([s, lines]) => `[${s}]\n${lines.join('\n')}`).join('\n');
  const path = `${tmpdir()}/actorcable-${process.pid}-${Math.random().toString(36).slice(2)}.ini`;
  writeFileSync(path, text + '\n');
  configFiles.push(path);
  return path;
}

// Starts `actorcable serve`; resolves once it logs "listening" (within LISTEN_TIMEOUT_MS).
// `wrap`: a command that execs the server (e.g. ['prlimit', '--nofile=128:128']).
export function startServer(db, extra = {}, { config, wrap = [], descriptorsExhausted = false } = {}) {
  let proc;
  const starting = new Promise((resolve, reject) => {
    const args = config ? ['--config', configFile(config), 'serve'] : ['serve'];
    const [cmd, ...cmdArgs] = [...wrap, BIN, ...args];
    // Such a server's vptr checks fail for want of descriptors (see serverProblems): they are
    // suppressed for it (tests/ubsan-no-descriptors.supp); any other report still stops it.
    const env = descriptorsExhausted && process.env.UBSAN_OPTIONS
      ? { ...extra, UBSAN_OPTIONS: process.env.UBSAN_OPTIONS.replace(/ubsan\.supp/, 'ubsan-no-descriptors.supp') } : extra;
    proc = spawn(cmd, cmdArgs, { env: baseEnv(db, env), stdio: ['ignore', 'pipe', 'pipe'] });
    const logs = [];
    const waiters = [];
    const rl = createInterface({ input: proc.stderr });
    let started = false;
    rl.on('line', (line) => {
      logs.push(line);
      if (process.env.ACTORCABLE_TEST_VERBOSE) console.error('[server]', line);
      for (const w of [...waiters]) if (w.pred(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
      if (!started && line.includes('"component":"server","event":"listening"')) {
        started = true;
        const port = Number(JSON.parse(line).port);
        const server = {
          descriptorsExhausted,
          port, proc, logs, exited,
          http: `http://127.0.0.1:${port}`,
          ws: `ws://127.0.0.1:${port}/cable`,
          // Resolves with the first log line (already seen or future) matching pred.
          waitLog(pred, ms = 10000) {
            const seen = logs.find(pred);
            if (seen) return Promise.resolve(seen);
            return withTimeout(new Promise((res) => waiters.push({ pred, resolve: res })), ms, 'log line');
          },
          // Resolves with { code, signal } once the process is gone. The first stop decides
          // what the end-of-file check expects of the exit.
          async stop(signal = 'SIGTERM') {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            server.expectedSignal ??= signal;
            proc.kill(signal);
            return exited;
          },
        };
        servers.push(server);
        resolve(server);
      }
    });
    const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
    proc.on('exit', (code, signal) => {
      if (!started) reject(new Error(`server exited ${code ?? signal} before listening:\n${logs.join('\n')}`));
    });
  });
  return withTimeout(starting, LISTEN_TIMEOUT_MS, 'the server to listen').catch((e) => {
    proc?.kill('SIGKILL');
    throw e;
  });
}

// Under AddressSanitizer (scripts/test's second pass) freed memory sits in a quarantine of up to
// 256 MiB before it is reused, and its shadow and allocator add to that: memory bounds allow
// for it there (the cases bounded grew by gigabytes before their fixes).
export const SANITIZER_SLACK_BYTES = /detect_leaks/.test(process.env.ASAN_OPTIONS ?? '') ? 768 * 1024 * 1024 : 0;
// And it runs code about three times slower: latency bounds are stretched by as much there.
// Set in one place, tests/CMakeLists.txt (ACTORCABLE_TIME_FACTOR), for CTest's limits and these.
export const SANITIZER_TIME_FACTOR = Number(process.env.ACTORCABLE_TIME_FACTOR ?? 1);

// Server-side figures from /proc: resident memory (bytes) and CPU time used (seconds).
export function rssBytes(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime + stime, in clock ticks
}

export async function metricValue(server, name) {
  const text = await (await fetch(`${server.http}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.split(' ')[1]);
}

// Polls `probe` (async) until pred holds for its value; the value, or an error after `ms`.
export async function eventually(probe, pred, ms, what) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (pred(v)) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
  ]);
}

export async function api(server, tok, method, path, body) {
  const headers = { 'content-type': 'application/json' };
  if (tok) headers.authorization = `Bearer ${tok}`;
  const res = await fetch(server.http + path, { method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

export async function newChat(server, tok) {
  const r = await api(server, tok, 'POST', '/api/chats', { title: 'test' });
  if (r.status !== 201) throw new Error(`chat not created: ${r.status} ${r.text}`);
  return r.json;
}

export async function ask(server, tok, chatId, content) {
  const r = await api(server, tok, 'POST', `/api/chats/${chatId}/messages`, { content });
  if (r.status !== 201) throw new Error(`message not created: ${r.status} ${r.text}`);
  return r.json;
}

export function messageRow(db, oidDecoded) {
  const out = psql(db, `SELECT content, streaming, coalesce(stream_status,'') FROM messages WHERE id = ${Number(oidDecoded)}`);
  return out;
}

// The row of a message given its obfuscated id, read through the API owner.
export async function finalMessage(server, tok, messageId) {
  const r = await api(server, tok, 'GET', `/api/messages/${messageId}`);
  return r.json;
}

// A raw ActionCable client on `ws`: collects parsed frames; `next(pred)` awaits one.
export function rawCable(url, { protocols = ['actioncable-v1-json', 'actioncable-unsupported'], headers } = {}) {
  const ws = new WebSocket(url, protocols, { headers });
  const frames = [];
  const waiters = [];
  let closed = null;
  const closedPromise = new Promise((resolve) => ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; resolve(closed); }));
  ws.on('message', (data, isBinary) => {
    const text = data.toString();
    let f;
    try { f = JSON.parse(text); } catch { f = { unparsed: text }; }
    frames.push(f);
    for (const w of [...waiters]) if (w.pred(f)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(f); }
  });
  ws.on('error', () => {});
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  return {
    ws, frames, opened, closed: closedPromise,
    get protocol() { return ws.protocol; },
    send(obj) { ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); },
    next(pred, ms = 10000, what = 'frame') {
      const seen = frames.find(pred);
      if (seen) return Promise.resolve(seen);
      return withTimeout(new Promise((resolve) => waiters.push({ pred, resolve })), ms, what);
    },
    close() { ws.close(); },
  };
}

export const messageIdentifier = (oid) => JSON.stringify({ channel: 'SyncChannel', model: 'Message', id: oid });

// A plain raw client of `tok` on `node` watching message `oid`: updates() counts its updates,
// text() assembles what it was shown, ends() its ends, end() awaits the first.
export function watchRaw(node, tok, oid) {
  const c = rawCable(`${node.ws}?jid=${tok}`);
  c.opened.then(() => c.send({ command: 'subscribe', identifier: messageIdentifier(oid) }));
  c.updates = () => c.frames.filter((f) => f.message?.action === 'streaming_update').length;
  c.text = () => c.frames.filter((f) => f.message?.action === 'current_state' || f.message?.action === 'streaming_update')
    .reduce((t, f) => (f.message.action === 'current_state' ? f.message.content : t + f.message.chunk), '');
  c.ends = () => c.frames.filter((f) => f.message?.action === 'streaming_end');
  c.end = (ms = 40000) => c.next((f) => f.message?.action === 'streaming_end', ms, 'streaming_end');
  return c;
}

// A TCP proxy in front of the server whose connections the test can cut (no close frame).
// `target` may be set later (the proxy's port can then go into the server's configuration).
export function startProxy(targetPort) {
  const pairs = new Set();
  let proxy;
  const server = createServer((client) => {
    const upstream = connect(proxy.target, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('error', drop); upstream.on('error', drop);
    client.on('close', drop); upstream.on('close', drop);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(proxy = {
    target: targetPort,
    port: server.address().port,
    get open() { return pairs.size; },
    cutAll() { for (const p of [...pairs]) { p.client.resetAndDestroy?.() ?? p.client.destroy(); p.upstream.destroy(); } },
    close() { this.cutAll(); return new Promise((r) => server.close(r)); },
  })));
}

// Counts every UPDATE of a messages row as PostgreSQL executes it (claim, appends, lease
// renewals, final write), for SPEC §6's bound of about 10 UPDATEs per second per message.
// perSecond(where) gives, per message matching `where` (SQL on m, the messages row), its UPDATEs
// over the seconds from its creation to its last UPDATE; stop() removes the trigger.
export function countRowUpdates(conninfo) {
  psql(conninfo, `CREATE TABLE IF NOT EXISTS test_row_updates (id bigint, at timestamptz DEFAULT clock_timestamp());
    CREATE OR REPLACE FUNCTION test_log_update() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO test_row_updates (id) VALUES (NEW.id); RETURN NEW; END $$;
    DROP TRIGGER IF EXISTS test_log_update ON messages;
    CREATE TRIGGER test_log_update AFTER UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION test_log_update()`);
  return {
    perSecond(where) {
      return psql(conninfo, `SELECT count(*), extract(epoch FROM max(u.at) - min(m.created_at))
        FROM test_row_updates u JOIN messages m ON m.id = u.id WHERE ${where} GROUP BY m.id`)
        .split('\n').map((l) => { const [count, seconds] = l.split('|').map(Number); return { count, seconds, rate: count / seconds }; });
    },
    stop() { psql(conninfo, 'DROP TRIGGER test_log_update ON messages'); },
  };
}
