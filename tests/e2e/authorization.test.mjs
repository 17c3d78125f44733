// Authorization through memberships, chat-wide subscriptions, revocation and per-connection
// limits (SPEC §2, §5), with the unmodified @rails/actioncable client where a client is named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Hashids from 'hashids';
import WebSocket from 'ws';
import { createDatabase, startServer, token, api, newChat, ask, rawCable, messageIdentifier,
  withTimeout, psql, psqlAsync } from './harness.mjs';
import { createConsumer, watchMessage } from './cable_env.mjs';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6, ALPHABET);
const chatIds = new Hashids('Default ID Obfuscation Salt for Chat', 6, ALPHABET);
const chatIdentifier = (id) => JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id });

let db, server, owner, member, invitee, outsider;
const userId = (email) => psql(db, `SELECT id FROM users WHERE email_address = '${email}'`);
const accountOf = (email) => psql(db, `SELECT account_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email_address = '${email}' AND role = 'owner'`);

before(async () => {
  db = createDatabase();
  owner = token(db, 'owner@example.com');
  member = token(db, 'member@example.com');
  invitee = token(db, 'invitee@example.com');
  outsider = token(db, 'outsider@example.com');
  const account = accountOf('owner@example.com');
  psql(db, `INSERT INTO memberships (account_id, user_id, role, confirmed_at) VALUES (${account}, ${userId('member@example.com')}, 'member', now()), (${account}, ${userId('invitee@example.com')}, 'member', NULL)`);
  server = await startServer(db, {}, { config: { 'server.subscribe_rate': 1000000, 'server.subscribe_burst': 1000000 } });
});

after(async () => { await server.stop(); });

test('owner and confirmed member see the chat; unconfirmed invitee and outsider see nothing', async () => {
  const chat = await newChat(server, owner);
  const { response } = await ask(server, owner, chat.id, 'shared [[chunks:12]] [[rate:40]] [[delay:1000]]');
  const people = [['owner', owner, true], ['member', member, true], ['invitee', invitee, false], ['outsider', outsider, false]];
  for (const [who, tok, allowed] of people) {
    const want = allowed ? 200 : 404;
    assert.equal((await api(server, tok, 'GET', `/api/messages/${response.id}`)).status, want, who);
    assert.equal((await api(server, tok, 'GET', `/api/chats/${chat.id}/messages`)).status, want, who);
    const chats = (await api(server, tok, 'GET', '/api/chats')).json;
    assert.equal(chats.some((c) => c.id === chat.id), allowed, who);
  }
  // Everyone subscribes while the answer streams.
  const views = people.map(([who, tok, allowed]) => {
    const consumer = createConsumer(`${server.ws}?jid=${tok}`);
    return { who, allowed, consumer, w: watchMessage(consumer, response.id),
      chatWatch: watchMessage(consumer, null, { identifierKeys: { channel: 'SyncChannel', model: 'Chat', id: `${chat.id}:messages` } }) };
  });
  try {
    for (const { who, allowed, w, chatWatch } of views) {
      if (allowed) {
        await withTimeout(Promise.all([w.connectedP, chatWatch.connectedP]), 5000, `${who} confirmed`);
        await withTimeout(Promise.all([w.ended, chatWatch.ended]), 10000, `${who} stream end`);
        const row = (await api(server, owner, 'GET', `/api/messages/${response.id}`)).json;
        assert.equal(w.text, row.content, who);
        assert.equal(chatWatch.text, row.content, `${who} via the chat`);
      } else {
        await withTimeout(Promise.all([w.rejectedP, chatWatch.rejectedP]), 5000, `${who} rejected`);
        assert.equal(w.events.length + chatWatch.events.length, 0, who);
      }
    }
  } finally {
    for (const v of views) v.consumer.disconnect();
  }
});

