// An application's own backend as producer (SPEC §11): the ingest key, answers created for a
// producer, NDJSON streams read as they arrive with the producer supervised as the stream's job
// (every way it can fail ends the stream `error`, the row exact up to the last accepted part),
// a Ruby producer with only its standard library, and 200 producers at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createDatabase, startServer, token, api, newChat, ask, psql, withTimeout, countRowUpdates,
  eventually, SANITIZER_TIME_FACTOR } from './harness.mjs';
import { createConsumer, watchMessage, resumeRun } from './cable_env.mjs';
import Hashids from 'hashids';

const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
// Whether the server ended `oid`'s stream on its idle timeout (and not on what the producer did).
const endedIdle = (oid) => server.logs.some((l) => l.includes('"event":"job_idle_timeout"')
  && l.includes(`"message_id":${messageIds.decode(oid)[0]}`));

const KEY = `ingest-key-${process.pid}-0123456789`;
const IDLE_S = 2;
let db, server, alice, chat;

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  server = await startServer(db, { ACTORCABLE_INGEST_KEY: KEY },
    { config: { 'streams.idle_timeout_s': IDLE_S, 'streams.retention_s': 30, 'server.subscribe_burst': 1000 } });
  chat = await newChat(server, alice);
});

after(async () => {
  await server.stop();
  assert.ok(!server.logs.some((l) => l.includes(KEY)), 'the ingest key was logged');
});

const ingest = (path, body, key = KEY) => api(server, key, 'POST', path, body);

