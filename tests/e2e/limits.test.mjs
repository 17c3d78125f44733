// Per-user limits with their defaults (SPEC §13): 4 streaming answers at once, 20 answers per
// minute, 64 WebSocket connections. The numbers below are SPEC's, not read from the server; those
// of SPEC §17 (which gives none) are the defaults conf/actorcable.ini documents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createDatabase, startServer, token, newChat, api, NO_LIMITS, eventually, withTimeout,
  metricValue, psql, rawCable } from './harness.mjs';

const SPEC = { concurrent: 4, perMinute: 20, connections: 64 };
const DOCUMENTED = { chats: 1000, subscriptions: 256, identifierBytes: 1024, sessions: 16 };
let db, server;

before(async () => {
  db = createDatabase();
  const defaults = Object.fromEntries(Object.keys(NO_LIMITS).map((k) => [k, undefined]));
  server = await startServer(db, defaults);
});
after(() => server.stop());

const post = (tok, chatId, content) => api(server, tok, 'POST', `/api/chats/${chatId}/messages`, { content });
const streaming = async (tok, id) => (await api(server, tok, 'GET', `/api/messages/${id}`)).json.streaming;
const limitedTotal = (limit) => metricValue(server, `actorcable_limited_total{limit="${limit}"}`);
const logLines = (limit) => server.logs.filter((l) => l.includes('"event":"limited"') && l.includes(`"limit":"${limit}"`)).length;

test('a fifth streaming answer is refused with 429 until one of the four ends', async () => {
  const carol = token(db, 'carol@example.com');
  // One chat each: a new question in a chat whose answer streams would cancel it (on_busy).
  const started = [];
  for (let i = 0; i < SPEC.concurrent; i++) {
    const r = await post(carol, (await newChat(server, carol)).id, `long ${i} [[chunks:100000]] [[rate:5]]`);
    assert.equal(r.status, 201);
    started.push(r.json.response.id);
  }
  const chat = await newChat(server, carol);
  const refused = await post(carol, chat.id, 'one too many');
  assert.equal(refused.status, 429);
  assert.deepEqual(refused.json, { error: 'too many answers streaming' });
  assert.equal((await api(server, carol, 'GET', `/api/chats/${chat.id}/messages`)).json.length, 0,
    'nothing was created for the refused question');
  // Another user is not affected.
  const dave = token(db, 'dave@example.com');
  assert.equal((await post(dave, (await newChat(server, dave)).id, '[[chunks:1]]')).status, 201);

  await api(server, carol, 'POST', `/api/messages/${started[0]}/stop`);
  await eventually(() => streaming(carol, started[0]), (s) => s === false, 10000, 'the stopped answer to end');
  assert.equal((await post(carol, chat.id, 'now there is room [[chunks:1]]')).status, 201);
  for (const id of started.slice(1)) await api(server, carol, 'POST', `/api/messages/${id}/stop`);
  assert.ok(await limitedTotal('answers_concurrent') >= 1);
  assert.equal(logLines('answers_concurrent'), 1);
});

