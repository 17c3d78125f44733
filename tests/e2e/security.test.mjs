// Nobody gets in (SPEC §17), tried as an attacker would on loopback: the cluster port takes only
// peers with a certificate of the cluster's CA (a rogue node of another CA or without TLS never
// joins, and bytes from anyone else cost the node nothing); a node bound off loopback refuses to
// start without TLS; a resumed session is re-authorized and belongs to its user; a signed-out
// browser session is refused on every node at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createDatabase, startServer, token, api, newChat, ask, rawCable, messageIdentifier,
  withTimeout, psql, metricValue, eventually, clusterCerts, rssBytes, baseEnv, BIN,
  SANITIZER_SLACK_BYTES, CHILD_TIMEOUT_MS } from './harness.mjs';

const INGEST_KEY = `security-ingest-${process.pid}-abcdefgh`;
const MiB = 1024 * 1024;
const ext = ['actioncable-v1-ext-json'];
const chatIdentifier = (id) => JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id });

let db, alice, bob, carol;
const nodes = {};
const tls = clusterCerts(['sec-a', 'sec-b']);

function startNode(name, env = {}) {
  return startServer(db, { ACTORCABLE_NODE_NAME: name, ACTORCABLE_CLUSTER_BIND: '127.0.0.1:0',
    ACTORCABLE_INGEST_KEY: INGEST_KEY, ...env }, { config: { 'streams.continue': 'off' } });
}

const connectedTo = (node, peer) =>
  node.waitLog((l) => l.includes('"event":"peer_connected"') && l.includes(`"peer":"${peer}"`), 15000);

const clusterAddress = (name) => psql(db, `SELECT address FROM cluster_nodes WHERE name = '${name}'`);

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  bob = token(db, 'bob@example.com');
  carol = token(db, 'carol@example.com');
  // Bob is a confirmed member of Alice's account.
  psql(db, `INSERT INTO memberships (account_id, user_id, role, confirmed_at)
    SELECT m.account_id, (SELECT id FROM users WHERE email_address = 'bob@example.com'), 'member', now()
    FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email_address = 'alice@example.com' AND m.role = 'owner'`);
  nodes.a = await startNode('sec-a', tls('sec-a'));
  nodes.b = await startNode('sec-b', tls('sec-b'));
  await Promise.all([connectedTo(nodes.a, 'sec-b'), connectedTo(nodes.b, 'sec-a')]);
});

after(async () => {
  for (const n of Object.values(nodes)) await n.stop();
});

// A watcher of one answer on `node`; resolves with its streaming_end frame and the text it got.
async function watch(node, tok, oid) {
  const c = rawCable(`${node.ws}?jid=${tok}`);
  await c.opened;
  c.send({ command: 'subscribe', identifier: messageIdentifier(oid) });
  const end = await c.next((f) => f.message?.action === 'streaming_end', 20000, 'streaming_end');
  let text = '';
  for (const f of c.frames) {
    if (f.message?.action === 'current_state') text = f.message.content ?? '';
    if (f.message?.action === 'streaming_update') text += f.message.chunk;
  }
  c.close();
  return { end, text };
}

