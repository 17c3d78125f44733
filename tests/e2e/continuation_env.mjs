// What the suites of SPEC §12 share (handover, takeover, continuation): three nodes, clients of
// every kind on them, and the answer an uninterrupted stream gives.
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import WebSocket from 'ws';
import { createCable } from '@anycable/core';
import Hashids from 'hashids';
import { createDatabase, startServer, token, newChat, ask, rawCable, messageIdentifier,
  withTimeout, psql, metricValue, clusterCerts, SANITIZER_TIME_FACTOR, watchRaw } from './harness.mjs';

const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
export const rowId = (oid) => Number(messageIds.decode(oid)[0]);

// SPEC §12: a takeover within 10 s of the owner's death (stretched under the sanitizers).
export const TAKEOVER_MS = 10000 * SANITIZER_TIME_FACTOR;

// The suite's database, token and nodes (set by setUp).
export const ctx = { db: null, alice: null, nodes: {} };

// SPEC §17: the nodes of these suites talk over mutual TLS.
let tlsFor = null;
const tls = (name) => (tlsFor ??= clusterCerts(['node-a', 'node-b', 'node-c']))(name);

export function startNode(name, extra = {}, config = {}) {
  return startServer(ctx.db, { ACTORCABLE_NODE_NAME: name, ACTORCABLE_CLUSTER_BIND: '127.0.0.1:0', ...tls(name), ...extra },
    { config: { 'server.subscribe_burst': 1000, 'streams.retention_s': 60, ...config } });
}

export function connectedTo(node, peer, after = 0, ms = 15000) {
  const matches = (l) => l.includes('"event":"peer_connected"') && l.includes(`"peer":"${peer}"`);
  const seen = node.logs.slice(after).find(matches);
  if (seen) return Promise.resolve(seen);
  return node.waitLog((l) => node.logs.indexOf(l) >= after && matches(l), ms);
}

export const row = (oid) => {
  const [streaming, status, content, continuations, owner, error] = psql(ctx.db,
    `SELECT streaming::text, coalesce(stream_status, ''), content, continuations, coalesce(owner_node, ''), coalesce(stream_error, '') FROM messages WHERE id = ${rowId(oid)}`).split('|');
  return { streaming: streaming === 'true', status, content, continuations: Number(continuations), owner, error };
};

export async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A plain raw client on `node` watching `oid` (harness.watchRaw).
export const rawWatch = (node, oid) => watchRaw(node, ctx.alice, oid);

// An @anycable/core client (extended protocol, history on reconnect) behind a proxy whose target
// can move: it reconnects "anywhere" at the same address.
export async function movableCable(node, oid) {
  const proxy = { target: node.port, pairs: new Set() };
  proxy.server = createServer((client) => {
    const upstream = connect(proxy.target, '127.0.0.1');
    const pair = { client, upstream };
    proxy.pairs.add(pair);
    client.pipe(upstream); upstream.pipe(client);
    const drop = () => { proxy.pairs.delete(pair); client.destroy(); upstream.destroy(); };
    for (const s of [client, upstream]) { s.on('error', drop); s.on('close', drop); }
  });
  await new Promise((r) => proxy.server.listen(0, '127.0.0.1', r));
  const cable = createCable(`ws://127.0.0.1:${proxy.server.address().port}/cable?jid=${ctx.alice}`, {
    protocol: 'actioncable-v1-ext-json', websocketImplementation: WebSocket, logLevel: 'error',
    reconnectStrategy: () => 100 });
  const seen = { text: '', ends: [], states: 0 };
  let resolveEnd;
  seen.ended = new Promise((r) => { resolveEnd = r; });
  cable.subscribeTo('SyncChannel', { model: 'Message', id: oid }).on('message', (msg) => {
    if (msg.action === 'current_state') { seen.states++; seen.text = msg.content; }
    else if (msg.action === 'streaming_update') seen.text += msg.chunk;
    else if (msg.action === 'streaming_end') { seen.ends.push(msg.status); resolveEnd(); }
  });
  seen.moveTo = (n) => { proxy.target = n.port; };
  seen.close = async () => {
    cable.disconnect();
    for (const p of [...proxy.pairs]) { p.client.destroy(); p.upstream.destroy(); }
    await new Promise((r) => proxy.server.close(r));
  };
  return seen;
}

// The content of an answer to `chunks` scripted chunks that never stopped.
export async function uninterrupted(node, chunks) {
  const chat = await newChat(node, ctx.alice);
  const { response } = await ask(node, ctx.alice, chat.id, `reference [[chunks:${chunks}]] [[rate:2000]]`);
  await until(() => !row(response.id).streaming, 20000, 'the reference answer');
  assert.equal(row(response.id).status, 'complete');
  return row(response.id).content;
}

