// The server from outside: HTTP API, JWT, and the ActionCable protocol with the unmodified
// @rails/actioncable client (SPEC §3-§5). One server process on a free port, one fresh database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import Hashids from 'hashids';
import { createDatabase, startServer, token, api, newChat, ask, rawCable, messageIdentifier,
  withTimeout, SECRET, metricValue } from './harness.mjs';
import { createConsumer, watchMessage } from './cable_env.mjs';

let db, server, alice, bob;
const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  bob = token(db, 'bob@example.com');
  server = await startServer(db);
});

after(async () => {
  const { code } = await server.stop('SIGTERM');
  assert.equal(code, 0, 'server exits 0 on SIGTERM');
});

const metric = (name) => metricValue(server, name);

// Re-reads a metric until it equals `want` (the server has no event to await from outside).
async function metricBecomes(name, want, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await metric(name);
    if (v === want) return v;
    if (Date.now() > until) throw new Error(`${name} stayed ${v}, expected ${want}`);
    await new Promise((r) => setImmediate(r));
  }
}

function jwt(header, payload, secret = SECRET) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = secret === null ? '' : createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

test('@rails/actioncable receives every chunk in order, then streaming_end; text equals the row', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, 'Hello [[chunks:30]] [[rate:40]] [[delay:400]]');
  assert.equal(response.streaming, true);
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const w = watchMessage(consumer, response.id);
    const end = await withTimeout(w.ended, 15000, 'streaming_end');
    assert.equal(end.status, 'complete');
    assert.equal(end.chunk, null);
    assert.equal(end.id, response.id);
    const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
    assert.equal(row.streaming, false);
    assert.equal(row.status, 'complete');
    assert.equal(w.text, row.content);
    const updates = w.events.filter((e) => e.action === 'streaming_update');
    assert.ok(updates.length >= 20, `got ${updates.length} updates`);
    assert.ok(updates.every((u) => u.id === response.id));
    const state = w.events.find((e) => e.action === 'current_state');
    assert.equal((state ? state.content : '') + updates.map((u) => u.chunk).join(''), row.content);
    assert.equal(w.events.at(-1).action, 'streaming_end');
  } finally {
    consumer.disconnect();
  }
});

test('a subscriber joining mid-stream gets current_state, then exactly the remaining chunks', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:40]] [[rate:25]]');
  const early = rawCable(`${server.ws}?jid=${alice}`);
  await early.opened;
  early.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  // Wait until several chunks went by.
  await early.next((f) => f.message?.action === 'streaming_update' && early.frames.filter((g) => g.message?.action === 'streaming_update').length >= 6, 10000, 'six updates');
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const late = watchMessage(consumer, response.id);
    const end = await withTimeout(late.ended, 15000, 'streaming_end');
    assert.equal(end.status, 'complete');
    assert.equal(late.events[0].action, 'current_state');
    assert.equal(late.events[0].streaming, true);
    assert.ok(late.events[0].content.length > 0, 'current_state carries the text so far');
    const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
    assert.equal(late.events[0].content + late.events.slice(1, -1).map((e) => e.chunk).join(''), row.content);
  } finally {
    consumer.disconnect();
    early.close();
  }
});

test('foreign and missing objects are rejected identically over HTTP and WebSocket', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:3]]');
  const missing = messageIds.encode(987654321);
  const foreign = await api(server, bob, 'GET', `/api/messages/${response.id}`);
  const absent = await api(server, bob, 'GET', `/api/messages/${missing}`);
  const garbage = await api(server, bob, 'GET', `/api/messages/'%20OR%201=1`);
  for (const r of [foreign, absent, garbage]) {
    assert.equal(r.status, 404);
    assert.equal(r.text, foreign.text);
  }
  assert.equal((await api(server, bob, 'GET', `/api/chats/${chat.id}/messages`)).status, 404);
  assert.equal((await api(server, bob, 'POST', `/api/chats/${chat.id}/messages`, { content: 'x' })).status, 404);
  assert.equal((await api(server, bob, 'POST', `/api/messages/${response.id}/stop`)).status, 404);
  assert.equal((await api(server, alice, 'GET', `/api/messages/${response.id}`)).status, 200);

  const c = rawCable(`${server.ws}?jid=${bob}`);
  await c.opened;
  const ids = [messageIdentifier(response.id), messageIdentifier(missing),
    JSON.stringify({ channel: 'SyncChannel', model: 'Message', id: 'not an id!' }),
    JSON.stringify({ channel: 'SyncChannel', model: 'User', id: 'PJvAYr' }),
    JSON.stringify({ channel: 'OtherChannel', model: 'Message', id: response.id })];
  const rejections = [];
  for (const identifier of ids) {
    c.send({ command: 'subscribe', identifier });
    rejections.push(await c.next((f) => f.identifier === identifier, 5000, 'rejection'));
  }
  for (const r of rejections) assert.deepEqual({ ...r, identifier: undefined }, { identifier: undefined, type: 'reject_subscription' });
  c.close();
});

