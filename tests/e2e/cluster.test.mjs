// A cluster of three `actorcable serve` processes on loopback sharing one PostgreSQL (SPEC §8):
// clients on any node, one copy of each event per node, node loss, a paused node fenced off,
// history across nodes. Unmodified @rails/actioncable and @anycable/core clients. Answers here
// end with their node (streams.continue = off); e2e.continuation has them outlive it (SPEC §12).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { request } from 'node:http';
import WebSocket from 'ws';
import { createCable } from '@anycable/core';
import Hashids from 'hashids';
import { createDatabase, startServer, token, api, newChat, ask, rawCable, messageIdentifier,
  withTimeout, psql, psqlAsync, metricValue, clusterCerts, SANITIZER_TIME_FACTOR, watchRaw } from './harness.mjs';
import { createConsumer, watchMessage } from './cable_env.mjs';

const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
const rowId = (oid) => Number(messageIds.decode(oid)[0]);
const chatIds = new Hashids('Default ID Obfuscation Salt for Chat', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');

let db, alice;
const INGEST_KEY = `cluster-ingest-${process.pid}-abcdefgh`;
const names = ['node-a', 'node-b', 'node-c'];
const nodes = {};

const tls = clusterCerts(names);  // SPEC §17: nodes talk over mutual TLS

// No peer list: each node binds a free port and finds the others in the cluster_nodes table.
function startNode(name) {
  return startServer(db, {
    ACTORCABLE_NODE_NAME: name,
    ACTORCABLE_CLUSTER_BIND: '127.0.0.1:0',
    ACTORCABLE_INGEST_KEY: INGEST_KEY,
    ...tls(name),
  }, { config: { 'server.subscribe_burst': 1000, 'streams.retention_s': 60, 'streams.continue': 'off' } });
}

// Resolves once `node` logged that it is connected to `peer` (again, if `after` log lines are
// skipped: a rejoin).
function connectedTo(node, peer, after = 0, ms = 15000) {
  const matches = (l) => l.includes('"event":"peer_connected"') && l.includes(`"peer":"${peer}"`);
  const seen = node.logs.slice(after).find(matches);
  if (seen) return Promise.resolve(seen);
  return node.waitLog((l) => node.logs.indexOf(l) >= after && matches(l), ms);
}

const metric = metricValue;
// SPEC §8: a dead node's streams are closed within 10 s (stretched under the sanitizers).
const DEAD_NODE_MS = 10000 * SANITIZER_TIME_FACTOR;

const stored = (oid) => {
  const [streaming, status, content, updated] =
    psql(db, `SELECT streaming::text, coalesce(stream_status, ''), content, updated_at::text FROM messages WHERE id = ${rowId(oid)}`).split('|');
  return { streaming: streaming === 'true', status, content, updated };
};

async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  // One node first, the others later: a node starts before its peers and connects when they come up.
  nodes.a = await startNode('node-a');
  nodes.b = await startNode('node-b');
  nodes.c = await startNode('node-c');
  for (const [x, peers] of [[nodes.a, ['node-b', 'node-c']], [nodes.b, ['node-a', 'node-c']], [nodes.c, ['node-a', 'node-b']]])
    for (const p of peers) await connectedTo(x, p);
});

after(async () => {
  for (const n of Object.values(nodes)) await n.stop();
});

// A plain raw client on `node` watching `oid` (harness.watchRaw).
const rawWatch = (node, oid) => watchRaw(node, alice, oid);

test('an answer streaming on node A reaches @rails/actioncable on B and @anycable/core on C, exactly', async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'cluster [[chunks:60]] [[rate:40]]');
  const consumer = createConsumer(`${nodes.b.ws}?jid=${alice}`);
  const cable = createCable(`${nodes.c.ws}?jid=${alice}`, {
    protocol: 'actioncable-v1-ext-json', websocketImplementation: WebSocket, logLevel: 'error' });
  try {
    const onB = watchMessage(consumer, response.id);
    const onC = { text: '', status: null };
    const endedC = new Promise((resolve) => {
      cable.subscribeTo('SyncChannel', { model: 'Message', id: response.id }).on('message', (msg) => {
        if (msg.action === 'current_state') onC.text = msg.content;
        else if (msg.action === 'streaming_update') onC.text += msg.chunk;
        else if (msg.action === 'streaming_end') { onC.status = msg.status; resolve(); }
      });
    });
    await withTimeout(onB.ended, 20000, 'end on B');
    await withTimeout(endedC, 20000, 'end on C');
    const row = stored(response.id);
    assert.equal(row.streaming, false);
    assert.equal(onB.status, 'complete');
    assert.equal(onC.status, 'complete');
    assert.equal(onB.text, row.content);
    assert.equal(onC.text, row.content);
    assert.ok(row.content.length > 0);
  } finally {
    consumer.disconnect();
    cable.disconnect();
  }
});