async function newAnswer(chatId = chat.id, body = {}) {
  const r = await ingest(`/ingest/chats/${chatId}/answers`, body);
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

// A producer on one HTTP request: lines are sent as they are given (chunked), the response
// comes once the stream ended.
function producer(oid, { key = KEY } = {}) {
  const headers = { 'content-type': 'application/x-ndjson' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const req = request(`${server.http}/ingest/messages/${oid}/stream`, { method: 'POST', headers });
  const response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { let json = null; try { json = JSON.parse(body); } catch { /* not JSON */ } resolve({ status: res.statusCode, json, body }); });
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  const answered = withTimeout(response, 30000 * SANITIZER_TIME_FACTOR, `the response for ${oid}`);
  answered.catch(() => {});  // a reset request has no response: awaited only where one is due
  return {
    send(...parts) { for (const p of parts) req.write(`${typeof p === 'string' ? p : JSON.stringify(p)}\n`); },
    end() { req.end(); },
    reset() { req.destroy(); },
    response: answered,
  };
}

const message = async (oid) => (await api(server, alice, 'GET', `/api/messages/${oid}`)).json;

// Watches `oid` with the unmodified @rails/actioncable client until its end.
async function watch(oid) {
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  const w = watchMessage(consumer, oid);
  await withTimeout(w.connectedP, 5000, 'the subscription');
  return { w, close: () => consumer.disconnect() };
}

test('without a key configured every ingest endpoint answers 404', async () => {
  const plain = await startServer(db, {});
  try {
    const oid = (await ask(plain, alice, chat.id, 'hi [[chunks:1]]')).response.id;
    for (const path of [`/ingest/chats/${chat.id}/answers`, `/ingest/messages/${oid}/stream`]) {
      const r = await api(plain, KEY, 'POST', path, {});
      assert.equal(r.status, 404, path);
    }
  } finally {
    await plain.stop();
  }
});

test('a wrong or missing key, or a user\'s token, is 401; nothing is created', async () => {
  const before = psql(db, 'SELECT count(*) FROM messages');
  for (const key of ['wrong', KEY.slice(0, -1), KEY + 'x', alice, null]) {
    assert.equal((await ingest(`/ingest/chats/${chat.id}/answers`, {}, key)).status, 401, `key ${key}`);
    const p = producer('aaaaaa', { key });
    p.end();
    assert.equal((await p.response).status, 401);
  }
  assert.equal(psql(db, 'SELECT count(*) FROM messages'), before);
});

test('an answer is created for a chat; a missing chat or an unknown id is 404, a bad body 400 or 422', async () => {
  const oid = await newAnswer(chat.id, { model_id: 'my-agent' });
  const row = await message(oid);
  assert.deepEqual([row.role, row.streaming, row.content, row.model_id], ['assistant', true, '', 'my-agent']);
  assert.equal((await ingest('/ingest/chats/zzzzzzzz/answers', {})).status, 404);
  assert.equal((await ingest('/ingest/chats/x\'%20OR%201=1--/answers', {})).status, 404);
  assert.equal((await ingest(`/ingest/chats/${chat.id}/answers`, 'not json')).status, 400);
  assert.equal((await ingest(`/ingest/chats/${chat.id}/answers`, { model_id: 7 })).status, 422);
  const end = producer(oid);
  end.send({ type: 'end', status: 'complete' });
  end.end();
  assert.equal((await end.response).json.status, 'complete');
});

test('a producer streams reasoning, a tool, text and usage; a subscriber sees exactly the stored answer', async () => {
  const oid = await newAnswer();
  const { w, close } = await watch(oid);
  const p = producer(oid);
  const words = Array.from({ length: 30 }, (_, i) => `w${i} `);
  p.send({ type: 'thinking', text: 'Let me think. ' }, { type: 'thinking', text: 'Done thinking.' });
  p.send({ type: 'tool', call_id: 'c1', name: 'search', status: 'running', summary: 'Searching' });
  // The subscription may catch up after the producer's first parts: then current_state carries
  // the running tool instead of a tool_update.
  await withTimeout(w.until((s) => s.events.some((e) => e.action === 'tool_update'
    || (e.action === 'current_state' && e.tool_status === 'Searching'))), 10000 * SANITIZER_TIME_FACTOR, 'the running tool');
  p.send({ type: 'tool', call_id: 'c1', name: 'search', status: 'done', summary: 'Found it' });
  for (const word of words) p.send({ type: 'text', text: word });
  await withTimeout(w.until((s) => s.text.length > 0), 10000 * SANITIZER_TIME_FACTOR, 'the text');  // parts arrive while the request is still open
  p.send({ type: 'usage', input_tokens: 12, output_tokens: 30, model_id: 'agent-1' }, { type: 'end', status: 'complete' });
  p.end();
  const r = await p.response;
  const end = await withTimeout(w.ended, 10000, 'streaming_end');
  close();
  const row = await message(oid);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { id: oid, status: 'complete', content_length: Buffer.byteLength(words.join('')), offset: 2 + 2 + 30 });
  assert.equal(row.content, words.join(''));
  assert.equal(w.text, row.content);
  assert.equal(row.thinking, 'Let me think. Done thinking.');
  assert.deepEqual(row.tool_calls, [{ call_id: 'c1', name: 'search', status: 'done', summary: 'Found it' }]);
  assert.deepEqual([row.status, row.streaming, row.model_id, row.input_tokens, row.output_tokens], ['complete', false, 'agent-1', 12, 30]);
  assert.equal(end.status, 'complete');
  assert.deepEqual(end.usage, { input_tokens: 12, output_tokens: 30 });
});