test('a client that vanishes mid-stream is dropped; the stream goes on for the others', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:60]] [[rate:30]]');
  const a = rawCable(`${server.ws}?jid=${alice}`);
  const b = rawCable(`${server.ws}?jid=${alice}`);
  await Promise.all([a.opened, b.opened]);
  for (const c of [a, b]) c.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  await Promise.all([a, b].map((c) => c.next((f) => f.message?.action === 'streaming_update')));
  const before = await metric('actorcable_stream_subscribers_num');
  a.ws.terminate(); // no close frame: the TCP connection just goes away
  await metricBecomes('actorcable_stream_subscribers_num', before - 1);
  const end = await b.next((f) => f.message?.action === 'streaming_end', 15000, 'streaming_end');
  assert.equal(end.message.status, 'complete');
  const text = b.frames.filter((f) => f.message?.action === 'streaming_update' || f.message?.action === 'current_state')
    .map((f) => f.message.action === 'current_state' ? f.message.content : f.message.chunk).join('');
  const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(text, row.content);
  b.close();
});

test('missing, expired, tampered and alg:none tokens are unauthorized', async () => {
  const sub = alice.split('.')[1];
  const claims = JSON.parse(Buffer.from(sub, 'base64url'));
  const expired = jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: Math.floor(Date.now() / 1000) - 10 });
  const tampered = alice.slice(0, -3) + (alice.endsWith('AAA') ? 'BBB' : 'AAA');
  const none = jwt({ alg: 'none', typ: 'JWT' }, claims, null);
  const wrongKey = jwt({ alg: 'HS256', typ: 'JWT' }, claims, 'another secret');
  const hs512 = jwt({ alg: 'HS512', typ: 'JWT' }, claims);
  for (const bad of ['', expired, tampered, none, wrongKey, hs512, 'garbage']) {
    const c = rawCable(bad ? `${server.ws}?jid=${encodeURIComponent(bad)}` : server.ws);
    await c.opened;
    const f = await c.next((x) => x.type === 'disconnect', 5000, 'disconnect');
    assert.deepEqual(f, { type: 'disconnect', reason: 'unauthorized', reconnect: false });
    await withTimeout(c.closed, 5000, 'close');
    assert.ok(!c.frames.some((x) => x.type === 'welcome'));
    const r = await api(server, bad, 'GET', '/api/chats');
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { error: 'unauthorized' });
  }
  // The X-JID header works like ?jid=.
  const viaHeader = rawCable(server.ws, { headers: { 'X-JID': alice } });
  await viaHeader.next((x) => x.type === 'welcome');
  viaHeader.close();
});

test('welcome, pings every 3 s, subprotocol negotiation', async () => {
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.opened;
  assert.equal(c.protocol, 'actioncable-v1-json');
  assert.deepEqual(await c.next((f) => f.type === 'welcome'), { type: 'welcome' });
  const ping = await c.next((f) => f.type === 'ping', 4500, 'ping');
  assert.ok(Math.abs(ping.message - Date.now() / 1000) < 10);
  c.close();
  const ext = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['actioncable-v1-ext-json'] });
  await ext.opened;
  assert.equal(ext.protocol, 'actioncable-v1-ext-json');
  const welcome = await ext.next((f) => f.type === 'welcome');
  assert.equal(typeof welcome.sid, 'string');
  ext.close();
  const other = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['graphql-ws', 'actioncable-unsupported'] });
  await other.opened;
  assert.equal(other.protocol, 'actioncable-unsupported');
  await withTimeout(other.closed, 5000, 'close');
});

