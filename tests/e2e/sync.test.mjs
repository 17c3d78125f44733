// Named streams (SPEC §11): POST /_broadcast in AnyCable's HTTP broadcaster format, and the seed's
// sync identifiers driven by the database (triggers, LISTEN/NOTIFY), so that rows the application
// changes with plain SQL reach subscribers: Account:<oid>:chats, Chat:<oid> (refresh, and its
// answers' streaming_end), Message:<oid> refresh outside a stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Hashids from 'hashids';
import { createDatabase, startServer, token, api, newChat, ask, psql, psqlAsync, rawCable,
  messageIdentifier, withTimeout, metricValue } from './harness.mjs';
import { createConsumer } from './cable_env.mjs';

const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const accountIds = new Hashids('Default ID Obfuscation Salt for Account', 6, alphabet);
const chatIds = new Hashids('Default ID Obfuscation Salt for Chat', 6, alphabet);
const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6, alphabet);

const KEY = `broadcast-key-${process.pid}-0123456789`;
let db, server, alice, bob, aliceAccount;

const userId = (email) => psql(db, `SELECT id FROM users WHERE email_address = '${email}'`);
const ownAccount = (email) => Number(psql(db, `SELECT m.account_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email_address = '${email}' AND m.role = 'owner'`));
const identifier = (model, id) => JSON.stringify({ channel: 'SyncChannel', model, id });
const accountChats = (account) => identifier('Account', `${accountIds.encode(account)}:chats`);
const chatIdentifier = (oid) => identifier('Chat', oid);
const broadcast = (body, key = KEY) => api(server, key, 'POST', '/_broadcast', body);
const isMessage = (id, pred) => (f) => f.identifier === id && f.message !== undefined && pred(f.message);

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  bob = token(db, 'bob@example.com');
  aliceAccount = ownAccount('alice@example.com');
  server = await startServer(db, { ACTORCABLE_INGEST_KEY: KEY });
});

after(async () => {
  const outcome = await server.stop();
  assert.equal(outcome.code, 0, 'the server exits cleanly');
  assert.ok(!server.logs.some((l) => l.includes(KEY)), 'the key was logged');
});

async function subscribed(tok, ids, { protocols } = {}) {
  const c = rawCable(`${server.ws}?jid=${tok}`, protocols ? { protocols } : {});
  await c.opened;
  await c.next((f) => f.type === 'welcome');
  for (const id of ids) {
    c.send({ command: 'subscribe', identifier: id });
    await c.next((f) => f.identifier === id && /_subscription$/.test(f.type ?? ''), 5000, `the answer to ${id}`);
  }
  return c;
}

test('Account:<oid>:chats: a member is confirmed; a non-member, a missing account and a malformed id are rejected alike', async () => {
  const ids = [accountChats(aliceAccount), accountChats(999999), identifier('Account', accountIds.encode(aliceAccount)),
    identifier('Account', `${accountIds.encode(aliceAccount)}:messages`)];
  const a = await subscribed(alice, ids.slice(0, 1));
  assert.ok(a.frames.some((f) => f.type === 'confirm_subscription' && f.identifier === ids[0]));
  const b = await subscribed(bob, ids);
  for (const id of ids)
    assert.ok(b.frames.some((f) => f.type === 'reject_subscription' && f.identifier === id), `bob is rejected from ${id}`);
  assert.ok(!b.frames.some((f) => f.type === 'confirm_subscription'));
  a.close(); b.close();
});

