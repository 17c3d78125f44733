// The openai provider end to end against a fault-injecting OpenAI-compatible server: every fault
// ends the stream cleanly with the right status and exactly the text delivered before it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase, startServer, token, api, newChat, ask, withTimeout } from './harness.mjs';
import { createConsumer, watchMessage, followAnswer } from './cable_env.mjs';
import { startFakeOpenAI, thoughts } from './fake_openai.mjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

let db, server, fake, alice, chat;
const fastTimeouts = {
  'provider.openai_backoff_ms': 50,
  'provider.openai_idle_timeout_s': 1,
  'provider.openai_first_token_timeout_s': 5,
  'streams.retention_s': 1,
};
const words = (n) => Array.from({ length: n }, (_, i) => `tok${i} `).join('');

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  fake = await startFakeOpenAI();
  server = await startServer(db, { AI_PROVIDER: 'openai', OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test-key', OPENAI_MODEL: 'fake-model' }, { config: fastTimeouts });
  chat = await newChat(server, alice);
});

after(async () => {
  await server.stop();
  await fake.close();
});

// The answer to `content`, followed from its start (cable_env's followAnswer), and the requests
// the fake server got for it.
async function answer(content, srv = server, chatId = chat.id) {
  const r = await followAnswer(srv, alice, chatId, content);
  return { ...r, requests: fake.requests.filter((q) => q.body.messages?.at(-1)?.content === content) };
}

test('a normal stream completes with usage, model and the chat as context', async () => {
  const first = await answer('What is an actor? tokens:12');
  assert.equal(first.end.status, 'complete');
  assert.equal(first.row.content, words(12));
  assert.equal(first.row.model_id, 'fake-model-served');
  assert.equal(first.row.input_tokens, 11);
  assert.equal(first.row.output_tokens, 12);
  // streaming_end carries what is stored (SPEC §9).
  assert.equal(first.end.model_id, 'fake-model-served');
  assert.deepEqual(first.end.usage, { input_tokens: 11, output_tokens: 12 });
  const req = first.requests[0];
  assert.equal(req.path, '/v1/chat/completions');
  assert.equal(req.auth, 'Bearer sk-test-key');
  assert.equal(req.body.model, 'fake-model');
  assert.equal(req.body.stream, true);
  assert.deepEqual(req.body.stream_options, { include_usage: true });
  const second = await answer('And a mailbox? tokens:3');
  const messages = second.requests[0].body.messages;
  assert.deepEqual(messages.slice(-3), [
    { role: 'user', content: 'What is an actor? tokens:12' },
    { role: 'assistant', content: words(12) },
    { role: 'user', content: 'And a mailbox? tokens:3' },
  ]);
  assert.ok(!messages.some((m) => m.role === 'assistant' && m.content === ''), 'the answer being made is not sent');
});

test('reasoning_content streams as thinking_update before the text; both stored exactly with the usage', async () => {
  const r = await answer('Think first fault:reasoning tokens:6');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.row.thinking, thoughts(6).join(''));
  assert.equal(r.row.content, words(6));
  assert.deepEqual(r.end.usage, { input_tokens: 11, output_tokens: 6 });
  const actions = r.events.map((e) => e.action).filter((a) => a !== 'current_state');
  const firstText = actions.indexOf('streaming_update');
  assert.equal(actions.lastIndexOf('thinking_update'), firstText - 1, 'every thought before the first word');
  assert.ok(firstText > 0, 'thinking_update frames came');
});

test("OpenRouter's delta.reasoning is reasoning too", async () => {
  const r = await answer('Think fault:openrouter tokens:3');
  assert.equal(r.row.thinking, thoughts(3).join(''));
  assert.equal(r.row.content, words(3));
});

test('reasoning and text in one delta, empty deltas, invalid UTF-8 and a huge reasoning: nothing lost', async () => {
  const r = await answer('Messy fault:messy');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.row.content, 'tok0 tok1 ');
  assert.equal(r.row.thinking, `first bad\uFFFD ${'R'.repeat(200000)}`);
  const actions = r.events.map((e) => e.action);
  assert.ok(actions.indexOf('thinking_update') < actions.indexOf('streaming_update'), 'the reasoning of a delta goes first');
});

test('429 with Retry-After then success: retried before the first token, no text twice', async () => {
  const r = await answer('fault:429then tokens:6');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.requests.length, 2);
  assert.equal(r.row.content, words(6));
});

test('500 every time: retries, then error with the reason recorded', async () => {
  const r = await answer('fault:500');
  assert.equal(r.end.status, 'error');
  assert.equal(r.row.content, '');
  assert.equal(r.requests.length, 4, 'one request and three retries');
  assert.match(r.row.error, /HTTP 500/);
});