test('a chat-wide subscription receives three answers posted one after another', async () => {
  const chat = await newChat(server, owner);
  const consumer = createConsumer(`${server.ws}?jid=${member}`);
  const events = [];
  const ends = [];
  let notify;
  const sub = consumer.subscriptions.create({ channel: 'SyncChannel', model: 'Chat', id: `${chat.id}:messages` }, {
    received(data) { events.push(data); if (data.action === 'streaming_end') { ends.push(data); notify?.(); } },
  });
  const confirmed = new Promise((r) => { sub.connected = r; });
  await withTimeout(confirmed, 5000, 'chat subscription');
  try {
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await ask(server, owner, chat.id, `question ${i} [[chunks:8]] [[rate:50]]`);
      answers.push(response.id);
      await withTimeout(new Promise((r) => { notify = () => ends.length > i && r(); notify(); }), 10000, `end of answer ${i}`);
    }
    assert.deepEqual(ends.map((e) => e.id), answers);
    assert.ok(ends.every((e) => e.status === 'complete'));
    assert.ok(events.filter((e) => e.action === 'refresh' && e.id === chat.id).length >= 3);
    for (const id of answers) {
      const mine = events.filter((e) => e.id === id);
      const text = mine.map((e) => e.action === 'current_state' ? e.content : (e.chunk ?? '')).join('');
      const row = (await api(server, owner, 'GET', `/api/messages/${id}`)).json;
      assert.equal(text, row.content);
    }
  } finally {
    consumer.disconnect();
  }
});

test('enumerating ids finds nothing: 10,000 random ids and ids 1..1000 of another account', async () => {
  const chat = await newChat(server, owner);
  for (let i = 0; i < 5; i++) await ask(server, owner, chat.id, `secret ${i} [[chunks:1]]`);
  const c = rawCable(`${server.ws}?jid=${outsider}`);
  await c.next((f) => f.type === 'welcome');
  const identifiers = [];
  for (let i = 1; i <= 1000; i++) {
    identifiers.push(messageIdentifier(messageIds.encode(i)));
    identifiers.push(chatIdentifier(chatIds.encode(i)));
    identifiers.push(chatIdentifier(`${chatIds.encode(i)}:messages`));
  }
  for (let i = 0; i < 10000; i++) {
    let id = '';
    for (let k = 0; k < 6 + (i % 4); k++) id += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
    identifiers.push(messageIdentifier(id));
  }
  // In batches, as a client that reads its answers does: a client that never reads would be
  // disconnected as too_slow once a megabyte of rejections waits for it.
  const results = new Map();
  let answered = 0;
  let wake = () => {};
  c.ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === 'confirm_subscription' || f.type === 'reject_subscription') {
      results.set(f.identifier, f.type);
      answered++;
      wake();
    }
  });
  for (let from = 0; from < identifiers.length; from += 500) {
    const batch = identifiers.slice(from, from + 500);
    for (const identifier of batch) c.send({ command: 'subscribe', identifier });
    const want = from + batch.length;
    await withTimeout(new Promise((resolve) => { wake = () => answered >= want && resolve(); wake(); }), 30000, `answers up to ${want}`);
  }
  assert.equal(c.ws.readyState, 1, 'the connection stayed open');
  const confirmed = [...results.values()].filter((t) => t === 'confirm_subscription');
  assert.equal(confirmed.length, 0);
  assert.equal(results.size, new Set(identifiers).size);
  c.close();
});

test('membership revoked mid-stream: at most the chunk in flight arrives, then nothing', async () => {
  const chat = await newChat(server, owner);
  const { response } = await ask(server, owner, chat.id, 'long [[chunks:200]] [[rate:40]]');
  const ownerView = rawCable(`${server.ws}?jid=${owner}`);
  const bobView = rawCable(`${server.ws}?jid=${member}`);
  await Promise.all([ownerView.opened, bobView.opened]);
  const ident = messageIdentifier(response.id);
  const chatIdent = chatIdentifier(`${chat.id}:messages`);
  ownerView.send({ command: 'subscribe', identifier: ident });
  bobView.send({ command: 'subscribe', identifier: ident });
  bobView.send({ command: 'subscribe', identifier: chatIdent });
  const updates = () => bobView.frames.filter((f) => f.message?.action === 'streaming_update').length;
  await bobView.next(() => updates() >= 5, 10000, 'five updates for bob');
  await psqlAsync(db, `DELETE FROM memberships WHERE user_id = ${userId('member@example.com')} AND role = 'member'`);
  const rejected = await bobView.next((f) => f.type === 'reject_subscription' && f.identifier === ident, 5000, 'revocation');
  await bobView.next((f) => f.type === 'reject_subscription' && f.identifier === chatIdent, 5000, 'chat revocation');
  const atReject = bobView.frames.indexOf(rejected);
  // Let the owner's stream run on and finish: bob must get nothing more.
  await api(server, owner, 'POST', `/api/messages/${response.id}/stop`);
  await ownerView.next((f) => f.message?.action === 'streaming_end', 5000, 'owner end');
  // The barrier on bob's connection: an answer of his own, started after the owner's ended, ends
  // there after anything of the owner's stream could have.
  const own = await newChat(server, member);
  const mine = await ask(server, member, own.id, 'mine [[chunks:2]] [[rate:50]]');
  bobView.send({ command: 'subscribe', identifier: messageIdentifier(mine.response.id) });
  await bobView.next((f) => f.identifier === messageIdentifier(mine.response.id) && f.message?.action === 'streaming_end',
    10000, 'bob\'s own answer');
  const after = bobView.frames.slice(atReject + 1).filter((f) => f.identifier === ident || f.identifier === chatIdent);
  // The revocation reached bob while the stream still ran (it was stopped only after it).
  assert.ok(!bobView.frames.slice(0, atReject).some((f) => f.message?.action === 'streaming_end'));
  assert.deepEqual(after.filter((f) => f.message), []);
  assert.equal((await api(server, member, 'GET', `/api/messages/${response.id}`)).status, 404);
  ownerView.close();
  bobView.close();
  psql(db, `INSERT INTO memberships (account_id, user_id, role, confirmed_at) VALUES (${accountOf('owner@example.com')}, ${userId('member@example.com')}, 'member', now())`);
});

