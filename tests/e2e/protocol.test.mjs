// SPEC points of the ActionCable protocol and the stream guarantees that no other suite covers:
// a plain Chat:<oid> subscription and refresh's prop, unsubscribe, the session restore's
// restored_ids, the idle timeout (its default and its effect), and the persistence bound
// (≤ ~10 UPDATEs per second per message, read from PostgreSQL's own counters).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import Hashids from 'hashids';
import { createDatabase, startServer, token, newChat, ask, api, rawCable, messageIdentifier,
  psql, eventually, withTimeout, metricValue, countRowUpdates } from './harness.mjs';
import { createConsumer, watchMessage } from './cable_env.mjs';

let db, server, alice;
const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
const rowId = (oid) => Number(messageIds.decode(oid)[0]);
const chatIdentifier = (id) => JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id });

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  server = await startServer(db);
});
after(() => server.stop());

test('a plain Chat:<oid> subscription gets refresh with prop "messages" when a message is created', async () => {
  const chat = await newChat(server, alice);
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  const identifier = chatIdentifier(chat.id);
  c.send({ command: 'subscribe', identifier });
  await c.next((f) => f.type === 'confirm_subscription' && f.identifier === identifier);
  await ask(server, alice, chat.id, '[[chunks:2]]');
  // The chat's own refresh (prop "chat": the question touched its updated_at) may come first.
  const refresh = await c.next((f) => f.identifier === identifier && f.message?.prop === 'messages', 5000, 'refresh');
  assert.deepEqual(refresh.message, { action: 'refresh', prop: 'messages', id: chat.id });
  assert.ok(c.frames.filter((f) => f.message).every((f) => f.message.action === 'refresh' && f.message.id === chat.id),
    'a plain chat subscription gets refreshes only');
  c.close();
});

test('unsubscribe: nothing more arrives for the identifier', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:400]] [[rate:40]]');
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  const identifier = messageIdentifier(response.id);
  c.send({ command: 'subscribe', identifier });
  await c.next((f) => f.identifier === identifier && f.message?.action === 'streaming_update', 5000, 'updates');
  c.send({ command: 'unsubscribe', identifier });
  // Commands are handled in order: once this confirmation is in, the unsubscribe was done.
  const marker = chatIdentifier(chat.id);
  c.send({ command: 'subscribe', identifier: marker });
  const confirm = await c.next((f) => f.type === 'confirm_subscription' && f.identifier === marker);
  const at = c.frames.indexOf(confirm);
  await api(server, alice, 'POST', `/api/messages/${response.id}/stop`);
  // The barrier, on this connection: the chat's identifier gets the answer's streaming_end, the
  // same event that would have ended the unsubscribed identifier.
  await c.next((f) => f.identifier === marker && f.message?.action === 'streaming_end', 10000, 'the end on the chat');
  assert.deepEqual(c.frames.slice(at + 1).filter((f) => f.identifier === identifier), []);
  c.close();
});

test('a session restored with ?sid= lists its subscriptions in restored_ids', async () => {
  const chat = await newChat(server, alice);
  const ext = ['actioncable-v1-ext-json'];
  const first = rawCable(`${server.ws}?jid=${alice}`, { protocols: ext });
  const welcome = await first.next((f) => f.type === 'welcome');
  assert.ok(welcome.sid);
  const identifiers = [chatIdentifier(chat.id), chatIdentifier(`${chat.id}:messages`)];
  for (const identifier of identifiers) {
    first.send({ command: 'subscribe', identifier });
    await first.next((f) => f.type === 'confirm_subscription' && f.identifier === identifier);
  }
  const stored = await metricValue(server, 'actorcable_sessions_stored_total');
  first.close();
  await first.closed;
  // The server keeps the session once it has seen the close: a reconnect before that finds none.
  await eventually(() => metricValue(server, 'actorcable_sessions_stored_total'), (n) => n > stored, 5000,
    'the session to be stored');
  const again = rawCable(`${server.ws}?jid=${alice}&sid=${welcome.sid}`, { protocols: ext });
  const restored = await again.next((f) => f.type === 'welcome');
  assert.equal(restored.restored, true);
  assert.deepEqual([...restored.restored_ids].sort(), [...identifiers].sort());
  // The restored subscriptions are live.
  await ask(server, alice, chat.id, '[[chunks:1]]');
  await again.next((f) => f.identifier === identifiers[0] && f.message?.action === 'refresh', 5000, 'refresh');
  again.close();
});