test('an outside producer streams to node B; a subscriber on C that came before it sees it all, exactly; B owns the row', async () => {
  const chat = await newChat(nodes.a, alice);
  const created = await api(nodes.a, INGEST_KEY, 'POST', `/ingest/chats/${chat.id}/answers`, {});
  assert.equal(created.status, 201);
  const oid = created.json.id;
  const consumer = createConsumer(`${nodes.c.ws}?jid=${alice}`);
  try {
    const onC = watchMessage(consumer, oid);
    await withTimeout(onC.connectedP, 10000, 'the subscription on C');
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
    const line = (part) => `${JSON.stringify(part)}\n`;
    const req = request(`${nodes.b.http}/ingest/messages/${oid}/stream`,
      { method: 'POST', headers: { authorization: `Bearer ${INGEST_KEY}` } });
    const response = new Promise((resolve, reject) => {
      req.on('response', (res) => { let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve({ status: res.statusCode, text: t })); });
      req.on('error', reject);
    });
    for (const text of words.slice(0, 20)) req.write(line({ type: 'text', text }));
    await withTimeout(onC.until((st) => st.text.length > 0), 15000, 'the first parts on C, live');
    for (const text of words.slice(20)) req.write(line({ type: 'text', text }));
    req.end(line({ type: 'end', status: 'complete' }));
    const r = await withTimeout(response, 20000, 'the producer\'s response');
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).status, 'complete');
    await withTimeout(onC.ended, 20000, 'end on C');
    const row = stored(oid);
    assert.equal(row.content, words.join(''));
    assert.equal(onC.text, row.content);
    assert.equal(onC.status, 'complete');
    assert.equal(psql(db, `SELECT owner_node FROM messages WHERE id = ${rowId(oid)}`), 'node-b');
  } finally {
    consumer.disconnect();
  }
});

test('200 subscribers on B, 50 chunks on A: each event crosses to B once', async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'fan-out [[chunks:50]] [[rate:25]] [[delay:1000]]');
  const sentBefore = await metric(nodes.a, 'actorcable_cluster_frames_sent_total');
  const receivedBefore = await metric(nodes.b, 'actorcable_cluster_frames_received_total');
  const clients = [];
  for (let i = 0; i < 200; i++) clients.push(rawWatch(nodes.b, response.id));
  try {
    await Promise.all(clients.map((c) => c.next((f) => f.type === 'confirm_subscription', 10000, 'confirm')));
    const ends = await Promise.all(clients.map((c) => c.end()));
    const row = stored(response.id);
    for (const c of clients) assert.equal(c.text(), row.content);
    assert.ok(ends.every((e) => e.message.status === 'complete'));
    // Every client was fed on B (live updates after whatever catch-up it joined with).
    assert.ok(clients.every((c) => c.updates() >= 1), 'each client on B got live updates');
    const sent = (await metric(nodes.a, 'actorcable_cluster_frames_sent_total')) - sentBefore;
    const received = (await metric(nodes.b, 'actorcable_cluster_frames_received_total')) - receivedBefore;
    // 50 updates and the end, once each for node B (not once per subscriber).
    assert.ok(sent >= 51 && sent <= 55, `${sent} live events sent from A`);
    assert.ok(received >= 51 && received <= 55, `${received} live events received on B`);
  } finally {
    for (const c of clients) c.close();
  }
});

