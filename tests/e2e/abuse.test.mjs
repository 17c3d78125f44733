// Hostile and broken peers (issue #24, SPEC §5 and §13): each case found by an adversarial run
// against the server, each bounded here in memory, CPU, log lines or time. Loopback only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createDatabase, startServer, token, newChat, ask, api, rawCable, messageIdentifier,
  rssBytes, cpuSeconds, metricValue, eventually, withTimeout, psql, SANITIZER_SLACK_BYTES,
  SANITIZER_TIME_FACTOR } from './harness.mjs';

const MiB = 1024 * 1024;
let db, alice;

before(() => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
});

// A client frame (masked, as RFC 6455 requires of clients).
function clientFrame(opcode, payload) {
  const data = Buffer.from(payload);
  const mask = randomBytes(4);
  const len = data.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len])
    : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

// A WebSocket handshake by hand on a plain socket; resolves with the socket and the response
// head once the server answered. `after`: bytes sent in the same write as the request.
function rawUpgrade(port, { path, key = randomBytes(16).toString('base64'), after = Buffer.alloc(0),
  protocol = 'actioncable-v1-json' } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ socket, head: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`),
    after])));
  });
}

// Text frames the server sent, parsed from the raw bytes (unmasked server frames).
function serverTexts(bytes) {
  const out = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const op = bytes[i] & 0x0f;
    let len = bytes[i + 1] & 0x7f, at = i + 2;
    if (len === 126) { len = bytes.readUInt16BE(at); at += 2; }
    else if (len === 127) { len = Number(bytes.readBigUInt64BE(at)); at += 8; }
    if (at + len > bytes.length) break;
    if (op === 1) out.push(JSON.parse(bytes.subarray(at, at + len).toString()));
    i = at + len;
  }
  return out;
}

// Writes `frame` repeatedly until the socket dies, `maxBytes` went out, or `ms` passed.
async function flood(socket, frame, { maxBytes, ms }) {
  const batch = Buffer.concat(Array(512).fill(frame));
  const until = Date.now() + ms;
  let sent = 0, dead = false;
  socket.on('error', () => { dead = true; });
  socket.on('close', () => { dead = true; });
  while (!dead && sent < maxBytes && Date.now() < until) {
    sent += batch.length;
    if (!socket.write(batch))
      await Promise.race([new Promise((r) => socket.once('drain', r)), new Promise((r) => setTimeout(r, 200))]);
  }
  return sent;
}

async function finishedAnswer(server, question) {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, question);
  const row = await eventually(async () => (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json,
    (m) => m.streaming === false, 60000, 'the answer to end');
  return { id: response.id, content: row.content };
}

test('a client that pings at wire speed and never reads is cut as too_slow; memory stays bounded', async () => {
  const server = await startServer(db, {}, { config: { 'server.write_queue_limit_bytes': 65536 } });
  const connected = await metricValue(server, 'actorcable_clients_num');
  const { socket } = await rawUpgrade(server.port, { path: `/cable?jid=${alice}` });
  socket.pause();  // never reads: pongs pile up on the server
  const rssBefore = rssBytes(server.proc.pid);
  let rssMax = rssBefore;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssBytes(server.proc.pid)); }, 50);
  const sent = await flood(socket, clientFrame(0x9, 'p'.repeat(125)), { maxBytes: 256 * MiB, ms: 15000 });
  // Closed whatever it still had queued: within the close grace after too_slow.
  await eventually(() => metricValue(server, 'actorcable_clients_num'), (n) => n === connected, 15000,
    'the flooding connection to be closed');
  clearInterval(sampler);
  socket.destroy();
  assert.ok(await metricValue(server, 'actorcable_slow_clients_disconnected_total') >= 1);
  assert.ok(sent > 16 * MiB, `the flood was real (${sent} bytes)`);
  assert.ok(rssMax - rssBefore < 64 * MiB + SANITIZER_SLACK_BYTES, `RSS grew ${((rssMax - rssBefore) / MiB).toFixed(1)} MiB`);
  await server.stop();
});

test('too_slow end to end: a subscriber that stops reading gets the disconnect and is closed', async () => {
  const server = await startServer(db, {}, { config: { 'server.write_queue_limit_bytes': 4096 } });
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:200000]] [[rate:20000]] [[delay:500]]');
  const { socket, rest } = await rawUpgrade(server.port, { path: `/cable?jid=${alice}` });
  let received = rest;
  socket.pause();
  socket.on('data', (d) => { received = Buffer.concat([received, d]); });
  socket.write(clientFrame(0x1, JSON.stringify({ command: 'subscribe', identifier: messageIdentifier(response.id) })));
  await eventually(() => metricValue(server, 'actorcable_slow_clients_disconnected_total'), (n) => n >= 1, 30000,
    'too_slow');
  const closed = new Promise((r) => socket.on('close', r));
  socket.resume();  // what the server had queued arrives, then the end of the connection
  await withTimeout(closed, 15000, 'the server to close the connection');
  const texts = serverTexts(received);
  const last = texts[texts.length - 1];
  assert.deepEqual(last, { type: 'disconnect', reason: 'too_slow', reconnect: true });
  await api(server, alice, 'POST', `/api/messages/${response.id}/stop`);
  await server.stop();
});

test('current_state larger than the write queue limit is delivered to a joining client', async () => {
  const server = await startServer(db, {}, { config: { 'server.write_queue_limit_bytes': 4096 } });
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:100000]] [[rate:400]]');
  // Join once more than the limit is stored.
  await eventually(async () => (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json,
    (m) => m.content.length > 3 * 4096, 30000, 'the answer to grow past the limit');
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  c.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  const state = await c.next((f) => f.message?.action === 'current_state', 10000, 'current_state');
  assert.ok(state.message.content.length > 3 * 4096);
  await c.next((f) => f.message?.action === 'streaming_update', 10000, 'live updates after it');
  assert.ok(!c.frames.some((f) => f.type === 'disconnect'), 'not cut as too_slow');
  await api(server, alice, 'POST', `/api/messages/${response.id}/stop`);
  await c.next((f) => f.message?.action === 'streaming_end', 10000, 'end');
  c.close();
  await server.stop();
});

test('with no descriptors left the listener backs off: bounded CPU and log lines, then it recovers', async () => {
  const server = await startServer(db, {}, { wrap: ['prlimit', '--nofile=128:128'], descriptorsExhausted: true });
  const sockets = [];
  for (let i = 0; i < 300; i++) {
    const s = connect(server.port, '127.0.0.1');
    s.on('error', () => {});
    sockets.push(s);
  }
  await server.waitLog((l) => l.includes('"event":"accept_failed"'), 10000);  // the limit is reached
  const linesBefore = server.logs.filter((l) => l.includes('"event":"accept_failed"')).length;
  const cpuBefore = cpuSeconds(server.proc.pid);
  await new Promise((r) => setTimeout(r, 3000));  // a window of time is what is measured
  const cpu = cpuSeconds(server.proc.pid) - cpuBefore;
  const lines = server.logs.filter((l) => l.includes('"event":"accept_failed"')).length - linesBefore;
  for (const s of sockets) s.destroy();
  // A loop retrying accept at once burns the whole 3 s; backing off, it idles.
  assert.ok(cpu < 0.5 * SANITIZER_TIME_FACTOR, `server CPU over 3 s with no descriptors: ${cpu} s`);
  assert.ok(lines <= 1, `accept_failed logged ${lines} times in 3 s`);
  const health = await eventually(async () => (await fetch(`${server.http}/healthz`, { signal: AbortSignal.timeout(2000) })
    .catch(() => ({ status: 0 }))).status, (s) => s === 200, 15000, 'the server to accept again');
  assert.equal(health, 200);
  assert.ok(await metricValue(server, 'actorcable_accept_failures_total') > 0);
  await server.stop();
});

test('a flood of unknown commands is logged once and the connection is cut', async () => {
  const server = await startServer(db);
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  for (let i = 0; i < 5000; i++) c.send('{"command":"x"}');
  const bye = await c.next((f) => f.type === 'disconnect', 10000, 'disconnect');
  assert.deepEqual(bye, { type: 'disconnect', reason: 'invalid_request', reconnect: false });
  await withTimeout(c.closed, 10000, 'close');
  const logged = server.logs.filter((l) => l.includes('"event":"unknown_command"')).length;
  assert.equal(logged, 1, 'one log line for the whole flood');
  assert.ok(await metricValue(server, 'actorcable_commands_rejected_total') >= 200);
  await server.stop();
});

test('history replays of a long answer from a client that never reads cannot flood memory', async () => {
  const server = await startServer(db);
  const { id, content } = await finishedAnswer(server, '[[chunks:20000]] [[rate:20000]]');
  // The epoch, from the end a late subscriber gets.
  const probe = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['actioncable-v1-ext-json'] });
  await probe.next((f) => f.type === 'welcome');
  probe.send({ command: 'subscribe', identifier: messageIdentifier(id) });
  const end = await probe.next((f) => f.message?.action === 'streaming_end', 10000, 'end');
  probe.close();

  const { socket } = await rawUpgrade(server.port, { path: `/cable?jid=${alice}`, protocol: 'actioncable-v1-ext-json' });
  socket.pause();
  const identifier = messageIdentifier(id);
  const rssBefore = rssBytes(server.proc.pid);
  let rssMax = rssBefore;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssBytes(server.proc.pid)); }, 50);
  const history = { streams: { [`Message:${id}`]: { offset: 0, epoch: end.epoch } } };
  const frames = [clientFrame(0x1, JSON.stringify({ command: 'subscribe', identifier }))];
  for (let i = 0; i < 200; i++) frames.push(clientFrame(0x1, JSON.stringify({ command: 'history', identifier, history })));
  const handled = await metricValue(server, 'actorcable_commands_total');
  socket.write(Buffer.concat(frames));
  // Every command is handled (the server stays responsive) before memory is read. (How many
  // are refused depends on the time they take: the rate limit refills meanwhile.)
  await eventually(() => metricValue(server, 'actorcable_commands_total'), (n) => n - handled >= frames.length, 15000,
    'the history commands to be handled');
  const health = await withTimeout(fetch(`${server.http}/healthz`), 2000, '/healthz');
  assert.equal(health.status, 200);
  // The barrier: the answer's actor takes requests in order, and every one of those commands sent
  // its request before it counted as handled; once a later client's history is answered, every
  // replay asked for above has been built.
  const later = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['actioncable-v1-ext-json'] });
  await later.next((f) => f.type === 'welcome');
  later.send({ command: 'subscribe', identifier, history });
  await later.next((f) => f.type === 'confirm_history' || f.type === 'reject_history', 15000, 'a later history');
  later.close();
  clearInterval(sampler);
  socket.destroy();
  assert.ok(content.length > 100000);
  assert.ok(rssMax - rssBefore < 100 * MiB + SANITIZER_SLACK_BYTES, `RSS grew ${((rssMax - rssBefore) / MiB).toFixed(1)} MiB`);
  await server.stop();
});

test('handshake edge cases: a malformed key is refused, a frame sent with the request is read, bearer is case-insensitive', async () => {
  const server = await startServer(db);
  const bad = await rawUpgrade(server.port, { path: `/cable?jid=${alice}`, key: 'not-a-key' });
  assert.match(bad.head, /^HTTP\/1\.1 400/);
  bad.socket.destroy();

  const chat = await newChat(server, alice);
  const subscribe = clientFrame(0x1, JSON.stringify({ command: 'subscribe', identifier: JSON.stringify({ channel: 'SyncChannel', model: 'Chat', id: chat.id }) }));
  const early = await rawUpgrade(server.port, { path: `/cable?jid=${alice}`, after: subscribe });
  assert.match(early.head, /^HTTP\/1\.1 101/);
  let bytes = early.rest;
  const confirmed = new Promise((resolve) => {
    const check = () => { if (serverTexts(bytes).some((f) => f.type === 'confirm_subscription')) resolve(); };
    early.socket.on('data', (d) => { bytes = Buffer.concat([bytes, d]); check(); });
    check();
  });
  await withTimeout(confirmed, 5000, 'confirm_subscription of the frame sent with the handshake');
  early.socket.destroy();

  const lower = await fetch(`${server.http}/api/chats`, { headers: { authorization: `bearer ${alice}` } });
  assert.equal(lower.status, 200);
  await server.stop();
});

test('a client that never finishes its headers is closed at the header timeout', async () => {
  const server = await startServer(db, {}, { config: { 'server.header_timeout_s': 1 } });
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.on('connect', r));
  socket.resume();
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');  // and nothing more
  const started = Date.now();
  await withTimeout(new Promise((r) => socket.on('close', r)), 5000, 'the server to close it');
  assert.ok(Date.now() - started < 4000);
  await server.stop();
});

test('a chat of many one-megabyte messages is served in bounded pages', async () => {
  const server = await startServer(db);
  const title = `big-${Date.now()}`;
  const chat = (await api(server, alice, 'POST', '/api/chats', { title })).json;
  psql(db, `INSERT INTO messages (chat_id, role, content) SELECT c.id, 'user', repeat(chr(97 + n % 26), 1048576)
            FROM chats c, generate_series(1, 30) n WHERE c.title = '${title}'`);
  const rssBefore = rssBytes(server.proc.pid);
  let rssMax = rssBefore;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssBytes(server.proc.pid)); }, 20);
  const firsts = await Promise.all([0, 1, 2, 3].map(() => api(server, alice, 'GET', `/api/chats/${chat.id}/messages`)));
  clearInterval(sampler);
  for (const r of firsts) {
    assert.equal(r.status, 200);
    assert.ok(r.json.length >= 1 && r.json.length < 30, `a page, not the chat (${r.json.length})`);
    assert.ok(r.text.length <= 5 * MiB, `a page of ${r.text.length} bytes`);
    assert.match(r.headers.get('link'), /rel="next"/);
  }
  assert.ok(rssMax - rssBefore < 200 * MiB + SANITIZER_SLACK_BYTES, `RSS grew ${((rssMax - rssBefore) / MiB).toFixed(1)} MiB`);
  // Following the links yields every message once, oldest first within each page.
  const seen = [];
  let next = `/api/chats/${chat.id}/messages?limit=5`;
  while (next) {
    const r = await api(server, alice, 'GET', next);
    assert.equal(r.status, 200);
    seen.unshift(...r.json.map((m) => m.id));
    next = r.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1];
  }
  assert.equal(seen.length, 30);
  assert.equal(new Set(seen).size, 30);
  assert.equal((await api(server, alice, 'GET', `/api/chats/${chat.id}/messages?limit=0`)).status, 400);
  assert.equal((await api(server, alice, 'GET', `/api/chats/${chat.id}/messages?before=x'--`)).status, 400);
  await server.stop();
});