test('every way a producer can fail ends the stream error; the parts before it are kept', async () => {
  const cases = {
    'body ends without an end line': (p) => { p.end(); },
    'connection reset': (p) => { p.reset(); },
    'silence past the idle timeout': () => {},
    'a line that is not JSON': (p) => { p.send('{"type":"text","text":'); },
    'an unknown part type': (p) => { p.send({ type: 'image', url: 'x' }); },
    'a line over max_frame_bytes': (p) => { p.send({ type: 'text', text: 'x'.repeat(70 * 1024) }); },
    // SPEC §17: PostgreSQL can hold neither; refused, never stored altered or failing the final write.
    'a line with a NUL character': (p) => { p.send({ type: 'text', text: 'a\u0000b' }); },
    'a line with a token count over 2^31-1': (p) => { p.send({ type: 'usage', input_tokens: 2 ** 31, output_tokens: 1 }); },
  };
  const runs = await Promise.all(Object.entries(cases).map(async ([name, fail]) => {
    const oid = await newAnswer();
    const p = producer(oid);
    p.send({ type: 'thinking', text: 'hm' }, { type: 'text', text: 'kept ' }, { type: 'text', text: 'text' });
    // The parts are in before the failure: the row has them.
    const started = Date.now();
    for (;;) {
      if ((await message(oid)).content === 'kept text') break;
      if (Date.now() - started > 10000) throw new Error(`${name}: parts not stored`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const failedAt = Date.now();
    fail(p);
    const response = name === 'connection reset' ? null : await p.response;
    const row = await (async () => {
      for (;;) {
        const m = await message(oid);
        if (!m.streaming) return m;
        if (Date.now() - started > (IDLE_S + 10) * 1000 * SANITIZER_TIME_FACTOR) throw new Error(`${name}: still streaming`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return { name, oid, response, row, seconds: (Date.now() - failedAt) / 1000 };
  }));
  for (const { name, oid, response, row, seconds } of runs) {
    assert.equal(row.status, 'error', name);
    assert.equal(row.content, 'kept text', name);
    assert.equal(row.thinking, 'hm', name);
    if (name.startsWith('a line') || name.startsWith('an unknown')) {
      assert.equal(response.status, 400, name);
      assert.match(row.error, /^invalid part at line 4: /, name);
      assert.equal(response.json.status, 'error');
      assert.equal(response.json.offset, 3);
    } else {
      assert.equal(row.error, 'producer lost', name);
      if (response) assert.equal(response.json.status, 'error', name);
    }
    // Only silence waits for the idle timeout; every other failure ends the stream by itself.
    assert.equal(endedIdle(oid), name.startsWith('silence'), `${name}: ended ${seconds} s after the failure`);
  }
});

// SPEC §17: a body with Content-Length is as unbounded as a chunked one, read as it arrives.
test('a producer with Content-Length streams 10 MB; its content_length is the row\'s length', { timeout: 120000 }, async () => {
  const oid = await newAnswer();
  const piece = 'y'.repeat(50000);
  const lines = [];
  for (let i = 0; i < 200; i++) lines.push(JSON.stringify({ type: 'text', text: piece }));
  lines.push(JSON.stringify({ type: 'end' }));
  const body = Buffer.from(lines.join('\n') + '\n');
  const res = await withTimeout(fetch(`${server.http}/ingest/messages/${oid}/stream`, {
    method: 'POST', body, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson',
      'content-length': String(body.length) } }), 60000 * SANITIZER_TIME_FACTOR, 'the 10 MB producer');
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.equal(json.status, 'complete');
  assert.equal(json.content_length, 200 * piece.length);
  const stored = Number(psql(db, `SELECT octet_length(content) FROM messages WHERE id = ${messageIds.decode(oid)[0]}`));
  assert.equal(stored, json.content_length);
});

// SPEC §17: a blank line keeps a producer alive like a part (here for four idle timeouts).
test('blank lines keep a producer alive past the idle timeout', { timeout: 60000 }, async () => {
  const oid = await newAnswer();
  const p = producer(oid);
  p.send({ type: 'text', text: 'before ' });
  const until = Date.now() + 4 * IDLE_S * 1000;
  while (Date.now() < until) {
    p.send('');
    await new Promise((r) => setTimeout(r, 400));
  }
  p.send({ type: 'text', text: 'after' }, { type: 'end' });
  p.end();
  const r = await p.response;
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.status, 'complete');
  assert.equal((await message(oid)).content, 'before after');
  assert.ok(!endedIdle(oid), 'the idle timeout ended it');
});

test('409 for a second producer, a user message or an ended answer; 404 for a missing or malformed id', async () => {
  const oid = await newAnswer();
  const first = producer(oid);
  first.send({ type: 'text', text: 'one' });
  await eventually(async () => (await message(oid)).content, (c) => c === 'one', 10000 * SANITIZER_TIME_FACTOR, 'the part stored');
  const second = producer(oid);
  second.send({ type: 'text', text: 'two' });
  second.end();
  assert.equal((await second.response).status, 409);
  first.send({ type: 'end', status: 'error', error: 'the agent gave up' });
  first.end();
  const r = await first.response;
  assert.equal(r.json.status, 'error');
  const row = await message(oid);
  assert.deepEqual([row.content, row.status, row.error], ['one', 'error', 'the agent gave up']);
  const again = producer(oid);
  again.end();
  assert.equal((await again.response).status, 409, 'an ended answer');
  const { message: question } = await ask(server, alice, chat.id, 'a question [[chunks:1]]');
  const user = producer(question.id);
  user.end();
  assert.equal((await user.response).status, 409, 'a user message');
  for (const id of ['zzzzzzzz', 'AAAAAA', '%27%3B%20DROP%20TABLE%20messages--']) {
    const missing = producer(id);
    missing.end();
    assert.equal((await missing.response).status, 404, id);
  }
});

test('POST /api/messages/:id/stop ends a producer\'s stream cancelled; its response says so', async () => {
  const oid = await newAnswer();
  const p = producer(oid);
  p.send({ type: 'text', text: 'partial ' });
  await eventually(async () => (await message(oid)).content, (c) => c === 'partial ', 10000 * SANITIZER_TIME_FACTOR, 'the part stored');
  assert.equal((await api(server, alice, 'POST', `/api/messages/${oid}/stop`)).status, 202);
  const r = await p.response;
  assert.deepEqual(r.json, { id: oid, status: 'cancelled', content_length: 8, offset: 1 });
  const row = await message(oid);
  assert.deepEqual([row.status, row.content, row.streaming], ['cancelled', 'partial ', false]);
  p.reset();
});

// examples/ingest_producer.rb, run as an application would run it.
function rubyProducer(chatId, parts, paceMs) {
  const proc = spawn('ruby', [`${process.env.ACTORCABLE_SOURCE_DIR}/examples/ingest_producer.rb`, server.http, chatId, String(parts), String(paceMs)],
    { env: { ...process.env, ACTORCABLE_INGEST_KEY: KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const answer = new Promise((resolve) => createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(l);
    if (l.startsWith('answer ')) resolve(l.slice(7));
  }));
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal, lines, stderr })));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60000 * SANITIZER_TIME_FACTOR);
  exited.then(() => clearTimeout(timer));
  return { proc, answer: withTimeout(answer, 20000, 'the Ruby producer\'s answer'), exited };
}