test('chats created, renamed and deleted with plain SQL or the API refresh the account chat list and the chat', async () => {
  const list = accountChats(aliceAccount);
  const chat = await newChat(server, alice);
  const c = await subscribed(alice, [list, chatIdentifier(chat.id)]);
  const bobs = await subscribed(bob, [accountChats(ownAccount('bob@example.com'))]);
  const refreshChats = { action: 'refresh', prop: 'chats', id: accountIds.encode(aliceAccount) };
  const count = () => c.frames.filter(isMessage(list, (m) => m.prop === 'chats')).length;

  // Inserted by the application itself.
  const inserted = Number(psql(db, `INSERT INTO chats (account_id, title) VALUES (${aliceAccount}, 'from SQL') RETURNING id`).split('\n')[0]);
  const first = await c.next(isMessage(list, (m) => m.prop === 'chats'), 5000, 'the refresh for an inserted chat');
  assert.deepEqual(first.message, refreshChats);

  // Renamed: the chat's own subscribers and the list.
  let before = count();
  await psqlAsync(db, `UPDATE chats SET title = 'renamed with psql' WHERE id = ${chatIds.decode(chat.id)[0]}`);
  const renamed = await c.next(isMessage(chatIdentifier(chat.id), (m) => m.prop === 'chat'), 5000, 'the chat refresh');
  assert.deepEqual(renamed.message, { action: 'refresh', prop: 'chat', id: chat.id });
  await c.next(() => count() > before, 5000, 'the list refresh for a rename');

  // Through the API too (PATCH), and deleted with SQL.
  before = count();
  assert.equal((await api(server, alice, 'PATCH', `/api/chats/${chat.id}`, { title: 'renamed by API' })).status, 200);
  await c.next(() => count() > before, 5000, 'the list refresh for an API rename');
  before = count();
  await psqlAsync(db, `DELETE FROM chats WHERE id = ${inserted}`);
  await c.next(() => count() > before, 5000, 'the list refresh for a deletion');

  // Another account's list heard none of it. The barrier: a chat inserted into bob's own account
  // is announced after everything above (notifications arrive in commit order).
  psql(db, `INSERT INTO chats (account_id, title) VALUES (${ownAccount('bob@example.com')}, 'a marker of bob')`);
  await bobs.next((f) => f.message?.prop === 'chats', 5000, 'bob\'s own refresh');
  assert.equal(bobs.frames.filter((f) => f.message).length, 1, 'bob got no refresh for alice\'s chats');
  c.close(); bobs.close();
});

test('Chat:<oid> gets the streaming_end of each of its answers; Message:<oid> a refresh when its row changes outside a stream', async () => {
  const chat = await newChat(server, alice);
  const c = await subscribed(alice, [chatIdentifier(chat.id)]);
  const { response } = await ask(server, alice, chat.id, 'hello [[chunks:6]] [[rate:100]]');
  const end = await c.next(isMessage(chatIdentifier(chat.id), (m) => m.action === 'streaming_end'), 10000, 'the answer\'s end on the chat');
  assert.deepEqual(end.message, { action: 'streaming_end', chunk: null, id: response.id, status: 'complete' });
  assert.ok(!c.frames.some((f) => f.message?.action === 'streaming_update'), 'the chat identifier gets no parts');

  // The message, after its stream: an UPDATE by the application refreshes it, once.
  const m = await subscribed(alice, [messageIdentifier(response.id)]);
  await m.next(isMessage(messageIdentifier(response.id), (x) => x.action === 'streaming_end'), 5000, 'the ended state');
  await psqlAsync(db, `UPDATE messages SET content = content || ' (edited)' WHERE id = ${messageIds.decode(response.id)[0]}`);
  const refresh = await m.next(isMessage(messageIdentifier(response.id), (x) => x.action === 'refresh'), 5000, 'the message refresh');
  assert.deepEqual(refresh.message, { action: 'refresh', prop: 'message', id: response.id });
  c.close(); m.close();
});

test('a stream\'s own writes are not announced as refreshes', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, 'long [[chunks:30]] [[rate:60]]');
  const m = await subscribed(alice, [messageIdentifier(response.id)]);
  await m.next(isMessage(messageIdentifier(response.id), (x) => x.action === 'streaming_end'), 15000, 'the end');
  assert.ok(m.frames.some((f) => f.message?.action === 'streaming_update' || f.message?.action === 'current_state'));
  // The barrier: an application's own UPDATE after the stream is announced once, after any
  // notification the stream's final write could have made.
  await psqlAsync(db, `UPDATE messages SET content = content || ' (edited)' WHERE id = ${messageIds.decode(response.id)[0]}`);
  await m.next(isMessage(messageIdentifier(response.id), (x) => x.action === 'refresh'), 5000, 'the refresh for the edit');
  assert.equal(m.frames.filter((f) => f.message?.action === 'refresh').length, 1, 'no refresh during or at the end of the stream');
  m.close();
});

