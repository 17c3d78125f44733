// Reliable streams (SPEC §5 extended protocol, §6): clients cut off mid-stream end up with the
// exact text, every offset exactly once; history rejections; session restore.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Hashids from 'hashids';
import { createDatabase, startServer, token, api, newChat, ask, rawCable, messageIdentifier,
  withTimeout, startProxy } from './harness.mjs';
import { createConsumer, watchMessage, resumeRun } from './cable_env.mjs';

let db, server, alice;
const messageIds = new Hashids('Default ID Obfuscation Salt for Message', 6,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  server = await startServer(db, {}, { config: { 'streams.retention_s': 2, 'server.subscribe_burst': 1000 } });
});

after(async () => { await server.stop(); });

test('@anycable/core cut off at random points resumes with the exact text, each offset once (x50)', async () => {
  const runs = [];
  for (let i = 0; i < 50; i++) {  // a chat each: answers streaming side by side (on_busy cancels in one chat)
    const chat = await newChat(server, alice);
    const { response } = await ask(server, alice, chat.id, `resume ${i} [[chunks:40]] [[rate:25]] [[delay:1000]]`);
    runs.push({ id: response.id, cutAt: 1 + Math.floor(Math.random() * 38) });
  }
  const results = await Promise.all(runs.map((r) => resumeRun(server, alice, r.id, r.cutAt)));
  let cut = 0, restored = 0;
  for (let i = 0; i < runs.length; i++) {
    const seen = results[i];
    const row = (await api(server, alice, 'GET', `/api/messages/${runs[i].id}`)).json;
    assert.equal(seen.status, 'complete');
    assert.equal(seen.text, row.content, `run ${i} (cut after update ${runs[i].cutAt})`);
    const covered = [...Array(seen.stateOffset ?? 0).keys()].map((k) => k + 1);
    const all = [...covered, ...seen.offsets.filter((o) => o > (seen.stateOffset ?? 0))];
    assert.deepEqual(seen.offsets.filter((o) => o > (seen.stateOffset ?? 0)).length,
      new Set(seen.offsets.filter((o) => o > (seen.stateOffset ?? 0))).size, `run ${i}: an offset twice`);
    assert.deepEqual(all, [...Array(41).keys()].map((k) => k + 1), `run ${i}: offsets 1..41 once each`);
    cut += seen.cut ? 1 : 0;
    restored += seen.restored;
  }
  assert.equal(cut, 50, `${cut} of 50 runs were cut mid-stream`);
  // A reconnect can beat the server to noticing the cut (the session is saved when it does);
  // the client then resubscribes with its positions instead: exact either way.
  assert.ok(restored >= 1, `${restored} sessions restored of ${cut} cut`);
});

test('@anycable/core cut off mid-reasoning resumes both texts exactly, each offset once (x20)', async () => {
  const runs = [];
  for (let i = 0; i < 20; i++) {
    const chat = await newChat(server, alice);
    const { response } = await ask(server, alice, chat.id,
      `ponder ${i} [[think:30]] [[tool:search]] [[chunks:10]] [[rate:25]] [[delay:1000]]`);
    runs.push({ id: response.id, cutAt: 1 + Math.floor(Math.random() * 28) });
  }
  const results = await Promise.all(runs.map((r) => resumeRun(server, alice, r.id, r.cutAt, 'thinking_update')));
  const parts = 30 + 2 + 10;  // reasoning chunks, the tool's two reports, text chunks
  for (let i = 0; i < runs.length; i++) {
    const seen = results[i];
    const row = (await api(server, alice, 'GET', `/api/messages/${runs[i].id}`)).json;
    assert.equal(seen.status, 'complete');
    assert.ok(seen.cut, `run ${i} was cut mid-reasoning`);
    assert.equal(seen.thinking, row.thinking, `run ${i}: reasoning (cut after ${runs[i].cutAt})`);
    assert.equal(seen.text, row.content, `run ${i}: text`);
    assert.equal(row.thinking.split('Thinking step').length - 1, 30);
    assert.deepEqual(row.tool_calls, [{ call_id: 'call_1', name: 'search', status: 'done', summary: 'search finished' }]);
    assert.equal(row.tool_status, null);
    const live = seen.offsets.filter((o) => o > (seen.stateOffset ?? 0));
    assert.equal(live.length, new Set(live).size, `run ${i}: an offset twice`);
    const all = [...[...Array(seen.stateOffset ?? 0).keys()].map((k) => k + 1), ...live];
    assert.deepEqual(all, [...Array(parts + 1).keys()].map((k) => k + 1), `run ${i}: offsets 1..${parts + 1} once each`);
  }
});

test('a subscriber joining while a tool runs gets its status in current_state, then tool_update', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, 'tool [[think:2]] [[tool:lookup]] [[chunks:3]] [[rate:2]]');
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.next((f) => f.type === 'welcome');
  const identifier = messageIdentifier(response.id);
  // Parts come 500 ms apart: the subscribe lands between the running report and the done one.
  const watcher = rawCable(`${server.ws}?jid=${alice}`);
  await watcher.next((f) => f.type === 'welcome');
  watcher.send({ command: 'subscribe', identifier });
  await watcher.next((f) => f.message?.action === 'tool_update' && f.message.status === 'running', 5000, 'the running report');
  c.send({ command: 'subscribe', identifier });
  const state = await c.next((f) => f.message?.action === 'current_state', 5000, 'current_state');
  assert.equal(state.message.tool_status, 'Running lookup');
  assert.equal(state.message.thinking, 'Thinking step 1. Thinking step 2. ');
  assert.equal(state.message.content, '');
  const done = await c.next((f) => f.message?.action === 'tool_update', 5000, 'tool_update done');
  assert.deepEqual(done.message, { action: 'tool_update', id: response.id, call_id: 'call_1', name: 'lookup', status: 'done', summary: 'lookup finished' });
  await c.next((f) => f.message?.action === 'streaming_end', 10000, 'end');
  c.close();
  watcher.close();
});