test('extended-protocol fan-out to 500 consumers that stopped reading keeps /healthz answering', async (t) => {
  const server = await startServer(db);
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:40000]] [[rate:4000]]');
  const identifier = messageIdentifier(response.id);
  const subscribe = clientFrame(0x1, JSON.stringify({ command: 'subscribe', identifier }));
  // Each reads until its subscription is confirmed, then stops reading for good.
  const sockets = await Promise.all(Array.from({ length: 500 }, async () => {
    const { socket, rest } = await rawUpgrade(server.port, { path: `/cable?jid=${alice}`,
      protocol: 'actioncable-v1-ext-json', after: subscribe });
    let seen = rest.toString('latin1');
    await withTimeout(new Promise((resolve) => {
      const check = () => { if (seen.includes('confirm_subscription')) { socket.pause(); resolve(); } };
      socket.on('data', (d) => { seen += d.toString('latin1'); check(); });
      check();
    }), 30000, 'confirm_subscription');
    return socket;
  }));
  // Health probes while every chunk goes to 500 unread sockets: Kubernetes' default probe
  // timeout is one second.
  let worst = 0;
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const r = await withTimeout(fetch(`${server.http}/healthz`), 10000, '/healthz');
    assert.equal(r.status, 200);
    worst = Math.max(worst, performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));  // probes spread over the stream, not a barrier
  }
  const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(row.streaming, true, 'the probes ran while the answer streamed');
  await api(server, alice, 'POST', `/api/messages/${response.id}/stop`);
  for (const s of sockets) s.destroy();
  t.diagnostic(`slowest /healthz: ${worst.toFixed(0)} ms`);
  assert.ok(worst < 1000 * SANITIZER_TIME_FACTOR, `/healthz took up to ${worst.toFixed(0)} ms`);
  await server.stop();
});