test('/_broadcast: the key is required (401), bad input is refused whole (400, 422), nothing is delivered for it', async () => {
  const chat = await newChat(server, alice);
  const id = chatIdentifier(chat.id);
  const c = await subscribed(alice, [id]);
  const payload = { stream: `Chat:${chat.id}`, data: JSON.stringify({ text: 'refused' }) };
  assert.equal((await broadcast(payload, null)).status, 401);
  assert.equal((await broadcast(payload, `${KEY}x`)).status, 401);
  assert.equal((await broadcast(payload, alice)).status, 401, 'a user JWT is not the key');
  assert.equal((await broadcast('{"stream":')).status, 400);
  for (const bad of [{ stream: `Chat:${chat.id}` }, { stream: '', data: '{}' }, { stream: `Chat:${chat.id}`, data: '{not json' },
    { stream: `Chat:${chat.id}`, data: { already: 'an object' } }, [payload, { stream: 7, data: '{}' }], 'x'.repeat(10)]) {
    const r = await broadcast(bad);
    assert.ok([400, 422].includes(r.status), `${JSON.stringify(bad).slice(0, 60)} -> ${r.status}`);
    assert.ok(r.json?.error, 'a clear error');
  }
  const get = await api(server, KEY, 'GET', '/_broadcast');
  assert.equal(get.status, 405);
  // A marker after the refused ones: it arrives, they never did.
  assert.equal((await broadcast({ stream: `Chat:${chat.id}`, data: '{"text":"marker"}' })).status, 201);
  await c.next(isMessage(id, (m) => m.text === 'marker'), 5000, 'the marker');
  assert.deepEqual(c.frames.filter((f) => f.message).map((f) => f.message), [{ text: 'marker' }]);
  c.close();
});

test('/_broadcast delivers a single object or an array to exactly the subscribers of each stream, without offsets', async () => {
  const chat = await newChat(server, alice);
  const other = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, 'short [[chunks:2]]');
  const ids = { message: messageIdentifier(response.id), chat: chatIdentifier(chat.id),
    messages: identifier('Chat', `${chat.id}:messages`), account: accountChats(aliceAccount), other: chatIdentifier(other.id) };
  const plain = await subscribed(alice, Object.values(ids));
  const ext = await subscribed(alice, [ids.message], { protocols: ['actioncable-v1-ext-json'] });
  await plain.next(isMessage(ids.message, (m) => m.action === 'streaming_end'), 10000, 'the answer');
  await ext.next(isMessage(ids.message, (m) => m.action === 'streaming_end' || m.action === 'current_state'), 10000, 'the answer (ext)');
  const published = await metricValue(server, 'actorcable_published_total');
  // Broadcasts only (the database's own signals about this chat may still be arriving).
  const broadcasts = (c) => c.frames.filter((f) => f.message && ('n' in f.message));

  const single = await broadcast({ stream: `Message:${response.id}`, data: JSON.stringify({ action: 'custom', n: 1 }), meta: {} });
  assert.equal(single.status, 201);
  const batch = [
    { stream: `Chat:${chat.id}`, data: JSON.stringify({ n: 2 }) },
    { stream: `Chat:${chat.id}:messages`, data: JSON.stringify({ n: 3 }) },
    { stream: `Account:${accountIds.encode(aliceAccount)}:chats`, data: JSON.stringify({ n: 4, nested: { ok: [true, null] } }) },
    { stream: `Chat:${chat.id}'; DROP TABLE chats; --`, data: '{"n":5}' },
    { stream: 'Message:nobody', data: '"just a string"' },
  ];
  const r = await broadcast(batch);
  assert.equal(r.status, 201);
  assert.deepEqual(r.json, { broadcasts: batch.length });
  await plain.next(isMessage(ids.account, (m) => m.n === 4), 5000, 'the last broadcast');
  await ext.next(isMessage(ids.message, (m) => m.n === 1), 5000, 'the broadcast (ext)');
  // A marker on the other chat, sent last: everything before it has arrived when it does.
  await broadcast({ stream: `Chat:${other.id}`, data: '{"n":6}' });
  await plain.next(isMessage(ids.other, (m) => m.n === 6), 5000, 'the marker');

  const got = broadcasts(plain).map((f) => [f.identifier, f.message]);
  assert.deepEqual(got, [[ids.message, { action: 'custom', n: 1 }], [ids.chat, { n: 2 }], [ids.messages, { n: 3 }],
    [ids.account, { n: 4, nested: { ok: [true, null] } }], [ids.other, { n: 6 }]]);
  const extGot = broadcasts(ext);
  assert.deepEqual(extGot.map((f) => Object.keys(f).sort()), [['identifier', 'message']], 'no offset, epoch or stream_id');
  assert.equal(psql(db, 'SELECT count(*) FROM chats') > 0, true, 'the SQL-looking name was only a name');
  assert.equal(await metricValue(server, 'actorcable_published_total') - published, batch.length + 2);
  plain.close(); ext.close();
});