test('connection cut mid-stream: error, the text before the cut kept, no retry', async () => {
  const r = await answer('fault:cut');
  assert.equal(r.end.status, 'error');
  assert.equal(r.row.content, words(3));
  assert.equal(r.requests.length, 1);
  assert.match(r.row.error, /stream broke|closed the stream/);
});

test('a stalled stream ends on the idle timeout', async () => {
  const r = await answer('fault:stall');
  assert.equal(r.end.status, 'error');
  assert.equal(r.row.content, words(2));
  assert.match(r.row.error, /no token for/);
});

test('tokens that keep coming for longer than the idle timeout, each gap shorter, complete', async () => {
  // The idle deadline is one timer checked against the last token: it must move with every token.
  const r = await answer('fault:unhurried tokens:7');  // 2.8 s of tokens, idle timeout 1 s
  assert.equal(r.end.status, 'complete', r.row.error);
  assert.equal(r.row.content, words(7));
});

test('malformed JSON and malformed SSE end in error with the text before', async () => {
  for (const mode of ['badjson', 'badsse']) {
    const r = await answer(`fault:${mode}`);
    assert.equal(r.end.status, 'error', mode);
    assert.equal(r.row.content, words(2), mode);
    assert.match(r.row.error, /not a JSON object/, mode);
  }
});

test('events split at every byte boundary assemble exactly', async () => {
  const r = await answer('fault:bytewise tokens:10');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.row.content, words(10));
});

test('multi-byte UTF-8 split across TCP writes arrives intact', async () => {
  const r = await answer('fault:utf8');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.row.content, 'héllo wörld 🎉 日本語 done');
});

test('stop closes the provider connection at once and ends the stream cancelled', async () => {
  const { response } = await ask(server, alice, chat.id, 'fault:slow tokens:400');
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const w = watchMessage(consumer, response.id);
    await withTimeout(w.until((x) => x.events.filter((e) => e.action === 'streaming_update').length >= 3), 5000, 'three tokens');
    const stoppedAt = Date.now();
    assert.equal((await api(server, alice, 'POST', `/api/messages/${response.id}/stop`)).status, 202);
    const end = await withTimeout(w.ended, 5000, 'end');
    assert.equal(end.status, 'cancelled');
    const req = fake.requests.find((r) => r.body.messages?.at(-1)?.content === 'fault:slow tokens:400');
    await withTimeout(req.closed, 5000, 'the provider connection to close');
    assert.ok(req.closedEarly, 'the provider saw the connection close before its answer ended');
    // At 20 tokens per second the answer had 20 s to go: it was cut at the stop, not at its end.
    assert.ok(req.written < 400, `no further tokens were produced (${req.written} of 400, closed ${req.closedAt - stoppedAt} ms after stop)`);
    const row = (await api(server, alice, 'GET', `/api/messages/${response.id}`)).json;
    assert.equal(w.text, row.content);
  } finally {
    consumer.disconnect();
  }
});

// SPEC §9 on_busy: a question asked while the chat's answer still streams.
async function askWith(chatId, content, on_busy) {
  return api(server, alice, 'POST', `/api/chats/${chatId}/messages`, on_busy ? { content, on_busy } : { content });
}
const requestFor = (content) => fake.requests.find((q) => q.body.messages?.at(-1)?.content === content);

test('on_busy cancel (the default): the streaming answer ends cancelled first, its partial text is the next one\'s context', async () => {
  const c = await newChat(server, alice);
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const first = (await askWith(c.id, 'busy one fault:slow tokens:400')).json.response;
    const w = watchMessage(consumer, first.id);
    await withTimeout(w.until((x) => x.text.length > 0), 5000, 'the first answer\'s text');
    const second = await askWith(c.id, 'busy two tokens:2');
    assert.equal(second.status, 201);
    assert.equal((await withTimeout(w.ended, 5000, 'the first answer\'s end')).status, 'cancelled');
    const w2 = watchMessage(consumer, second.json.response.id);
    assert.equal((await withTimeout(w2.ended, 10000, 'the second answer\'s end')).status, 'complete');
    const firstRow = (await api(server, alice, 'GET', `/api/messages/${first.id}`)).json;
    assert.equal(firstRow.status, 'cancelled');
    assert.ok(firstRow.content.length > 0 && firstRow.content.length < words(400).length);
    assert.deepEqual(requestFor('busy two tokens:2').body.messages.slice(-3), [
      { role: 'user', content: 'busy one fault:slow tokens:400' },
      { role: 'assistant', content: firstRow.content },
      { role: 'user', content: 'busy two tokens:2' },
    ]);
  } finally {
    consumer.disconnect();
  }
});