async function streamsAcross(from, to) {
  const chat = await newChat(from, alice);
  const { response } = await ask(from, alice, chat.id, 'across [[chunks:12]] [[rate:40]] [[delay:300]]');
  const { end, text } = await watch(to, alice, response.id);
  assert.equal(end.message.status, 'complete');
  const row = (await api(from, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(text, row.content);
  assert.ok(row.content.length > 0);
}

test('two nodes with certificates from cluster-certs form a cluster over TLS and stream across it', async () => {
  assert.equal(await metricValue(nodes.a, 'actorcable_cluster_peers_num'), 1);
  assert.equal(await metricValue(nodes.b, 'actorcable_cluster_peers_num'), 1);
  assert.ok(nodes.a.logs.some((l) => l.includes('"event":"joined"') && l.includes('"tls":1')));
  await streamsAcross(nodes.a, nodes.b);
});

test('a node with a certificate of another CA, and one without TLS, never join; their broadcasts reach nobody', { timeout: 60000 }, async () => {
  const chat = await newChat(nodes.a, alice);
  const sub = rawCable(`${nodes.a.ws}?jid=${alice}`);
  await sub.opened;
  sub.send({ command: 'subscribe', identifier: chatIdentifier(chat.id) });
  await sub.next((f) => f.type === 'confirm_subscription', 5000, 'the confirmation');
  const peers = [clusterAddress('sec-a'), clusterAddress('sec-b')].join(',');
  const foreignCa = clusterCerts(['rogue-tls']);
  // Same database, so their rows are live: only TLS keeps them out.
  const rogues = [
    await startNode('rogue-tls', { ...foreignCa('rogue-tls'), ACTORCABLE_PEERS: peers, ACTORCABLE_INGEST_KEY: 'rogue-key-12345678' }),
    await startNode('rogue-plain', { ACTORCABLE_PEERS: peers, ACTORCABLE_INGEST_KEY: 'rogue-key-12345678' }),
  ];
  try {
    assert.ok(rogues[1].logs.some((l) => l.includes('"event":"no_tls"')), 'a node without TLS says so');
    // 5 s of dialing (every second) in both directions: nobody ever counts a third peer.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      for (const n of [nodes.a, nodes.b]) assert.equal(await metricValue(n, 'actorcable_cluster_peers_num'), 1);
      for (const r of rogues) assert.equal(await metricValue(r, 'actorcable_cluster_peers_num'), 0);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const r of rogues) {
      const sent = await api(r, 'rogue-key-12345678', 'POST', '/_broadcast',
        { stream: `Chat:${chat.id}`, data: JSON.stringify({ injected: r.port }) });
      assert.equal(sent.status, 201);
    }
    // The barrier: a real broadcast from node B, relayed to A, arrives; nothing injected before it.
    await api(nodes.b, INGEST_KEY, 'POST', '/_broadcast', { stream: `Chat:${chat.id}`, data: '{"n":1}' });
    await sub.next((f) => f.message?.n === 1, 10000, 'the real broadcast');
    assert.deepEqual(sub.frames.filter((f) => f.message?.injected), []);
  } finally {
    sub.close();
    for (const r of rogues) await r.stop();
  }
});

test('a 32-byte header declaring 1 GiB and random bytes on a TLS cluster port cost the node nothing', { timeout: 60000 }, async () => {
  const [host, port] = clusterAddress('sec-a').split(':');
  const before = rssBytes(nodes.a.proc.pid);
  const header = Buffer.alloc(32);
  header.writeUInt32BE(1 << 30, 4);  // BASP's payload length: 1 GiB
  const payloads = [header, header, header, randomBytes(64 * 1024), Buffer.concat([header, randomBytes(4096)])];
  await Promise.all(payloads.map((bytes) => withTimeout(new Promise((resolve) => {
    const s = connect(Number(port), host, () => s.write(bytes));
    s.on('error', () => {});
    s.on('close', resolve);  // the node hangs up: the TLS handshake failed
  }), 15000, 'the node to close an unauthenticated connection')));
  const grown = rssBytes(nodes.a.proc.pid) - before;
  assert.ok(grown < 50 * MiB + SANITIZER_SLACK_BYTES, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
  assert.equal(await metricValue(nodes.a, 'actorcable_cluster_peers_num'), 1);
  await streamsAcross(nodes.a, nodes.b);
});

test('cluster.bind off loopback without TLS stops the start with exit 2 naming the keys', () => {
  const r = spawnSync(BIN, ['serve'], { env: baseEnv(db, { ACTORCABLE_CLUSTER_BIND: '0.0.0.0:0' }),
    encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /ACTORCABLE_CLUSTER_TLS_CERT/);
  assert.match(r.stderr, /cluster\.tls_key/);
  const broken = spawnSync(BIN, ['serve'], { env: baseEnv(db, { ACTORCABLE_CLUSTER_BIND: '127.0.0.1:0',
    ...tls('sec-a'), ACTORCABLE_CLUSTER_TLS_KEY: tls('sec-b').ACTORCABLE_CLUSTER_TLS_KEY }),
    encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
  assert.equal(broken.status, 2, broken.stderr);
  assert.match(broken.stderr, /not the key of cluster\.tls_cert/);
});

// Subscribes `identifiers` over the extended protocol, closes, and resolves with the sid once the
// server has stored the session.
async function storedSession(node, tok, identifiers) {
  const c = rawCable(`${node.ws}?jid=${tok}`, { protocols: ext });
  const welcome = await c.next((f) => f.type === 'welcome');
  for (const identifier of identifiers) {
    c.send({ command: 'subscribe', identifier });
    const answer = await c.next((f) => f.identifier === identifier && /subscription/.test(f.type ?? ''));
    assert.equal(answer.type, 'confirm_subscription');
  }
  const stored = await metricValue(node, 'actorcable_sessions_stored_total');
  c.close();
  await c.closed;
  await eventually(() => metricValue(node, 'actorcable_sessions_stored_total'), (n) => n > stored, 5000, 'the session to be stored');
  return welcome.sid;
}

test('a member removed from the account restores nothing of it with its sid and gets nothing of a new answer', async () => {
  const chat = await newChat(nodes.a, alice);
  const ids = [chatIdentifier(chat.id), chatIdentifier(`${chat.id}:messages`)];
  const sid = await storedSession(nodes.a, bob, ids);
  psql(db, `DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE email_address = 'bob@example.com')
    AND role = 'member'`);
  try {
    const again = rawCable(`${nodes.a.ws}?jid=${bob}&sid=${sid}`, { protocols: ext });
    const welcome = await again.next((f) => f.type === 'welcome');
    assert.deepEqual(welcome.restored_ids ?? [], []);
    const { response } = await ask(nodes.a, alice, chat.id, 'private [[chunks:5]] [[rate:50]]');
    // The barrier: Alice's own watcher saw the end; Bob's connection, still open, got nothing.
    const { end } = await watch(nodes.a, alice, response.id);
    assert.equal(end.message.status, 'complete');
    await new Promise((r) => setImmediate(r));
    assert.equal(again.ws.readyState, 1, 'the connection stayed open');
    assert.deepEqual(again.frames.filter((f) => f.identifier), []);
    again.close();
  } finally {
    psql(db, `INSERT INTO memberships (account_id, user_id, role, confirmed_at)
      SELECT m.account_id, (SELECT id FROM users WHERE email_address = 'bob@example.com'), 'member', now()
      FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email_address = 'alice@example.com' AND m.role = 'owner'`);
  }
});

test("another user's sid restores nothing and leaves the session to its owner", async () => {
  const chat = await newChat(nodes.a, alice);
  const ids = [chatIdentifier(chat.id)];
  const sid = await storedSession(nodes.a, alice, ids);
  const thief = rawCable(`${nodes.a.ws}?jid=${carol}&sid=${sid}`, { protocols: ext });
  const stolen = await thief.next((f) => f.type === 'welcome');
  assert.notEqual(stolen.restored, true);
  assert.notEqual(stolen.sid, sid, 'a fresh session');
  thief.close();
  const owner = rawCable(`${nodes.a.ws}?jid=${alice}&sid=${sid}`, { protocols: ext });
  const mine = await owner.next((f) => f.type === 'welcome');
  assert.equal(mine.restored, true);
  assert.deepEqual(mine.restored_ids, ids);
  owner.close();
});

test('after sign-out the old cookie is refused on both nodes at once', async () => {
  const signIn = await fetch(`${nodes.a.http}/?token=${alice}`, { redirect: 'manual' });
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  const chats = (node) => fetch(`${node.http}/api/chats`, { headers: { cookie } });
  assert.equal((await chats(nodes.a)).status, 200);
  assert.equal((await chats(nodes.b)).status, 200, 'a session made on A works on B');
  const out = await fetch(`${nodes.b.http}/signout`, { method: 'POST', redirect: 'manual',
    headers: { cookie, origin: nodes.b.http } });
  assert.equal(out.status, 303);
  assert.equal((await chats(nodes.a)).status, 401);
  assert.equal((await chats(nodes.b)).status, 401);
});