test('the unmodified @rails/actioncable client receives broadcasts; an unsubscribed one does not', async () => {
  const chat = await newChat(server, alice);
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  const received = [];
  let connected;
  const connectedP = new Promise((r) => { connected = r; });
  let gotOne;
  const first = new Promise((r) => { gotOne = r; });
  const sub = consumer.subscriptions.create({ channel: 'SyncChannel', model: 'Chat', id: chat.id },
    { connected, received: (m) => { received.push(m); gotOne(); } });
  let raw;
  try {
    // Sent as soon as the subscription is confirmed: it must arrive.
    await withTimeout(connectedP, 5000, 'the subscription');
    await broadcast({ stream: `Chat:${chat.id}`, data: JSON.stringify({ hello: 'rails' }) });
    await withTimeout(first, 5000, 'the broadcast');
    assert.deepEqual(received, [{ hello: 'rails' }]);
    sub.unsubscribe();
    // After the unsubscribe: a second subscriber (raw) is the marker that the broadcast went out.
    raw = await subscribed(alice, [chatIdentifier(chat.id)]);
    await broadcast({ stream: `Chat:${chat.id}`, data: '{"after":true}' });
    await raw.next(isMessage(chatIdentifier(chat.id), (m) => m.after), 5000, 'the marker');
    assert.deepEqual(received, [{ hello: 'rails' }]);
  } finally {
    consumer.disconnect();
    raw?.close();
  }
});

test('a revoked membership ends the account subscription', async () => {
  const carol = token(db, 'carol@example.com');
  psql(db, `INSERT INTO memberships (account_id, user_id, role, confirmed_at) VALUES (${aliceAccount}, ${userId('carol@example.com')}, 'member', now())`);
  const list = accountChats(aliceAccount);
  const c = await subscribed(carol, [list]);
  assert.ok(c.frames.some((f) => f.type === 'confirm_subscription' && f.identifier === list));
  await psqlAsync(db, `DELETE FROM memberships WHERE user_id = ${userId('carol@example.com')} AND account_id = ${aliceAccount}`);
  await c.next((f) => f.type === 'reject_subscription' && f.identifier === list, 5000, 'the revocation');
  const before = c.frames.length;
  await newChat(server, alice);
  await broadcast({ stream: `Account:${accountIds.encode(aliceAccount)}:chats`, data: '{"late":true}' });
  // The barrier, on carol's connection: a broadcast to her own list, after the others, arrives.
  const own = accountChats(ownAccount('carol@example.com'));
  c.send({ command: 'subscribe', identifier: own });
  await c.next((f) => f.type === 'confirm_subscription' && f.identifier === own, 5000, 'carol\'s own list');
  await broadcast({ stream: `Account:${accountIds.encode(ownAccount('carol@example.com'))}:chats`, data: '{"marker":true}' });
  await c.next(isMessage(own, (m) => m.marker), 5000, 'the marker');
  assert.deepEqual(c.frames.slice(before).filter((f) => f.message && f.identifier !== own), [], 'nothing after the revocation');
  c.close();
});