test('on_busy queue: the new answer starts when the streaming one ends, with its whole text as context', async () => {
  const c = await newChat(server, alice);
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const first = (await askWith(c.id, 'queued one fault:slow tokens:20')).json.response;
    const w = watchMessage(consumer, first.id);
    const second = await askWith(c.id, 'queued two tokens:2', 'queue');
    assert.equal(second.status, 201);
    const w2 = watchMessage(consumer, second.json.response.id);
    assert.equal((await withTimeout(w.ended, 10000, 'the first answer\'s end')).status, 'complete');
    assert.equal((await withTimeout(w2.ended, 10000, 'the second answer\'s end')).status, 'complete');
    assert.equal(w.text, words(20));
    assert.deepEqual(requestFor('queued two tokens:2').body.messages.slice(-3), [
      { role: 'user', content: 'queued one fault:slow tokens:20' },
      { role: 'assistant', content: words(20) },
      { role: 'user', content: 'queued two tokens:2' },
    ]);
  } finally {
    consumer.disconnect();
  }
});

test('on_busy reject: 409 and nothing created; an unknown on_busy is 422', async () => {
  const c = await newChat(server, alice);
  const consumer = createConsumer(`${server.ws}?jid=${alice}`);
  try {
    const first = (await askWith(c.id, 'rejecting one fault:slow tokens:400')).json.response;
    const w = watchMessage(consumer, first.id);
    const before = (await api(server, alice, 'GET', `/api/chats/${c.id}/messages`)).json.length;
    const refused = await askWith(c.id, 'rejected two', 'reject');
    assert.equal(refused.status, 409);
    assert.ok(refused.json.error);
    assert.equal((await askWith(c.id, 'odd', 'later')).status, 422);
    assert.equal((await askWith(c.id, 'odd', 7)).status, 422);
    assert.equal((await api(server, alice, 'GET', `/api/chats/${c.id}/messages`)).json.length, before);
    assert.equal(requestFor('rejected two'), undefined);
    assert.equal((await api(server, alice, 'POST', `/api/messages/${first.id}/stop`)).status, 202);
    assert.equal((await withTimeout(w.ended, 10000, 'the first answer\'s end')).status, 'cancelled');
    assert.equal((await askWith(c.id, 'after it ended tokens:1', 'reject')).status, 201);
  } finally {
    consumer.disconnect();
  }
});

test('connection refused is retried, then an error', async () => {
  const refused = await startServer(db, { AI_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:1', OPENAI_MODEL: 'm' }, { config: fastTimeouts });
  try {
    const c = await newChat(refused, alice);
    const r = await answer('hello', refused, c.id);
    assert.equal(r.end.status, 'error');
    assert.match(r.row.error, /cannot connect/);
    await refused.waitLog((l) => l.includes('"event":"retrying"'));
  } finally {
    await refused.stop();
  }
});

test('no actor outlives its stream', async () => {
  const until = Date.now() + 5000;
  for (;;) {
    const text = await (await fetch(`${server.http}/metrics`)).text();
    const live = Number(text.match(/^actorcable_message_actors_num (\d+)/m)[1]);
    const active = Number(text.match(/^actorcable_streams_active_num (\d+)/m)[1]);
    if (live === 0 && active === 0) break;
    assert.ok(Date.now() < until, `still ${live} message actors, ${active} streaming`);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(server.proc.exitCode, null, 'the server is still running');
});

// A self-signed certificate for `name`, trusted by the server under test through SSL_CERT_FILE.
function certificate(name) {
  const dir = mkdtempSync(`${tmpdir()}/actorcable-tls-`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore', timeout: 30000 });
  return { key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`), file: `${dir}/cert.pem`, dir };
}

test('HTTPS: a trusted certificate for the host streams; one for another host is refused', async () => {
  for (const [name, ok] of [['localhost', true], ['wrong.example', false]]) {
    const cert = certificate(name);
    const tlsFake = await startFakeOpenAI({ tls: { key: cert.key, cert: cert.cert } });
    const srv = await startServer(db, { AI_PROVIDER: 'openai', OPENAI_BASE_URL: tlsFake.url, OPENAI_MODEL: 'm', SSL_CERT_FILE: cert.file }, { config: fastTimeouts });
    try {
      const c = await newChat(srv, alice);
      const r = await answer(`over TLS to ${name} tokens:4`, srv, c.id);
      if (ok) {
        assert.equal(r.end.status, 'complete', name);
        assert.equal(r.row.content, words(4));
      } else {
        assert.equal(r.end.status, 'error', name);
        assert.match(r.row.error, /TLS handshake/);
        assert.equal(tlsFake.requests.length, 0, 'no request was sent to the wrong host');
      }
    } finally {
      await srv.stop();
      await tlsFake.close();
      rmSync(cert.dir, { recursive: true, force: true });
    }
  }
});