test('@rails/actioncable cut off mid-stream ends with the exact text via current_state', { timeout: 40000 }, async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, 'long [[chunks:2000]] [[rate:50]]');
  const proxy = await startProxy(server.port);
  const consumer = createConsumer(`ws://127.0.0.1:${proxy.port}/cable?jid=${alice}`);
  try {
    const w = watchMessage(consumer, response.id);
    await withTimeout(w.connectedP, 5000, 'connected');
    await withTimeout(w.until((x) => x.events.filter((e) => e.action === 'streaming_update').length >= 5), 5000, 'five updates');
    proxy.cutAll();
    const states = () => w.events.filter((e) => e.action === 'current_state').length;
    const before = states();
    // The client's own monitor reconnects (after its stale threshold) and resubscribes.
    await withTimeout(w.until(() => states() > before), 30000, 'current_state after the reconnect');
    await api(server, alice, 'POST', `/api/messages/${response.id}/stop`);
    await withTimeout(w.ended, 10000, 'end after reconnect');
    const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
    assert.equal(w.text, row.content);
  } finally {
    consumer.disconnect();
    await proxy.close();
  }
});

test('history with a wrong epoch, or after the retention window, is rejected; current_state follows', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:20]] [[rate:50]]');
  const c = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['actioncable-v1-ext-json'] });
  await c.next((f) => f.type === 'welcome');
  const identifier = messageIdentifier(response.id);
  c.send({ command: 'subscribe', identifier, history: { since: Math.floor(Date.now() / 1000), streams: { [`Message:${response.id}`]: { offset: 2, epoch: 'bogus' } } } });
  await c.next((f) => f.type === 'reject_history', 5000, 'reject_history');
  const state = await c.next((f) => f.message?.action === 'current_state', 5000, 'current_state');
  assert.equal(state.stream_id, `Message:${response.id}`);
  const end = await c.next((f) => f.message?.action === 'streaming_end', 5000, 'end');
  // The model and what it produced (the scripted provider counts chunks as output tokens).
  assert.equal(end.message.model_id, 'scripted');
  assert.deepEqual(end.message.usage, { output_tokens: 20 });
  assert.ok(!c.frames.some((f) => f.type === 'confirm_history'));
  const rejectAt = c.frames.findIndex((f) => f.type === 'reject_history');
  assert.ok(rejectAt < c.frames.indexOf(state));
  // A correct position replays exactly what follows it.
  c.send({ command: 'history', identifier, history: { streams: { [`Message:${response.id}`]: { offset: 15, epoch: end.epoch } } } });
  await c.next((f) => f.type === 'confirm_history', 5000, 'confirm_history');
  const replayed = c.frames.slice(c.frames.lastIndexOf(end) + 1).filter((f) => f.message);
  assert.deepEqual(replayed.map((f) => f.offset), [16, 17, 18, 19, 20, 21]);
  assert.equal(replayed.at(-1).message.action, 'streaming_end');
  // After the retention window the history is gone.
  const d = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['actioncable-v1-ext-json'] });
  await d.next((f) => f.type === 'welcome');
  await waitRetired(response.id);
  d.send({ command: 'subscribe', identifier, history: { streams: { [`Message:${response.id}`]: { offset: 3, epoch: end.epoch } } } });
  await d.next((f) => f.type === 'reject_history', 5000, 'reject after retention');
  const stored = await d.next((f) => f.message?.action === 'current_state', 5000, 'stored state');
  const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
  assert.equal(stored.message.content, row.content);
  assert.equal(stored.message.streaming, false);
  // The end read from the row carries the same model and usage as the live one.
  const storedEnd = await d.next((f) => f.message?.action === 'streaming_end', 5000, 'stored end');
  assert.equal(storedEnd.message.model_id, 'scripted');
  assert.deepEqual(storedEnd.message.usage, { output_tokens: 20 });
  c.close();
  d.close();
});

// Resolves when the server logs that this message's actor (and its history) is gone.
async function waitRetired(oid) {
  const id = Number(messageIds.decode(oid)[0]);
  await server.waitLog((l) => l.includes('"event":"stream_retired"') && JSON.parse(l).message_id === id, 10000);
}

test('pong is accepted and a bare since gets the whole state then confirm_history', async () => {
  const chat = await newChat(server, alice);
  const { response } = await ask(server, alice, chat.id, '[[chunks:30]] [[rate:30]]');
  const c = rawCable(`${server.ws}?jid=${alice}`, { protocols: ['actioncable-v1-ext-json'] });
  await c.next((f) => f.type === 'welcome');
  c.send({ command: 'pong' });
  const identifier = messageIdentifier(response.id);
  c.send({ command: 'subscribe', identifier, history: { since: Math.floor(Date.now() / 1000) } });
  const state = await c.next((f) => f.message?.action === 'current_state');
  const confirm = await c.next((f) => f.type === 'confirm_history');
  assert.ok(c.frames.indexOf(state) < c.frames.indexOf(confirm));
  const end = await c.next((f) => f.message?.action === 'streaming_end', 10000);
  const updates = c.frames.filter((f) => f.message?.action === 'streaming_update');
  assert.deepEqual(updates.map((u) => u.offset), [...Array(30 - state.offset).keys()].map((k) => state.offset + k + 1));
  assert.equal(end.offset, 31);
  assert.equal(c.frames.filter((f) => f.message?.action === 'current_state').length, 1, 'no other current_state');
  assert.ok(!c.frames.some((f) => f.type === 'disconnect'));
  c.close();
});
