// Nothing lost (SPEC §17): PostgreSQL stopped for 30 s under three nodes, an outside producer and
// a built-in answer watched from every node. Afterwards the cluster heals by itself, every
// watcher has its streaming_end and the row's text, and the text the producer was told was
// accepted is in the row. Restarts the PostgreSQL every suite uses: CTest runs it alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import Hashids from 'hashids';
import { createDatabase, startServer, token, api, newChat, ask,
  withTimeout, psql, metricValue, clusterCerts, eventually, SANITIZER_TIME_FACTOR, watchRaw } from './harness.mjs';

const PGDIR = process.env.ACTORCABLE_TEST_PGDIR;
const PGPORT = process.env.ACTORCABLE_TEST_PGPORT;
const PGCTL = `${process.env.ACTORCABLE_SOURCE_DIR}/scripts/pg`;
if (!PGDIR || !PGPORT || !process.env.ACTORCABLE_SOURCE_DIR) throw new Error('run through scripts/test');
const pg = (...args) => execFileSync(PGCTL, args, { stdio: 'ignore', timeout: 60000 });

const OUTAGE_MS = 30000;
const KEY = `outage-ingest-${process.pid}-abcdefgh`;
const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
const rowOf = (oid) => {
  const [streaming, status, length, content] = psql(db, `SELECT streaming::text, coalesce(stream_status, ''),
    octet_length(content), content FROM messages WHERE id = ${Number(messageIds.decode(oid)[0])}`).split('|');
  return { streaming: streaming === 'true', status, length: Number(length), content };
};

let db, alice;
const nodes = {};
const tls = clusterCerts(['out-a', 'out-b', 'out-c']);
let pgStopped = false;

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  for (const k of ['a', 'b', 'c'])
    nodes[k] = await startServer(db, { ACTORCABLE_NODE_NAME: `out-${k}`, ACTORCABLE_CLUSTER_BIND: '127.0.0.1:0',
      ACTORCABLE_INGEST_KEY: KEY, ...tls(`out-${k}`) }, { config: { 'server.subscribe_burst': 1000 } });
  for (const n of Object.values(nodes))
    await eventually(() => metricValue(n, 'actorcable_cluster_peers_num'), (v) => v === 2, 20000, 'the cluster to form');
});

after(async () => {
  if (pgStopped) pg('start', PGDIR, PGPORT);
  for (const n of Object.values(nodes)) await n.stop();
});

// A plain client on `node` watching `oid`; text() is what it was shown (harness.watchRaw).
const watch = (node, oid) => watchRaw(node, alice, oid);

// An outside producer on one chunked request: send() writes a line now, the response comes at the end.
function producer(node, oid) {
  const req = request(`${node.http}/ingest/messages/${oid}/stream`, { method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' } });
  const response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(body) }));
    });
    req.on('error', reject);
  });
  response.catch(() => {});
  req.flushHeaders();
  return { send: (p) => req.write(`${JSON.stringify(p)}\n`), end: () => req.end(), response, done: false };
}

test('PostgreSQL down for 30 s: the cluster heals, every watcher ends with the row, accepted text is kept', { timeout: 240000 }, async () => {
  const chat = await newChat(nodes.a, alice);
  const { response } = await ask(nodes.a, alice, chat.id, 'through the outage [[chunks:400]] [[rate:10]]');
  const created = await api(nodes.b, KEY, 'POST', `/ingest/chats/${chat.id}/answers`, {});
  assert.equal(created.status, 201);
  const ingestOid = created.json.id;
  const p = producer(nodes.b, ingestOid);
  p.response.then(() => { p.done = true; });
  const watchers = [];
  for (const n of Object.values(nodes)) watchers.push(watch(n, response.id), watch(n, ingestOid));
  await Promise.all(watchers.map((c) => c.next((f) => f.type === 'confirm_subscription', 10000, 'a subscription')));
  await watchers[0].next((f) => f.message?.action === 'streaming_update', 10000, 'the answer streaming');

  // The producer writes a part every 250 ms for the whole outage and a while after it.
  let n = 0;
  const writing = setInterval(() => { if (!p.done) p.send({ type: 'text', text: `part ${n++}. ` }); }, 250);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    pg('stop', PGDIR);
    pgStopped = true;
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    pg('start', PGDIR, PGPORT);
    pgStopped = false;
    const back = Date.now();
    // The cluster heals by itself: every node has both peers again within 30 s.
    for (const node of Object.values(nodes))
      await eventually(() => metricValue(node, 'actorcable_cluster_peers_num'), (v) => v === 2,
        30000 - (Date.now() - back), 'the peers back after the outage');
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    clearInterval(writing);
  }
  if (!p.done) {
    p.send({ type: 'end' });
    p.end();
  }
  const told = await withTimeout(p.response, 60000 * SANITIZER_TIME_FACTOR, 'the producer\'s response');
  // Every watcher of both answers gets its end; the rows are closed and hold what they were shown.
  for (const c of watchers) await c.next((f) => f.message?.action === 'streaming_end', 120000, 'streaming_end');
  for (const oid of [response.id, ingestOid])
    await eventually(async () => rowOf(oid).streaming, (s) => s === false, 30000, 'the row closed');
  const answer = rowOf(response.id);
  const ingested = rowOf(ingestOid);
  assert.equal(told.json.content_length, ingested.length, 'the producer was told what the row holds');
  assert.ok(ingested.length > 0);
  for (let i = 0; i < watchers.length; i++) {
    const row = i % 2 === 0 ? answer : ingested;
    assert.equal(watchers[i].text(), row.content, `watcher ${i} (${i % 2 === 0 ? 'answer' : 'producer'} on node ${'abc'[i >> 1]})`);
    watchers[i].close();
  }
});
