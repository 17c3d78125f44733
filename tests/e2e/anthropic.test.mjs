// The anthropic provider (SPEC §10) end to end against a fake Messages API: the request's
// headers and body, thinking deltas as the reasoning part and text deltas as the answer, usage and model on
// streaming_end and in the row, errors ending the stream `error` with the reason recorded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase, startServer, token, newChat } from './harness.mjs';
import { followAnswer } from './cable_env.mjs';
import { startFakeAnthropic, fakeWords } from './fake_anthropic.mjs';

let db, server, fake, alice, chat;
const words = (n) => fakeWords(n).join('');

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  fake = await startFakeAnthropic();
  server = await startServer(db, { AI_PROVIDER: 'anthropic', ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_MODEL: 'claude-fake' },
  { config: { 'provider.openai_backoff_ms': 50, 'provider.anthropic_max_tokens': 321, 'streams.retention_s': 1 } });
  chat = await newChat(server, alice);
});

after(async () => {
  await server.stop();
  await fake.close();
  // No key in any log line.
  assert.ok(!server.logs.some((l) => l.includes('sk-ant-test-key')), 'the API key was logged');
});

// The answer to `content`, followed from its start (cable_env's followAnswer), and the requests
// the fake server got for it.
async function answer(content) {
  const r = await followAnswer(server, alice, chat.id, content);
  return { ...r, requests: fake.requests.filter((q) => q.body.messages?.at(-1)?.content === content) };
}

test('a Messages stream completes: reasoning then text, model and usage on streaming_end and in the row', async () => {
  const first = await answer('What is an actor? tokens:9');
  assert.equal(first.end.status, 'complete');
  assert.equal(first.row.content, words(9));
  assert.ok(!first.row.content.includes('Hidden reasoning'), 'thinking is not answer text');
  assert.equal(first.row.thinking, 'Hidden reasoning.', 'thinking_delta is the reasoning part');
  assert.ok(first.events.some((e) => e.action === 'thinking_update'));
  assert.equal(first.end.model_id, 'claude-fake-served');
  assert.deepEqual(first.end.usage, { input_tokens: 21, output_tokens: 9 });
  assert.equal(first.row.model_id, 'claude-fake-served');
  assert.equal(first.row.input_tokens, 21);
  assert.equal(first.row.output_tokens, 9);
  const req = first.requests[0];
  assert.equal(req.path, '/v1/messages');
  assert.equal(req.headers['x-api-key'], 'sk-ant-test-key');
  assert.equal(req.headers['anthropic-version'], '2023-06-01');
  assert.equal(req.headers.authorization, undefined);
  assert.equal(req.body.model, 'claude-fake');
  assert.equal(req.body.max_tokens, 321);
  assert.equal(req.body.stream, true);
  const second = await answer('And a mailbox? tokens:2');
  assert.deepEqual(second.requests[0].body.messages.slice(-3), [
    { role: 'user', content: 'What is an actor? tokens:9' },
    { role: 'assistant', content: words(9) },
    { role: 'user', content: 'And a mailbox? tokens:2' },
  ]);
});

test('HTTP 529 overloaded before the first token is retried, no text twice', async () => {
  const r = await answer('fault:overloaded-then tokens:4');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.requests.length, 2);
  assert.equal(r.row.content, words(4));
});

test('an error event mid-stream ends it error with the reason, the text before it kept', async () => {
  const r = await answer('fault:error-event');
  assert.equal(r.end.status, 'error');
  assert.equal(r.row.content, words(3));
  assert.match(r.row.error, /overloaded_error: Overloaded/);
  assert.equal(r.requests.length, 1, 'no retry once text was delivered');
});

test('a stream that ends without message_stop is an error', async () => {
  const r = await answer('fault:no-stop');
  assert.equal(r.end.status, 'error');
  assert.match(r.row.error, /message_stop/);
});

test('a connection cut in the middle of an event ends it error; the whole events before it kept, no retry', async () => {
  const r = await answer('fault:cut');
  assert.equal(r.end.status, 'error');
  assert.equal(r.row.content, words(3));
  assert.equal(r.row.thinking, 'Hidden reasoning.');
  assert.ok(r.row.error, 'the reason is recorded');
  assert.equal(r.requests.length, 1, 'no retry once text was delivered');
});