test('history across nodes: @anycable/core moved from B to C mid-stream gets exactly the missing chunks', async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'move [[chunks:60]] [[rate:30]]');
  // A proxy in front of B, then of C: the client reconnects to the same address, another node.
  let target = nodes.b.port;
  const pairs = new Set();
  const proxy = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream); upstream.pipe(client);
    const drop = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    for (const s of [client, upstream]) { s.on('error', drop); s.on('close', drop); }
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  const cable = createCable(`ws://127.0.0.1:${proxy.address().port}/cable?jid=${alice}`, {
    protocol: 'actioncable-v1-ext-json', websocketImplementation: WebSocket, logLevel: 'error',
    reconnectStrategy: () => 50 });
  const seen = { text: '', offsets: [], states: 0, stateOffset: 0, status: null };
  let resolveEnd;
  const ended = new Promise((r) => { resolveEnd = r; });
  try {
    const channel = cable.subscribeTo('SyncChannel', { model: 'Message', id: response.id });
    let resolveSome;
    const some = new Promise((r) => { resolveSome = r; });
    channel.on('message', (msg, meta) => {
      if (msg.action === 'current_state') { seen.states++; seen.text = msg.content; seen.stateOffset = meta.offset; }
      else if (msg.action === 'streaming_update') {
        seen.text += msg.chunk;
        seen.offsets.push(meta.offset);
        if (seen.offsets.length === 10) resolveSome();
      } else if (msg.action === 'streaming_end') { seen.status = msg.status; seen.offsets.push(meta.offset); resolveEnd(); }
    });
    await withTimeout(some, 10000, 'ten updates on B');
    target = nodes.c.port;
    for (const p of [...pairs]) { p.client.resetAndDestroy(); p.upstream.destroy(); }
    await withTimeout(ended, 20000, 'end after moving to C');
    const row = stored(response.id);
    assert.equal(seen.status, 'complete');
    assert.equal(seen.text, row.content);
    assert.equal(seen.states, 1, 'no second current_state: the missing chunks were replayed');
    const expected = [...Array(61 - seen.stateOffset).keys()].map((k) => k + 1 + seen.stateOffset);
    assert.deepEqual(seen.offsets, expected, `offsets ${seen.stateOffset + 1}..61, each once`);
  } finally {
    cable.disconnect();
    for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); }
    await new Promise((r) => proxy.close(r));
  }
});

test('a chat subscription on C follows an answer started on A', async () => {
  const chat = await newChat(nodes.a, alice);
  const consumer = createConsumer(`${nodes.c.ws}?jid=${alice}`);
  try {
    const w = watchMessage(consumer, null, { identifierKeys: { channel: 'SyncChannel', model: 'Chat', id: `${chat.id}:messages` } });
    await withTimeout(w.connectedP, 5000, 'chat subscription');
    const { response } = await ask(nodes.a, alice, chat.id, 'to the chat [[chunks:30]] [[rate:40]]');
    await withTimeout(w.ended, 20000, 'end of the answer on the chat subscription');
    assert.ok(w.events.some((e) => e.action === 'refresh'), 'refresh when the message was created');
    assert.ok(w.events.filter((e) => e.action !== 'refresh').every((e) => e.id === response.id));
    assert.equal(w.status, 'complete');
    assert.equal(w.text, stored(response.id).content);
  } finally {
    consumer.disconnect();
  }
});

test('a chat subscription on C that arrives mid-answer gets the answer started on A, exactly', async () => {
  // Nobody on C follows the chat when the answer starts: C keeps no relay of it until the chat
  // subscription comes, then makes one and catches up.
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'mid-answer [[chunks:60]] [[rate:40]]');
  const early = rawWatch(nodes.a, response.id);
  const consumer = createConsumer(`${nodes.c.ws}?jid=${alice}`);
  try {
    await early.next((f) => f.message?.action === 'streaming_update', 10000, 'a first chunk on A');
    const w = watchMessage(consumer, null, { identifierKeys: { channel: 'SyncChannel', model: 'Chat', id: `${chat.id}:messages` } });
    await withTimeout(w.connectedP, 5000, 'chat subscription');
    await withTimeout(w.ended, 20000, 'end of the answer on the chat subscription');
    assert.ok(w.events.some((e) => e.action === 'current_state' && e.id === response.id),
      'a catch-up of the answer in progress');
    assert.equal(w.status, 'complete');
    assert.equal(w.text, stored(response.id).content);
  } finally {
    consumer.disconnect();
    early.close();
  }
});

