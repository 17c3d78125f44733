// The commands a person and an operator run (SPEC §1): `scripts/run` as README shows it,
// `actorcable migrate` and `seed` (idempotent), and the default bind address.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createDatabase, BIN, SECRET, NO_LIMITS, psql, withTimeout, serverProblems } from './harness.mjs';

const ROOT = process.env.ACTORCABLE_SOURCE_DIR;
let db;

before(() => { db = createDatabase(); });

const run = (args, extra = {}) => execFileSync(BIN, args, {
  env: { ...process.env, DATABASE_URL: db, ACTORCABLE_SECRET: SECRET, ...extra }, encoding: 'utf8', timeout: 30000,
  stdio: ['ignore', 'pipe', 'pipe'] });

test('migrate and seed can run again and again', () => {
  run(['migrate']);
  const versions = psql(db, 'SELECT count(*) FROM schema_migrations');
  run(['migrate']);
  assert.equal(psql(db, 'SELECT count(*) FROM schema_migrations'), versions);
  assert.ok(Number(versions) >= 3);
  const chat = run(['seed', '--email', 'seed@example.com']).trim();
  assert.match(chat, /^[a-zA-Z]{6,}$/);
  assert.equal(run(['seed', '--email', 'seed@example.com']).trim(), chat, 'the same chat the second time');
  assert.equal(psql(db, `SELECT count(*) FROM users WHERE email_address = 'seed@example.com'`), '1');
});

test('the default bind address is 127.0.0.1:8080', () => {
  const env = { ...process.env, DATABASE_URL: db, ACTORCABLE_SECRET: SECRET };
  delete env.ACTORCABLE_BIND;
  const out = execFileSync(BIN, ['config'], { env, encoding: 'utf8', timeout: 30000 });
  assert.match(out, /^server\.bind = 127\.0\.0\.1:8080$/m);
});

test('scripts/run: quiet steps, the page URL last, a working page, and Ctrl-C stops it all', { timeout: 180000 }, async () => {
  const env = { ...process.env, ...NO_LIMITS, DATABASE_URL: db, ACTORCABLE_BIND: '127.0.0.1:0' };
  delete env.ACTORCABLE_SECRET;  // scripts/run makes its own
  // Its own process group: a failed test ends the script and the server it started alike.
  const proc = spawn(`${ROOT}/scripts/run`, [], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = [], logs = [];
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const listening = new Promise((resolve) => createInterface({ input: proc.stderr }).on('line', (l) => {
    logs.push(l);
    // The server's own line (the access listener logs a "listening" of its own).
    if (l.includes('"event":"listening"') && JSON.parse(l).port !== undefined) resolve(JSON.parse(l).port);
  }));
  const banner = new Promise((resolve) => createInterface({ input: proc.stdout }).on('line', (l) => {
    out.push(l);
    if (l.includes('Ctrl-C stops the server')) resolve();
  }));
  try {
    await withTimeout(banner, 170000, 'the page URL');  // a cold machine builds first
    const port = await withTimeout(listening, 30000, 'the server to listen');
    const steps = out.filter((l) => l.startsWith('run: '));
    assert.deepEqual(steps.map((l) => l.replace(/ \.\.\. ok$/, '')),
      ['run: install', 'run: build', 'run: database from DATABASE_URL', 'run: migrate', 'run: demo user and chat']);
    const text = out.join('\n');
    assert.doesNotMatch(text, /warning|error|\[ *\d+%\]/i, 'no compiler or build output');
    const url = text.match(/Open the chat page: +(http:\/\/\S+\/\?token=\S+)/)[1];
    const page = await fetch(url.replace('127.0.0.1:0', `127.0.0.1:${port}`));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Message/);
    process.kill(proc.pid, 'SIGINT');
    const { code } = await withTimeout(exited, 30000, 'scripts/run to exit');
    assert.equal(code, 130, 'interrupted, as a shell reports Ctrl-C');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the server was stopped with it');
    const stopped = logs.filter((l) => l.includes('"event":"stopped"'));
    assert.equal(stopped.length, 1, 'the server shut down cleanly');
    // scripts/run stopped the server with SIGTERM and reports how it exited (read to its end).
    if (!proc.stdout.closed) await withTimeout(new Promise((r) => proc.stdout.once('close', r)), 10000, 'the output');
    const exit = /run: server stopped \(exit status (\d+)\)/.exec(out.join('\n'));
    assert.ok(exit, 'scripts/run reported the server\'s exit');
    assert.deepEqual(serverProblems({ logs, expectedSignal: 'SIGTERM' }, { code: Number(exit[1]), signal: null }), []);
  } finally {
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* the group has ended */ }
  }
});
