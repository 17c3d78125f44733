// Crash safety (SPEC §6): SIGKILL and restart, SIGTERM with answers streaming, PostgreSQL
// restarts and outages under a streaming answer.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import Hashids from 'hashids';
import { createDatabase, startServer, token, api, newChat, ask,
  withTimeout, psql, eventually, watchRaw } from './harness.mjs';

const PGDIR = process.env.ACTORCABLE_TEST_PGDIR;
const PGPORT = process.env.ACTORCABLE_TEST_PGPORT;
const PGCTL = `${process.env.ACTORCABLE_SOURCE_DIR}/scripts/pg`;
if (!PGDIR || !PGPORT || !process.env.ACTORCABLE_SOURCE_DIR) throw new Error('run through scripts/test');
const pg = (...args) => execFileSync(PGCTL, args, { stdio: 'ignore', timeout: 60000 });

let db, alice;
before(() => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
});

const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
const stored = (oid) => psql(db, `SELECT streaming::text || '|' || coalesce(stream_status, '') || '|' || content FROM messages WHERE id = ${Number(messageIds.decode(oid)[0])}`);

// The text a plain client sees for one message (harness.watchRaw).
const watch = (server, oid) => watchRaw(server, alice, oid);

async function message(server, oid) {
  return (await api(server, alice, 'GET', `/api/messages/${oid}`)).json;
}

// With streams.continue = off (SPEC §12 continues it: e2e.continuation).
test('SIGKILL mid-stream, then a restart closes the orphan; a resubscriber gets interrupted', async () => {
  const off = { config: { 'streams.continue': 'off' } };
  const a = await startServer(db, {}, off);
  const chat = await newChat(a, alice);
  const { response } = await ask(a, alice, chat.id, '[[chunks:1000]] [[rate:30]]');
  const c = watch(a, response.id);
  await c.next((f) => f.message?.action === 'streaming_update' && c.text().length > 40, 10000, 'some text');
  // Some of it persisted (a flush), so that the prefix check below has something to check.
  await eventually(async () => stored(response.id).split('|')[2].length, (n) => n > 0, 10000, 'a first flush');
  await a.stop('SIGKILL');
  const killedAt = Date.now();
  const delivered = c.text();
  const b = await startServer(db, {}, off);
  try {
    const m = await message(b, response.id);
    assert.equal(m.streaming, false, 'closed by the time the new server answers');
    assert.ok(Date.now() - killedAt < 10000);
    assert.equal(m.status, 'interrupted');
    assert.ok(m.content.length > 0, 'something was persisted before the kill');
    assert.ok(delivered.startsWith(m.content), 'the stored text is what was persisted before the kill');
    const again = watch(b, response.id);
    const end = await again.next((f) => f.message?.action === 'streaming_end', 5000, 'streaming_end');
    assert.equal(end.message.status, 'interrupted');
    again.close();
  } finally {
    c.close();
    await b.stop();
  }
});

test('SIGTERM with two answers streaming: clients told server_restart, rows closed, exit 0', async () => {
  const s = await startServer(db, {}, { config: { 'server.drain_s': 1 } });
  const ids = [];
  const clients = [];
  for (let i = 0; i < 2; i++) {
    const chat = await newChat(s, alice);  // one each: a second question in one chat would cancel the first
    const { response } = await ask(s, alice, chat.id, `answer ${i} [[chunks:1000]] [[rate:30]]`);
    ids.push(response.id);
    const c = watch(s, response.id);
    await c.next((f) => f.message?.action === 'streaming_update', 5000, 'streaming');
    clients.push(c);
  }
  const { code } = await s.stop('SIGTERM');
  assert.equal(code, 0);
  for (const c of clients) {
    const bye = await c.next((f) => f.type === 'disconnect', 5000, 'disconnect');
    assert.deepEqual(bye, { type: 'disconnect', reason: 'server_restart', reconnect: true });
    c.close();
  }
  assert.equal(psql(db, 'SELECT count(*) FROM messages WHERE streaming'), '0', 'no row left streaming');
  for (const [i, c] of clients.entries()) {
    const [streaming, status, content] = stored(ids[i]).split('|');
    assert.equal(streaming, 'false');
    assert.equal(status, 'interrupted');
    assert.ok(content.startsWith(c.text()), 'the stored text continues what the client saw');
    assert.ok(content.length >= c.text().length);
  }
});

test('PostgreSQL restarted three times during one answer: the stored text equals the delivered text', async () => {
  const s = await startServer(db);
  try {
    const chat = await newChat(s, alice);
    const { response } = await ask(s, alice, chat.id, '[[chunks:120]] [[rate:30]]');
    const c = watch(s, response.id);
    for (let i = 0; i < 3; i++) {
      const want = 10 * (i + 1);
      await c.next(() => c.frames.filter((f) => f.message?.action === 'streaming_update').length >= want, 10000, `${want} updates`);
      pg('restart', PGDIR);
    }
    const end = await c.next((f) => f.message?.action === 'streaming_end', 20000, 'end');
    assert.equal(end.message.status, 'complete');
    const r = await api(s, alice, 'GET', `/api/messages/${response.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.streaming, false);
    assert.equal(r.json.content, c.text());
    c.close();
  } finally {
    await s.stop();
  }
});

test('a database down past the limit ends the stream with error; the text is written once it is back', async () => {
  const s = await startServer(db, {}, { config: { 'streams.db_down_limit_s': 2, 'node.lease_s': 3 } });
  let stopped = false;
  try {
    const chat = await newChat(s, alice);
    const { response } = await ask(s, alice, chat.id, '[[chunks:2000]] [[rate:20]]');
    const c = watch(s, response.id);
    await c.next((f) => f.message?.action === 'streaming_update', 5000, 'streaming');
    pg('stop', PGDIR);
    stopped = true;
    const until = Date.now() + 10000;
    while ((await fetch(`${s.http}/healthz`)).status !== 503) {
      assert.ok(Date.now() < until, '/healthz never said 503');
      await new Promise((r) => setTimeout(r, 100));
    }
    const end = await c.next((f) => f.message?.action === 'streaming_end', 15000, 'end');
    assert.equal(end.message.status, 'error');
    const delivered = c.text();
    pg('start', PGDIR, PGPORT);
    stopped = false;
    const back = Date.now() + 15000;
    for (;;) {
      const now = stored(response.id);
      if (now === `false|error|${delivered}`) break;
      assert.ok(Date.now() < back, `row not written: ${now.length} ${now.slice(-60)} vs ${delivered.length} ${delivered.slice(-40)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await fetch(`${s.http}/healthz`)).status, 200);
    c.close();
  } finally {
    if (stopped) pg('start', PGDIR, PGPORT);
    await s.stop();
  }
});