test('per-connection limits reject the subscribe and keep the connection', async () => {
  const limited = await startServer(db, {}, { config: { 'limits.subscriptions': 3, 'server.subscribe_burst': 6, 'server.subscribe_rate': 1 } });
  try {
    const chat = await newChat(limited, owner);
    const { response } = await ask(limited, owner, chat.id, '[[chunks:1]]');
    const c = rawCable(`${limited.ws}?jid=${owner}`);
    await c.next((f) => f.type === 'welcome');
    const variants = [0, 1, 2, 3].map((n) => `{"channel":"SyncChannel","model":"Message","id":"${response.id}"${' '.repeat(n)}}`);
    for (const identifier of variants) c.send({ command: 'subscribe', identifier });
    const answers = await Promise.all(variants.map((identifier) => c.next((f) => f.identifier === identifier && f.type?.endsWith('subscription'))));
    assert.deepEqual(answers.map((a) => a.type), ['confirm_subscription', 'confirm_subscription', 'confirm_subscription', 'reject_subscription']);
    await limited.waitLog((l) => l.includes('"event":"subscription_limit"'));
    c.send({ command: 'unsubscribe', identifier: variants[0] });
    // Two tokens of the burst remain, then the rate (1/s) applies.
    const more = [4, 5, 6].map((n) => `{"channel":"SyncChannel","model":"Message","id":"${response.id}"${' '.repeat(n)}}`);
    for (const identifier of more) c.send({ command: 'subscribe', identifier });
    const second = await Promise.all(more.map((identifier) => c.next((f) => f.identifier === identifier && f.type?.endsWith('subscription'))));
    assert.deepEqual(second.map((a) => a.type), ['confirm_subscription', 'reject_subscription', 'reject_subscription']);
    await limited.waitLog((l) => l.includes('"event":"subscribe_rate_limited"'));
    assert.equal(c.ws.readyState, 1, 'the connection stays open');
    await c.next((f) => f.type === 'ping', 5000, 'ping after the limits');
    c.close();
  } finally {
    await limited.stop();
  }
});

