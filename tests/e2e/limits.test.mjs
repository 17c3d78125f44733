// Per-user limits with their defaults (SPEC §13): 4 streaming answers at once, 20 answers per
// minute, 64 WebSocket connections. The numbers below are SPEC's, not read from the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createDatabase, startServer, token, newChat, api, NO_LIMITS, eventually, withTimeout,
  metricValue } from './harness.mjs';

const SPEC = { concurrent: 4, perMinute: 20, connections: 64 };
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