test('the idle timeout defaults to 30 s and ends a silent job with status error', async () => {
  const env = { ...process.env, ACTORCABLE_SECRET: 'x', DATABASE_URL: db };
  delete env.ACTORCABLE_IDLE_TIMEOUT_S;
  const config = execFileSync(process.env.ACTORCABLE_BIN, ['config'], { env, encoding: 'utf8', timeout: 30000 });
  assert.match(config, /^streams\.idle_timeout_s = 30$/m);
  const quick = await startServer(db, { ACTORCABLE_IDLE_TIMEOUT_S: '1' });
  const chat = await newChat(quick, alice);
  const { response } = await ask(quick, alice, chat.id, '[[stall]] [[rate:50]]');
  const c = rawCable(`${quick.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  c.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  const end = await c.next((f) => f.message?.action === 'streaming_end', 10000, 'end after silence');
  assert.equal(end.message.status, 'error');
  const row = (await api(quick, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(row.streaming, false);
  assert.match(row.error ?? row.stream_error ?? '', /idle|silent/i);
  c.close();
  await quick.stop();
});

test('a fast stream of reasoning and text costs at most about 10 UPDATEs per second of its row, counted by PostgreSQL', async () => {
  const updates = countRowUpdates(db);
  const chat = await newChat(server, alice);
  // 1,500 parts at 500 per second (reasoning, a tool call, then text; one UPDATE carries them
  // all): three seconds of tokens far faster than any model's.
  const { response } = await ask(server, alice, chat.id, '[[think:748]] [[tool:calc]] [[chunks:750]] [[rate:500]]');
  const row = await eventually(async () => (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json,
    (m) => m.streaming === false, 30000, 'the stream to end');
  assert.equal(row.status, 'complete');
  assert.equal(row.thinking.split('Thinking step').length - 1, 748);
  assert.equal(row.tool_calls.length, 1);
  const [{ count, seconds }] = updates.perSecond(`m.id = ${rowId(response.id)}`);
  updates.stop();
  assert.ok(count >= 3, `the row was written while streaming and at its end (${count})`);
  // SPEC §6: at most about 10 UPDATEs per second per message, whatever the token rate.
  assert.ok(count / seconds <= 10.5, `${count} UPDATEs in ${seconds.toFixed(2)} s: ${(count / seconds).toFixed(1)} per second`);
});

test('stop over the socket: @rails/actioncable perform("stop") ends the answer cancelled; nobody else can', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:100000]] [[rate:20]]');
  // Another user sends the same command for an identifier they could never subscribe to.
  const bob = token(db, 'bob-stop@example.com');
  const intruder = rawCable(`${server.ws}?jid=${bob}`);
  await intruder.next((f) => f.type === 'welcome');
  const identifier = messageIdentifier(response.id);
  intruder.send({ command: 'subscribe', identifier });
  await intruder.next((f) => f.type === 'reject_subscription' && f.identifier === identifier);
  intruder.send({ command: 'message', identifier, data: JSON.stringify({ action: 'stop' }) });

  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const w = watchMessage(consumer, response.id);
    await withTimeout(w.until((x) => x.events.filter((e) => e.action === 'streaming_update').length >= 3), 10000,
      'updates after the intruder tried');
    assert.equal(w.status, null, 'the intruder did not stop it');
    w.subscription.perform('stop');
    const end = await withTimeout(w.ended, 10000, 'the end');
    assert.equal(end.status, 'cancelled');
    const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
    assert.equal(row.status, 'cancelled');
    assert.equal(row.streaming, false);
    assert.equal(w.text, row.content);
  } finally {
    consumer.disconnect();
    intruder.close();
  }
});