test('/_broadcast on node A reaches the stream\'s subscribers on every node, once each; a chat renamed with psql refreshes them all', async () => {
  const chat = await newChat(nodes.a, alice);
  const id = JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id: chat.id });
  const clients = [];
  for (const n of [nodes.a, nodes.b, nodes.c]) {
    const c = rawCable(`${n.ws}?jid=${alice}`);
    await c.opened;
    c.send({ command: 'subscribe', identifier: id });
    await c.next((f) => f.type === 'confirm_subscription', 5000, 'the confirmation');
    clients.push(c);
  }
  const r = await api(nodes.a, INGEST_KEY, 'POST', '/_broadcast',
    [{ stream: `Chat:${chat.id}`, data: '{"n":1}' }, { stream: `Chat:${chat.id}`, data: '{"n":2}' }]);
  assert.equal(r.status, 201);
  await psqlAsync(db, `UPDATE chats SET title = 'renamed on no node' WHERE id = ${chatIds.decode(chat.id)[0]}`);
  for (const c of clients) {
    await c.next((f) => f.message?.action === 'refresh' && f.message?.prop === 'chat', 10000, 'the refresh');
    await c.next((f) => f.message?.n === 2, 10000, 'the broadcasts');
  }
  // A second broadcast as the marker: the first ones, each once, in order, before it.
  await api(nodes.a, INGEST_KEY, 'POST', '/_broadcast', { stream: `Chat:${chat.id}`, data: '{"n":3}' });
  for (const c of clients) {
    await c.next((f) => f.message?.n === 3, 10000, 'the marker');
    assert.deepEqual(c.frames.filter((f) => f.message?.n).map((f) => f.message.n), [1, 2, 3]);
    assert.equal(c.frames.filter((f) => f.message?.action === 'refresh' && f.message?.prop === 'chat').length, 1);
    c.close();
  }
});

test('POST /stop on node B cancels an answer streaming on node A', async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'to be stopped [[chunks:2000]] [[rate:30]]');
  const w = rawWatch(nodes.c, response.id);
  try {
    await w.next((f) => f.message?.action === 'streaming_update', 10000, 'updates on C');
    const r = await api(nodes.b, alice, 'POST', `/api/messages/${response.id}/stop`);
    assert.equal(r.status, 202);
    assert.equal((await w.end()).message.status, 'cancelled');
    const row = stored(response.id);
    assert.equal(row.streaming, false);
    assert.equal(row.status, 'cancelled');
    assert.equal(w.text(), row.content);
  } finally {
    w.close();
  }
});

test('SIGKILL of the owner node: subscribers elsewhere get interrupted, the row is closed within 10 s; the node rejoins', { timeout: 90000 }, async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'doomed [[chunks:2000]] [[rate:30]]');
  const consumer = createConsumer(`${nodes.b.ws}?jid=${alice}`);
  const onC = rawWatch(nodes.c, response.id);
  try {
    const onB = watchMessage(consumer, response.id);
    await withTimeout(onB.until((s) => s.events.filter((e) => e.action === 'streaming_update').length >= 5), 10000, 'updates on B');
    await until(() => stored(response.id).content.length > 0, 10000, 'a first flush');  // the prefix check has something to check
    await nodes.a.stop('SIGKILL');
    const killedAt = Date.now();
    await withTimeout(onB.ended, DEAD_NODE_MS, 'streaming_end on B');
    assert.equal(onB.status, 'interrupted');
    assert.equal((await onC.end()).message.status, 'interrupted');
    await until(() => !stored(response.id).streaming, DEAD_NODE_MS, 'the row closed');
    assert.ok(Date.now() - killedAt <= DEAD_NODE_MS, `closed ${Date.now() - killedAt} ms after the kill`);
    const row = stored(response.id);
    assert.equal(row.status, 'interrupted');
    assert.ok(row.content.length > 0, 'the first updates were stored before the kill');
    assert.ok(onB.text.startsWith(row.content), 'the stored text is a prefix of what was delivered');
    // The other nodes keep serving: an answer started on B streams to C.
    const next = await ask(nodes.b, alice, chat.id, 'after the loss [[chunks:20]] [[rate:50]]');
    const w = rawWatch(nodes.c, next.response.id);
    assert.equal((await w.end()).message.status, 'complete');
    assert.equal(w.text(), stored(next.response.id).content);
    w.close();
    // The restarted node rejoins and its answers reach the others again.
    const bMark = nodes.b.logs.length;
    nodes.a = await startNode('node-a');
    await connectedTo(nodes.b, 'node-a', bMark);
    await connectedTo(nodes.a, 'node-c');
    const again = await ask(nodes.a, alice, chat.id, 'back [[chunks:20]] [[rate:50]]');
    const v = rawWatch(nodes.b, again.response.id);
    assert.equal((await v.end()).message.status, 'complete');
    assert.equal(v.text(), stored(again.response.id).content);
    v.close();
  } finally {
    consumer.disconnect();
    onC.close();
  }
});

