// Memory is handed back after a load (SPEC §17): 20 answers of 5 MB streamed by outside
// producers to 100 watchers raise RSS by well over 64 MiB; once they ended, their actors are
// gone and the node idles, RSS is back within 64 MiB of where it started. Release pass only
// (scripts/test leaves it out of the sanitizer pass: ASan's quarantine holds freed memory on
// purpose).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase, startServer, token, api, newChat, rawCable, messageIdentifier, withTimeout,
  metricValue, eventually, rssBytes, NO_LIMITS } from './harness.mjs';

const MiB = 1024 * 1024;
const KEY = `memory-ingest-${process.pid}-abcdefgh`;
let db, server, alice;

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  server = await startServer(db, { ...NO_LIMITS, ACTORCABLE_INGEST_KEY: KEY },
    { config: { 'streams.retention_s': 1, 'server.subscribe_burst': 1000 } });
});
after(() => server.stop());

const metric = (name) => metricValue(server, name);

async function produce(oid, parts, piece) {
  const lines = [];
  for (let i = 0; i < parts; i++) lines.push(JSON.stringify({ type: 'text', text: piece }));
  lines.push('{"type":"end"}');
  const res = await fetch(`${server.http}/ingest/messages/${oid}/stream`, { method: 'POST',
    headers: { authorization: `Bearer ${KEY}` }, body: lines.join('\n') + '\n' });
  assert.equal(res.status, 200);
  return res.json();
}

test('RSS returns to within 64 MiB of its start once a load of 100 MB has passed', { timeout: 120000 }, async () => {
  // The start: the node served one request and handed back what starting up freed.
  const chat = await newChat(server, alice);
  const trims = await metric('actorcable_memory_trims_total');
  const first = rawCable(`${server.ws}?jid=${alice}`);  // a command: activity a trim follows
  first.opened.then(() => first.send({ command: 'subscribe', identifier: JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id: chat.id }) }));
  await first.next((f) => f.type === 'confirm_subscription', 10000, 'subscribed');
  first.close();
  await eventually(() => metric('actorcable_memory_trims_total'), (n) => n > trims, 20000, 'a trim');
  const start = rssBytes(server.proc.pid);

  const answers = [];
  for (let i = 0; i < 20; i++) {
    const r = await api(server, KEY, 'POST', `/ingest/chats/${chat.id}/answers`, {});
    assert.equal(r.status, 201);
    answers.push(r.json.id);
  }
  const watchers = [];
  for (const oid of answers)
    for (let k = 0; k < 5; k++) {
      const c = rawCable(`${server.ws}?jid=${alice}`);
      c.opened.then(() => c.send({ command: 'subscribe', identifier: messageIdentifier(oid) }));
      watchers.push(c);
    }
  await Promise.all(watchers.map((c) => c.next((f) => f.type === 'confirm_subscription', 20000, 'subscribed')));
  const piece = 'z'.repeat(50 * 1024);
  let peak = start;
  const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(server.proc.pid)); }, 20);
  let told;
  try {
    told = await Promise.all(answers.map((oid) => produce(oid, 100, piece)));
  } finally {
    clearInterval(sampler);
  }
  assert.ok(told.every((t) => t.status === 'complete' && t.content_length === 100 * piece.length));
  // Each watcher saw the end, or fell too far behind and was let go (both free its frames). One
  // deadline each, cleared when it settles: no timer outlives the test.
  const ended = (c) => c.frames.some((f) => f.message?.action === 'streaming_end');
  await Promise.all(watchers.map((c) => withTimeout(new Promise((resolve) => {
    if (ended(c) || c.ws.readyState === 3) return resolve();
    c.ws.on('message', () => { if (ended(c)) resolve(); });
    c.ws.on('close', resolve);
  }), 60000, 'the end or a close')));
  const loaded = Math.max(peak, rssBytes(server.proc.pid));
  assert.ok(loaded - start > 64 * MiB, `the load raised RSS by ${((loaded - start) / MiB).toFixed(0)} MiB only`);
  for (const c of watchers) c.close();

  // Idle: the answers' actors retire, the connections close, a trim follows.
  await eventually(() => metric('actorcable_message_actors_num'), (n) => n === 0, 30000, 'the actors to retire');
  await eventually(() => metric('actorcable_clients_num'), (n) => n === 0, 30000, 'the connections to close');
  // Large blocks went back when freed; the trim that follows the last change (within its 5 s
  // period) returns the rest.
  const end = await eventually(async () => rssBytes(server.proc.pid), (r) => r - start < 64 * MiB, 20000,
    `RSS within 64 MiB of the ${(start / MiB).toFixed(0)} MiB at the start (${(loaded / MiB).toFixed(0)} loaded)`)
    .catch((e) => { throw new Error(`${e.message}; trims ${trims}`); });
  console.log(`RSS: ${(start / MiB).toFixed(0)} MiB at the start, ${(loaded / MiB).toFixed(0)} loaded, ${(end / MiB).toFixed(0)} after`);
});