test('identifier echoed byte for byte; repeated subscribe confirms again without duplicating', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:10]] [[rate:40]] [[delay:300]]');
  const identifier = `{ "id":"${response.id}",  "model":"Message","channel":"SyncChannel" }`;
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.opened;
  c.send({ command: 'subscribe', identifier });
  c.send({ command: 'subscribe', identifier });
  await c.next((f) => f.message?.action === 'streaming_end', 10000, 'end');
  const confirms = c.frames.filter((f) => f.type === 'confirm_subscription');
  assert.equal(confirms.length, 2);
  assert.ok(confirms.every((f) => f.identifier === identifier));
  const updates = c.frames.filter((f) => f.message?.action === 'streaming_update');
  // A second route for the same identifier would deliver every event twice, the end included.
  assert.equal(c.frames.filter((f) => f.message?.action === 'streaming_end').length, 1);
  assert.ok(c.frames.filter((f) => f.message?.action === 'current_state').length <= 1);
  const state = c.frames.find((f) => f.message?.action === 'current_state');
  const text = (state ? state.message.content : '') + updates.map((u) => u.message.chunk).join('');
  const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(text, row.content, 'no chunk delivered twice');
  c.close();
});

test('stop cancels the job and ends the stream as cancelled', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:500]] [[rate:20]]');
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.opened;
  c.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  await c.next((f) => f.message?.action === 'streaming_update');
  const r = await api(server, alice, 'POST', `/api/messages/${response.id}/stop`);
  assert.equal(r.status, 202);
  const end = await c.next((f) => f.message?.action === 'streaming_end', 5000, 'end');
  assert.equal(end.message.status, 'cancelled');
  const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(row.status, 'cancelled');
  assert.equal(row.streaming, false);
  c.close();
});