test('the twenty-first answer within a minute is refused with 429 and Retry-After', async () => {
  const erin = token(db, 'erin@example.com');
  const chat = await newChat(server, erin);
  for (let i = 0; i < SPEC.perMinute; i++) {
    const r = await post(erin, chat.id, `quick ${i} [[chunks:1]]`);
    assert.equal(r.status, 201, `answer ${i + 1}`);
    // Ended before the next one, so the concurrent limit never applies.
    await eventually(() => streaming(erin, r.json.response.id), (s) => s === false, 10000, 'the answer to end');
  }
  const refused = await post(erin, chat.id, 'one more');
  assert.equal(refused.status, 429);
  assert.deepEqual(refused.json, { error: 'too many answers per minute' });
  const retry = Number(refused.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  assert.equal((await post(erin, chat.id, 'and another')).status, 429);
  assert.equal(logLines('answers_per_minute'), 1, 'logged once for the offender');
  assert.ok(await limitedTotal('answers_per_minute') >= 2);
});

function open(tok) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.ws}?jid=${tok}`, ['actioncable-v1-json']);
    ws.on('message', (d) => { if (JSON.parse(d.toString()).type === 'welcome') resolve({ ws, status: 101 }); });
    ws.on('unexpected-response', (_req, res) => { resolve({ ws, status: res.statusCode }); res.resume(); });
    ws.on('error', () => {});
  });
}

test('the sixty-fifth WebSocket connection of a user is refused with 429 before the upgrade', async () => {
  const frank = token(db, 'frank@example.com');
  const baseline = await metricValue(server, 'actorcable_clients_num');
  const conns = [];
  for (let i = 0; i < SPEC.connections; i++) {
    const c = await withTimeout(open(frank), 5000, `connection ${i + 1}`);
    assert.equal(c.status, 101, `connection ${i + 1}`);
    conns.push(c.ws);
  }
  for (let i = 0; i < 3; i++) assert.equal((await withTimeout(open(frank), 5000, 'refused')).status, 429);
  const grace = await withTimeout(open(token(db, 'grace@example.com')), 5000, 'another user');
  assert.equal(grace.status, 101);
  grace.ws.close();
  conns.pop().close();
  await eventually(() => metricValue(server, 'actorcable_clients_num'), (n) => n === baseline + SPEC.connections - 1,
    10000, 'the closed connection to be released');
  const again = await withTimeout(open(frank), 5000, 'a connection after one closed');
  assert.equal(again.status, 101);
  again.ws.close();
  for (const ws of conns) ws.close();
  assert.equal(logLines('connections'), 1);
  assert.ok(await limitedTotal('connections') >= 3);
});

const accountOf = (email) => psql(db, `SELECT m.account_id FROM memberships m JOIN users u ON u.id = m.user_id
  WHERE u.email_address = '${email}' AND m.role = 'owner'`);
const chatIdentifier = (id, extra = {}) => JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id, ...extra });

test('chats: the 1,001st of an account is 429; GET /api/chats is paged, most recently active first', async () => {
  const henry = token(db, 'henry@example.com');
  const made = (await newChat(server, henry)).id;
  psql(db, `INSERT INTO chats (account_id, title, updated_at)
    SELECT ${accountOf('henry@example.com')}, 'chat ' || n, now() - n * interval '1 second'
    FROM generate_series(1, ${DOCUMENTED.chats - 2}) n`);
  assert.equal((await api(server, henry, 'POST', '/api/chats', { title: 'the last one' })).status, 201);
  const before = await limitedTotal('chats');
  const refused = await api(server, henry, 'POST', '/api/chats', { title: 'one too many' });
  assert.equal(refused.status, 429);
  assert.deepEqual(refused.json, { error: 'too many chats' });
  assert.equal(await limitedTotal('chats'), before + 1);
  assert.equal((await api(server, token(db, 'ivy@example.com'), 'POST', '/api/chats', {})).status, 201, 'another user');

  // Paged: 100 by default, a Link to the next page, every chat once, newest activity first.
  const seen = [];
  let path = '/api/chats';
  let pages = 0;
  while (path) {
    const r = await api(server, henry, 'GET', path);
    assert.equal(r.status, 200);
    assert.ok(r.json.length <= 100 && r.json.length > 0);
    seen.push(...r.json);
    const next = /<([^>]+)>; rel="next"/.exec(r.headers.get('link') ?? '');
    path = next ? next[1] : null;
    pages += 1;
  }
  assert.equal(pages, DOCUMENTED.chats / 100);
  assert.equal(new Set(seen.map((c) => c.id)).size, DOCUMENTED.chats);
  assert.equal(seen[0].title, 'the last one');
  assert.equal(seen[1].id, made);
  assert.equal(seen.at(-1).title, `chat ${DOCUMENTED.chats - 2}`);
  const big = await api(server, henry, 'GET', '/api/chats?limit=200');
  assert.equal(big.json.length, 200);
  assert.equal((await api(server, henry, 'GET', '/api/chats?limit=201')).status, 400);
  assert.equal((await api(server, henry, 'GET', '/api/chats?before=not-an-id')).status, 400);
  // Another user's chat as the cursor reads like a missing one: an empty page.
  const foreign = await newChat(server, token(db, 'ivy@example.com'));
  assert.deepEqual((await api(server, henry, 'GET', `/api/chats?before=${foreign.id}`)).json, []);
});

test('subscriptions per connection and identifier bytes are bounded; refusals keep the connection', async () => {
  // Its own server without the subscribe rate limit (not under test here), the limits at their defaults.
  const defaults = Object.fromEntries(Object.keys(NO_LIMITS).map((k) => [k, undefined]));
  const own = await startServer(db, defaults, { config: { 'server.subscribe_rate': 1000000, 'server.subscribe_burst': 1000000 } });
  try {
    const judy = token(db, 'judy@example.com');
    const chat = await newChat(own, judy);
    const c = rawCable(`${own.ws}?jid=${judy}`);
    await c.opened;
    const answer = async (identifier) => {
      c.send({ command: 'subscribe', identifier });
      const f = await c.next((x) => x.identifier === identifier && /subscription/.test(x.type ?? ''), 10000, 'an answer');
      c.frames.splice(c.frames.indexOf(f), 1);
      return f.type;
    };
    const limited = (limit) => metricValue(own, `actorcable_limited_total{limit="${limit}"}`);
    // 256 identifiers of one chat: the extra key makes each its own subscription.
    for (let i = 0; i < DOCUMENTED.subscriptions; i++)
      assert.equal(await answer(chatIdentifier(chat.id, { n: i })), 'confirm_subscription', `subscription ${i + 1}`);
    assert.equal(await answer(chatIdentifier(chat.id, { n: 'one too many' })), 'reject_subscription');
    assert.equal(await limited('subscriptions'), 1);
    c.send({ command: 'unsubscribe', identifier: chatIdentifier(chat.id, { n: 0 }) });
    // Room for one again; an identifier of exactly 1,024 bytes is taken, 1,025 are not.
    const padded = (n) => { const base = chatIdentifier(chat.id); return base.slice(0, -1) + ' '.repeat(n - base.length) + '}'; };
    assert.equal(padded(DOCUMENTED.identifierBytes).length, DOCUMENTED.identifierBytes);
    assert.equal(await answer(padded(DOCUMENTED.identifierBytes)), 'confirm_subscription');
    c.send({ command: 'unsubscribe', identifier: padded(DOCUMENTED.identifierBytes) });
    assert.equal(await answer(padded(DOCUMENTED.identifierBytes + 1)), 'reject_subscription');
    assert.equal(await limited('identifier_bytes'), 1);
    assert.equal(c.ws.readyState, 1, 'the connection stays open');
    c.close();
  } finally {
    await own.stop();
  }
});

test('stored sessions per user: past 16 the oldest goes; the newest restores', async () => {
  const kate = token(db, 'kate@example.com');
  const chat = await newChat(server, kate);
  const ext = ['actioncable-v1-ext-json'];
  const before = await limitedTotal('sessions');
  const sids = [];
  for (let i = 0; i <= DOCUMENTED.sessions; i++) {
    const c = rawCable(`${server.ws}?jid=${kate}`, { protocols: ext });
    const welcome = await c.next((f) => f.type === 'welcome');
    c.send({ command: 'subscribe', identifier: chatIdentifier(chat.id) });
    await c.next((f) => f.type === 'confirm_subscription');
    const stored = await metricValue(server, 'actorcable_sessions_stored_total');
    c.close();
    await eventually(() => metricValue(server, 'actorcable_sessions_stored_total'), (n) => n > stored, 5000, 'stored');
    sids.push(welcome.sid);
  }
  assert.equal(await limitedTotal('sessions'), before + 1);
  const restore = async (sid) => {
    const c = rawCable(`${server.ws}?jid=${kate}&sid=${sid}`, { protocols: ext });
    const welcome = await c.next((f) => f.type === 'welcome');
    c.close();
    return welcome.restored === true;
  };
  assert.equal(await restore(sids[0]), false, 'the oldest was dropped');
  assert.equal(await restore(sids.at(-1)), true, 'the newest restores');
});