export const sum = async (name, ...servers) => {
  let total = 0;
  for (const s of servers) total += await metricValue(s, name);
  return total;
};

export async function setUp({ nodes: names = ['a', 'b', 'c'] } = {}) {
  ctx.db = createDatabase();
  ctx.alice = token(ctx.db, 'alice@example.com');
  for (const k of names) ctx.nodes[k] = await startNode(`node-${k}`);
  if (names.length > 1) await restartA();
}

export async function tearDown() {
  for (const n of Object.values(ctx.nodes)) await n.stop();
}

// Starts node-a again if a previous test stopped it, and waits until the three nodes are
// connected to each other (a node paused past its lease rejoins).
export async function restartA() {
  if (ctx.nodes.a.proc.exitCode !== null || ctx.nodes.a.proc.signalCode !== null)
    ctx.nodes.a = await startNode('node-a');
  const three = [ctx.nodes.a, ctx.nodes.b, ctx.nodes.c];
  await until(async () => (await Promise.all(three.map((n) => metricValue(n, 'actorcable_cluster_peers_num'))))
    .every((v) => v === 2), 20000, 'three connected nodes');
}

// Clients of one answer owned by node-a: plain on B and C, extended on C, extended on A (moved
// to B once A is gone).
export async function watchers(oid) {
  const plainB = rawWatch(ctx.nodes.b, oid);
  const plainC = rawWatch(ctx.nodes.c, oid);
  const extC = await movableCable(ctx.nodes.c, oid);
  const extA = await movableCable(ctx.nodes.a, oid);
  const all = [plainB, plainC];
  const close = async () => {
    for (const c of all) c.close();
    await extC.close();
    await extA.close();
  };
  return { plainB, plainC, extC, extA, all, close };
}

// What the nodes logged about streams, for a failure's message.
function clusterLogs() {
  return Object.entries(ctx.nodes).map(([k, n]) => `--- node ${k}:\n` + n.logs
    .filter((l) => /"component":"(cluster|relay|message|stream_writer|cable|server)"/.test(l)).slice(-40).join('\n')).join('\n');
}

export async function expectExact(w, oid, reference) {
  try {
    for (const c of w.all) await c.end();
    await withTimeout(w.extC.ended, 40000, 'the end on C (extended)');
    await withTimeout(w.extA.ended, 40000, 'the end for the client moved from A');
  } catch (e) {
    throw new Error(`${e.message}\n${clusterLogs()}`);
  }
  await until(() => !row(oid).streaming, 10000, 'the final write');
  const r = row(oid);
  assert.equal(r.status, 'complete');
  assert.equal(r.content, reference, 'the final content is that of an answer that never stopped');
  assert.equal(r.continuations, 1);
  for (const [name, c] of [['plain on B', w.plainB], ['plain on C', w.plainC]]) {
    assert.equal(c.text(), r.content, `${name} has exactly the final content`);
    assert.deepEqual(c.ends().map((f) => f.message.status), ['complete'], `${name}: one end, complete`);
  }
  for (const [name, c] of [['extended on C', w.extC], ['extended moved from A', w.extA]]) {
    assert.equal(c.text, r.content, `${name} has exactly the final content`);
    assert.deepEqual(c.ends, ['complete'], `${name}: one end, complete`);
  }
  return r;
}

// A lone server (no cluster) killed mid-answer and started again.
export async function killAndRestart(name, env, config, question, progress) {
  let server = await startServer(ctx.db, { ACTORCABLE_NODE_NAME: name, ...env }, { config });
  const chat = await newChat(server, ctx.alice);
  const { response } = await ask(server, ctx.alice, chat.id, question);
  const before = rawWatch(server, response.id);
  await until(() => before.updates() >= progress, 20000, `${progress} updates`);
  before.close();
  await server.stop('SIGKILL');
  const stored = row(response.id).content;
  server = await startServer(ctx.db, { ACTORCABLE_NODE_NAME: name, ...env }, { config });
  const started = Date.now();
  await until(() => row(response.id).continuations === 1, TAKEOVER_MS + 5000, 'the continuation');
  assert.ok(Date.now() - started <= TAKEOVER_MS, 'continued within 10 s of the start');
  const after = rawWatch(server, response.id);
  const end = await after.end();
  await until(() => !row(response.id).streaming, 10000, 'the final write');
  return { server, response, stored, end, client: after, row: row(response.id) };
}