test('a Ruby producer (standard library only) streams 200 parts; @rails/actioncable and @anycable/core cut mid-stream both end exact', async () => {
  const ruby = rubyProducer(chat.id, 200, 15);
  const oid = await ruby.answer;
  const { w, close } = await watch(oid);
  const cut = resumeRun(server, alice, oid, 60);
  const { code, lines, stderr } = await ruby.exited;
  assert.equal(code, 0, `the producer: ${stderr}`);
  const response = JSON.parse(lines.at(-1));
  const seen = await cut;
  await withTimeout(w.ended, 10000, 'streaming_end');
  close();
  const row = await message(oid);
  const words = 200 - 20 - 4;
  assert.equal(row.content, Array.from({ length: words }, (_, i) => `word${i} `).join(''));
  assert.equal(row.thinking.split('Considering step').length - 1, 20);
  assert.deepEqual([row.status, row.model_id, row.input_tokens, row.output_tokens], ['complete', 'ruby-agent', 42, words]);
  assert.deepEqual(response, { id: oid, status: 'complete', content_length: Buffer.byteLength(row.content), offset: 20 + 2 + words });
  assert.equal(w.text, row.content, '@rails/actioncable');
  assert.ok(seen.cut, '@anycable/core was cut mid-stream');
  assert.equal(seen.text, row.content, '@anycable/core');
  assert.equal(seen.thinking, row.thinking);
});

