// What an operator relies on: /metrics valid for Prometheus, logs free of secrets, configuration
// errors that stop the start with the key named, `actorcable config` with secrets masked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createDatabase, startServer, token, newChat, ask, baseEnv, BIN, configFile, withTimeout,
  api, CHILD_TIMEOUT_MS } from './harness.mjs';
import { createConsumer, watchMessage } from './cable_env.mjs';

let db, server, alice;

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  server = await startServer(db, { OPENAI_API_KEY: 'sk-never-log-this' });
});

after(async () => { await server.stop(); });

test('/metrics passes promtool and counts what happened', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:10]] [[rate:50]] [[delay:1000]]');
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  const w = watchMessage(consumer, response.id);
  await withTimeout(w.ended, 10000, 'end');
  consumer.disconnect();
  const res = await fetch(`${server.http}/metrics`);
  assert.match(res.headers.get('content-type'), /text\/plain/);
  const text = await res.text();
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
  const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))[1]);
  assert.ok(value('actorcable_chunks_total') >= 10);
  assert.ok(value('actorcable_broadcast_msg_total') >= 10);
  assert.ok(value('actorcable_persist_finishes_total') >= 1);
  assert.ok(value('actorcable_time_to_first_token_seconds_count') >= 1);
  assert.ok(value('actorcable_answer_duration_seconds_count') >= 1);
  const updates = w.events.filter((e) => e.action === 'streaming_update').length;
  assert.ok(updates >= 1);
  assert.ok(value('actorcable_emit_to_socket_seconds_count') >= updates);
  assert.match(text, /^actorcable_provider_errors_total\{kind="timeout"\} 0$/m);
});

test('the log of a full run holds no token and no API key, one JSON object per line', async () => {
  // Tokens went by in URLs (?jid=) and headers during the tests above and here.
  assert.equal((await api(server, alice, 'GET', '/api/chats')).status, 200);
  await fetch(`${server.http}/api/chats?jid=${alice}`, { headers: { authorization: `Bearer ${alice}x` } });
  const lines = server.logs;
  assert.ok(lines.length > 3);
  for (const line of lines) {
    const entry = JSON.parse(line);
    for (const key of ['time', 'level', 'component', 'event']) assert.ok(entry[key], `${key} in ${line}`);
    assert.ok(!line.includes(alice.split('.')[2]), 'no JWT in the log');
    assert.ok(!line.includes('sk-never-log-this'), 'no API key in the log');
  }
});

function run(args, env = {}) {
  return spawnSync(BIN, args, { env: baseEnv(db, env), encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
}

test('an unknown key or an invalid value stops the start with exit code 2 and names the key', () => {
  const unknown = run(['--config', configFile({ 'server.colour': 'blue' }), 'serve']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown key server\.colour/);
  const invalid = run(['--config', configFile({ 'server.io_threads': 'many' }), 'serve']);
  assert.equal(invalid.status, 2);
  assert.match(invalid.stderr, /server\.io_threads/);
  const badEnv = run(['serve'], { ACTORCABLE_IDLE_TIMEOUT_S: '-3' });
  assert.equal(badEnv.status, 2);
  assert.match(badEnv.stderr, /streams\.idle_timeout_s/);
  const badBind = run(['serve'], { ACTORCABLE_BIND: 'nowhere' });
  assert.equal(badBind.status, 2);
  assert.match(badBind.stderr, /ACTORCABLE_BIND/);
  const badProvider = run(['serve'], { AI_PROVIDER: 'magic' });
  assert.equal(badProvider.status, 2);
  assert.match(badProvider.stderr, /AI_PROVIDER/);
});

test('actorcable config prints the effective configuration with secrets masked', () => {
  const out = run(['config'], { OPENAI_API_KEY: 'sk-hidden', ACTORCABLE_BIND: '0.0.0.0:9999' });
  assert.equal(out.status, 0);
  assert.match(out.stdout, /^server\.bind = 0\.0\.0\.0:9999$/m);
  assert.match(out.stdout, /^provider\.openai_api_key = \*+$/m);
  assert.match(out.stdout, /^auth\.secret = \*+$/m);
  assert.match(out.stdout, /^database\.url = \*+$/m);
  assert.ok(!out.stdout.includes('sk-hidden'));
  assert.match(out.stdout, /^streams\.flush_interval_ms = 120$/m);
});

test('conf/actorcable.ini documents exactly the built-in defaults, every key of them', () => {
  const clean = (cfg) => {
    const env = { ...process.env, DATABASE_URL: '', ACTORCABLE_SECRET: '' };
    for (const k of Object.keys(env)) if (/^(ACTORCABLE_|OPENAI_|AI_PROVIDER$)/.test(k)) delete env[k];
    return spawnSync(BIN, ['--config', cfg, 'config'], { env, encoding: 'utf8', timeout: 30000 });
  };
  const documented = clean(`${process.env.ACTORCABLE_SOURCE_DIR}/conf/actorcable.ini`);
  const builtIn = clean(configFile({}));
  assert.equal(documented.status, 0, documented.stderr);
  assert.equal(builtIn.status, 0, builtIn.stderr);
  assert.ok(builtIn.stdout.split('\n').length > 40);
  assert.equal(documented.stdout, builtIn.stdout);
});

test('a value out of its range stops the start with exit code 2 and names the key', () => {
  const zero = run(['--config', configFile({ 'server.io_threads': 0 }), 'serve']);
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /server\.io_threads/);
  const lease = run(['--config', configFile({ 'node.lease_s': 1 }), 'serve']);
  assert.equal(lease.status, 2);
  assert.match(lease.stderr, /node\.lease_s/);
});

test('--help and --version', () => {
  const help = run(['--help']);
  assert.equal(help.status, 0);
  for (const word of ['serve', 'migrate', 'token', 'DATABASE_URL']) assert.ok(help.stdout.includes(word));
  assert.match(run(['--version']).stdout, /^actorcable \d+\.\d+\.\d+/);
  assert.equal(run(['frobnicate']).status, 2);
});