test('browser sign-in: /?token= sets an HttpOnly session cookie; the cable and changes need the page\'s own origin', async () => {
  const signIn = await fetch(`${server.http}/?token=${owner}`, { redirect: 'manual' });
  assert.equal(signIn.status, 302);
  assert.equal(signIn.headers.get('location'), '/');
  const setCookie = signIn.headers.get('set-cookie');
  assert.match(setCookie, /^actorcable_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
  const maxAge = Number(setCookie.match(/Max-Age=(\d+)/)[1]);
  assert.ok(maxAge > 0 && maxAge <= 86400, `expires with the token (${maxAge} s)`);
  const cookie = setCookie.split(';')[0];
  const own = server.http;  // http://127.0.0.1:<port>
  const withCookie = (origin, extra = {}) => ({ headers: { cookie, ...(origin ? { origin } : {}), ...extra.headers }, ...extra.init });

  assert.equal((await fetch(`${server.http}/api/chats`, withCookie())).status, 200, 'reads need no origin');
  const post = (origin) => fetch(`${server.http}/api/chats`, { method: 'POST', body: '{}',
    headers: { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) } });
  assert.equal((await post(own)).status, 201);
  const foreign = await post('http://evil.example');
  assert.equal(foreign.status, 403);
  assert.deepEqual(await foreign.json(), { error: 'origin not allowed' });
  assert.equal((await post(undefined)).status, 403, 'a change without an Origin is refused too');
  // JWT clients are not affected by origins.
  assert.equal((await api(server, owner, 'POST', '/api/chats', {})).status, 201);

  const upgrade = (origin) => new Promise((resolve) => {
    const ws = new WebSocket(server.ws, ['actioncable-v1-json'], { headers: { cookie }, origin });
    ws.on('message', (d) => { if (JSON.parse(d.toString()).type === 'welcome') { ws.close(); resolve(101); } });
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode); });
    ws.on('error', () => {});
  });
  assert.equal(await withTimeout(upgrade(own), 5000, 'own origin'), 101);
  assert.equal(await withTimeout(upgrade('http://evil.example'), 5000, 'foreign origin'), 403);

  const out = await fetch(`${server.http}/signout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: own } });
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie'), /^actorcable_session=; .*Max-Age=0$/);
  const bad = await fetch(`${server.http}/?token=forged.token.here`, { redirect: 'manual' });
  assert.equal(bad.status, 302);
  assert.match(bad.headers.get('set-cookie'), /Max-Age=0/, 'an invalid token signs nobody in');
});

// SPEC §17: the cookie carries a server-side session, not the JWT; sign-in from another site never
// replaces a session; sign-out is a POST from the page's origin and ends the session for good.
test('browser sessions: no token in the cookie, cross-site sign-in changes nothing, sign-out revokes', async () => {
  const own = server.http;
  const signIn = await fetch(`${server.http}/?token=${owner}`, { redirect: 'manual' });
  assert.equal(signIn.status, 302);
  assert.equal(signIn.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(signIn.headers.get('cache-control'), 'no-store');
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  const value = cookie.split('=')[1];
  assert.ok(!value.includes('.') && !owner.includes(value), 'the cookie is not the JWT');
  const chats = (c) => fetch(`${server.http}/api/chats`, { headers: { cookie: c } });
  assert.equal((await chats(cookie)).status, 200);

  // A link on another site to the outsider's token (login CSRF): no cookie set, a page asking.
  for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { referer: 'https://evil.example/page' }]) {
    const csrf = await fetch(`${server.http}/?token=${outsider}`, { redirect: 'manual', headers: { cookie, ...headers } });
    assert.equal(csrf.status, 200, JSON.stringify(headers));
    assert.equal(csrf.headers.get('set-cookie'), null, 'the session is kept');
    assert.equal(csrf.headers.get('cache-control'), 'no-store');
    assert.equal(csrf.headers.get('referrer-policy'), 'no-referrer');
    assert.match(await csrf.text(), /Continue signing in/);
  }
  const mine = await (await chats(cookie)).json();
  const ownerChats = (await api(server, owner, 'GET', '/api/chats')).json;
  assert.deepEqual(mine.map((c) => c.id).sort(), ownerChats.map((c) => c.id).sort(), 'still the owner');

  // Sign-out: a GET or a foreign origin does nothing.
  assert.equal((await fetch(`${server.http}/signout`, { redirect: 'manual', headers: { cookie } })).status, 405);
  const foreign = await fetch(`${server.http}/signout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: 'http://evil.example' } });
  assert.equal(foreign.status, 403);
  assert.equal((await chats(cookie)).status, 200, 'the cookie still works after a refused sign-out');
  const out = await fetch(`${server.http}/signout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: own } });
  assert.equal(out.status, 303);
  assert.equal((await chats(cookie)).status, 401, 'the old cookie value is refused at once');
  const upgrade = await new Promise((resolve) => {
    const ws = new WebSocket(server.ws, ['actioncable-v1-json'], { headers: { cookie }, origin: own });
    ws.on('message', (d) => { const f = JSON.parse(d.toString()); if (f.type !== 'ping') { ws.close(); resolve(f); } });
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve({ status: res.statusCode }); });
    ws.on('error', () => {});
  });
  assert.notEqual(upgrade.type, 'welcome', `the cable refuses it too (${JSON.stringify(upgrade)})`);
  assert.equal((await chats('actorcable_session=' + 'A'.repeat(43))).status, 401, 'a made-up session id');
});