test('a node paused past its lease is fenced: no write after its row was closed, and its job stops', { timeout: 90000 }, async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'paused [[chunks:5000]] [[rate:20]]');
  const onA = rawWatch(nodes.a, response.id);
  const onB = rawWatch(nodes.b, response.id);
  try {
    await onB.next((f) => f.message?.action === 'streaming_update', 10000, 'updates on B');
    nodes.a.proc.kill('SIGSTOP');
    // The other nodes close the row once A's lease (6 s) has run out, and their clients are told.
    await until(async () => (await psqlAsync(db, `SELECT streaming FROM messages WHERE id = ${rowId(response.id)}`)) === 'f', 15000, 'the row closed by another node');
    assert.equal((await onB.end()).message.status, 'interrupted');
    const closed = stored(response.id);
    assert.equal(closed.status, 'interrupted');
    const mark = nodes.a.logs.length;
    nodes.a.proc.kill('SIGCONT');
    const lost = await nodes.a.waitLog((l) => nodes.a.logs.indexOf(l) >= mark && l.includes('"event":"lease_lost"')
      && l.includes(`"message_id":${rowId(response.id)}`), 10000);
    assert.ok(lost);
    // The job stops at once: A's own subscriber learns the stream ended, interrupted, and the
    // final write A attempts is refused by the fence.
    const end = await onA.end();
    assert.equal(end.message.status, 'interrupted');
    await nodes.a.waitLog((l) => nodes.a.logs.indexOf(l) >= mark && l.includes('"event":"final_write_skipped"')
      && l.includes(`"message_id":${rowId(response.id)}`), 10000);
    // Nothing of A's can reach the row any more: it is exactly as the other node left it.
    assert.deepEqual(stored(response.id), closed);
  } finally {
    onA.close();
    onB.close();
  }
});

test('a fourth node started later finds the others through PostgreSQL, serves relayed streams, and leaves the table when retired', { timeout: 60000 }, async () => {
  const marks = Object.fromEntries(Object.entries(nodes).map(([k, n]) => [k, n.logs.length]));
  const d = await startNode('node-d');
  try {
    for (const p of ['node-a', 'node-b', 'node-c']) await connectedTo(d, p);
    for (const k of ['a', 'b', 'c']) await connectedTo(nodes[k], 'node-d', marks[k]);
    const listed = psql(db, "SELECT address FROM cluster_nodes WHERE name = 'node-d'");
    assert.match(listed, /^127\.0\.0\.1:[1-9][0-9]*$/);
    const chat = await newChat(nodes.a, alice);
    const { response } = await ask(nodes.a, alice, chat.id, 'to the newcomer [[chunks:30]] [[rate:50]]');
    const w = rawWatch(d, response.id);
    assert.equal((await w.end()).message.status, 'complete');
    assert.equal(w.text(), stored(response.id).content);
    w.close();
  } finally {
    await d.stop();
  }
  assert.equal(psql(db, "SELECT count(*) FROM cluster_nodes WHERE name = 'node-d'"), '0');
  assert.equal(psql(db, "SELECT count(*) FROM cluster_nodes"), '3');
});