test('a producer killed with SIGKILL mid-stream: the stream ends error at once, the row exact', async () => {
  const ruby = rubyProducer(chat.id, 400, 20);
  const oid = await ruby.answer;
  const { w, close } = await watch(oid);
  await withTimeout(w.until((s) => s.text.length > 0), 10000 * SANITIZER_TIME_FACTOR, 'the text');
  ruby.proc.kill('SIGKILL');
  const end = await withTimeout(w.ended, (IDLE_S + 10) * 1000 * SANITIZER_TIME_FACTOR, 'streaming_end');
  close();
  assert.equal(end.status, 'error');
  assert.ok(!endedIdle(oid), 'ended by the lost connection, not by the idle timeout');
  const row = await message(oid);
  assert.deepEqual([row.status, row.error, row.streaming], ['error', 'producer lost', false]);
  assert.equal(w.text, row.content, 'the subscriber saw exactly the stored text');
  assert.match(row.content, /^(word\d+ )+$/);
});

test('200 producers at once: every part persisted and delivered; at most about 10 UPDATEs per second per row', { timeout: 120000 }, async () => {
  const updates = countRowUpdates(db);
  const load = await newChat(server, alice);
  // One subscriber to every answer of the chat: each part must reach it.
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  const seen = new Map();
  let connected;
  const ready = new Promise((r) => { connected = r; });
  consumer.subscriptions.create({ channel: 'SyncChannel', model: 'Chat', id: `${load.id}:messages` }, {
    connected,
    received(d) {
      if (d.action === 'streaming_update') seen.set(d.id, (seen.get(d.id) ?? '') + d.chunk);
      if (d.action === 'current_state') seen.set(d.id, d.content);
    },
  });
  await withTimeout(ready, 5000, 'the chat subscription');
  const oids = [];
  for (let i = 0; i < 200; i++) oids.push(await newAnswer(load.id));
  const parts = 60;  // three seconds at 20 parts per second
  const results = await Promise.all(oids.map(async (oid, i) => {
    const p = producer(oid);
    for (let k = 0; k < parts; k++) {
      p.send({ type: 'text', text: `p${i}.${k} ` });
      await new Promise((r) => setTimeout(r, 50));
    }
    p.send({ type: 'end', status: 'complete' });
    p.end();
    return p.response;
  }));
  for (const r of results) assert.equal(r.json?.status, 'complete', JSON.stringify(r));
  const rows = await Promise.all(oids.map(message));
  const expected = (i) => Array.from({ length: parts }, (_, k) => `p${i}.${k} `).join('');
  rows.forEach((row, i) => assert.equal(row.content, expected(i), `answer ${i}`));
  const started = Date.now();
  while (oids.some((oid, i) => seen.get(oid) !== expected(i)) && Date.now() - started < 10000)
    await new Promise((r) => setTimeout(r, 100));
  oids.forEach((oid, i) => assert.equal(seen.get(oid), expected(i), `delivered ${i}`));
  consumer.disconnect();
  const rates = updates.perSecond(`m.chat_id = (SELECT chat_id FROM messages WHERE id = (SELECT max(id) FROM messages))`).map((r) => r.rate);
  updates.stop();
  assert.equal(rates.length, 200);
  // SPEC §6: at most about 10 UPDATEs per second per message, whatever the producers' rate.
  assert.ok(Math.max(...rates) <= 10.5, `up to ${Math.max(...rates).toFixed(1)} UPDATEs per second of a row`);
});