test('WebSocket framing: pings answered between data frames, fragments joined, close codes echoed', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:60]] [[rate:200]]');
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  const pongs = [];
  c.ws.on('pong', (data) => pongs.push(data.toString()));
  // A command in two fragments.
  const subscribe = JSON.stringify({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  c.ws.send(subscribe.slice(0, 20), { fin: false });
  c.ws.send(subscribe.slice(20), { fin: true });
  await c.next((f) => f.type === 'confirm_subscription', 5000, 'confirm');
  // Pings while the answer streams: every pong comes back and no data frame is corrupted (the
  // client would fail the connection with 1002).
  for (let i = 0; i < 40; ++i) {
    c.ws.ping(`p${i}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const end = await c.next((f) => f.message?.action === 'streaming_end', 15000, 'streaming_end');
  assert.equal(end.message.status, 'complete');
  await withTimeout((async () => { while (pongs.length < 40) await new Promise((r) => setTimeout(r, 10)); })(), 5000, 'pongs');
  assert.deepEqual(pongs, Array.from({ length: 40 }, (_, i) => `p${i}`));
  const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
  const updates = c.frames.filter((f) => f.message?.action === 'streaming_update' || f.message?.action === 'current_state');
  assert.equal(updates.map((f) => f.message.content ?? f.message.chunk).join(''), row.content);
  c.ws.close(4001, 'bye');
  assert.equal((await withTimeout(c.closed, 5000, 'close')).code, 4001);
  // Text that is not UTF-8 is refused with 1007.
  const bad = rawCable(`${server.ws}?jid=${alice}`);
  await bad.next((f) => f.type === 'welcome');
  bad.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
  assert.equal((await withTimeout(bad.closed, 5000, 'close')).code, 1007);
});

test('bad WebSocket input is refused clearly and other connections carry on', async () => {
  const healthy = rawCable(`${server.ws}?jid=${alice}`);
  await healthy.next((f) => f.type === 'welcome');
  const invalid = ['hello', '[1,2]', '{"command":5}', '{"identifier":"x"}',
    JSON.stringify({ command: 'subscribe', identifier: { channel: 'SyncChannel' } }),
    JSON.stringify({ command: 'subscribe' })];
  for (const frame of invalid) {
    const c = rawCable(`${server.ws}?jid=${alice}`);
    await c.next((f) => f.type === 'welcome');
    c.send(frame);
    const d = await c.next((f) => f.type === 'disconnect', 5000, `disconnect for ${frame}`);
    assert.deepEqual(d, { type: 'disconnect', reason: 'invalid_request', reconnect: false });
    await withTimeout(c.closed, 5000, 'close');
  }
  const bin = rawCable(`${server.ws}?jid=${alice}`);
  await bin.next((f) => f.type === 'welcome');
  bin.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await bin.next((f) => f.type === 'disconnect')).reason, 'invalid_request');
  const big = rawCable(`${server.ws}?jid=${alice}`);
  await big.next((f) => f.type === 'welcome');
  big.send(JSON.stringify({ command: 'message', identifier: 'x', data: 'y'.repeat(70 * 1024) }));
  const closed = await withTimeout(big.closed, 5000, 'close');
  assert.equal(closed.code, 1009);
  assert.match(closed.reason, /exceeds 65536 bytes/);
  // Unknown commands are ignored: the connection stays and still works.
  healthy.send({ command: 'dance', identifier: '{}' });
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:2]]');
  healthy.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  await healthy.next((f) => f.type === 'confirm_subscription', 5000, 'confirm');
  healthy.close();
});

test('bad HTTP input gets 400, 404, 405, 413, 422', async () => {
  assert.equal((await api(server, alice, 'POST', '/api/chats', '{not json')).status, 400);
  assert.equal((await api(server, alice, 'POST', '/api/chats', '[1]')).status, 400);
  assert.equal((await api(server, alice, 'GET', '/api/nothing/here')).status, 404);
  assert.equal((await api(server, alice, 'GET', '/nothing')).status, 404);
  const wrong = await api(server, alice, 'DELETE', '/api/chats');
  assert.equal(wrong.status, 405);
  assert.deepEqual(wrong.json, { error: 'method not allowed' });
  const huge = await api(server, alice, 'POST', '/api/chats', JSON.stringify({ title: 'x'.repeat(1100 * 1024) }));
  assert.equal(huge.status, 413);
  const chat = await newChat(server, alice);
  assert.equal((await api(server, alice, 'POST', `/api/chats/${chat.id}/messages`, { content: '' })).status, 422);
  assert.equal((await api(server, alice, 'POST', `/api/chats/${chat.id}/messages`, { content: 5 })).status, 422);
  assert.equal((await api(server, alice, 'POST', '/api/chats', { title: 7 })).status, 422);
  const sqlish = "'); DROP TABLE messages; --";
  const { message } = await ask(server, alice, chat.id, sqlish);
  assert.equal(message.content, sqlish);
  assert.equal((await api(server, alice, 'GET', `/api/chats/${chat.id}/messages`)).json[0].content, sqlish);
  assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
});

// SPEC §17: bad input is refused, never stored altered. PostgreSQL text cannot hold a NUL (libpq
// would cut the value there); titles are limited in characters, not bytes.
test('a NUL in a title or question is 422 naming the field, nothing stored; titles count characters', async () => {
  const chat = await newChat(server, alice);
  const before = (await api(server, alice, 'GET', `/api/chats/${chat.id}/messages`)).json.length;
  const question = await api(server, alice, 'POST', `/api/chats/${chat.id}/messages`, { content: 'a\u0000b' });
  assert.equal(question.status, 422);
  assert.match(question.json.error, /^content /);
  assert.equal((await api(server, alice, 'GET', `/api/chats/${chat.id}/messages`)).json.length, before);
  const created = await api(server, alice, 'POST', '/api/chats', { title: 'a\u0000b' });
  assert.equal(created.status, 422);
  assert.match(created.json.error, /^title /);
  const renamed = await api(server, alice, 'PATCH', `/api/chats/${chat.id}`, { title: 'x\u0000y' });
  assert.equal(renamed.status, 422);
  assert.equal((await api(server, alice, 'GET', `/api/chats/${chat.id}`)).json.title, chat.title);
  // 500 characters of three bytes each (1,500 bytes) are a valid title; 501 are not.
  const wide = '€'.repeat(500);
  const ok = await api(server, alice, 'PATCH', `/api/chats/${chat.id}`, { title: wide });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.title, wide);
  assert.equal((await api(server, alice, 'PATCH', `/api/chats/${chat.id}`, { title: wide + '€' })).status, 422);
});
