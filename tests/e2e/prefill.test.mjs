// SPEC §12, continuing through prefill: a lone server killed mid-answer continues an openai or
// anthropic answer by sending the stored text as a trailing assistant message; a provider that
// refuses ends the answer interrupted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, tearDown, killAndRestart } from './continuation_env.mjs';
import { startFakeOpenAI } from './fake_openai.mjs';
import { startFakeAnthropic, fakeWords } from './fake_anthropic.mjs';

before(() => setUp({ nodes: [] }));
after(() => tearDown());

test('openai continues through prefill; a provider that refuses prefill ends the answer interrupted', { timeout: 120000 }, async () => {
  const fake = await startFakeOpenAI();
  const env = { AI_PROVIDER: 'openai', OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test-key', OPENAI_MODEL: 'fake-model' };
  const words = (n) => Array.from({ length: n }, (_, i) => `tok${i} `).join('');
  try {
    const ok = await killAndRestart('prefill', env, {}, 'go on fault:slow tokens:200', 10);
    try {
      assert.equal(ok.end.message.status, 'complete');
      assert.equal(ok.row.content, words(200));
      assert.equal(ok.client.text(), ok.row.content);
      const last = fake.requests.filter((q) => q.body.messages?.some((m) => m.content === 'go on fault:slow tokens:200')).at(-1);
      assert.deepEqual(last.body.messages.at(-1), { role: 'assistant', content: ok.stored }, 'the stored text is the prefill');
      assert.ok(ok.stored.length > 0);
    } finally {
      ok.client.close();
      await ok.server.stop();
    }
    const refused = await killAndRestart('refusing', env, {}, 'no way fault:slow-noprefill tokens:200', 10);
    try {
      assert.equal(refused.end.message.status, 'interrupted');
      assert.equal(refused.row.status, 'interrupted');
      assert.equal(refused.row.content, refused.stored, 'the text before stays; nothing added');
      assert.match(refused.row.error, /^continuation failed: /);
    } finally {
      refused.client.close();
      await refused.server.stop();
    }
  } finally {
    await fake.close();
  }
});

test('anthropic continues through prefill: the stored text without its trailing space, the final text exact', { timeout: 120000 }, async () => {
  const fake = await startFakeAnthropic();
  const env = { AI_PROVIDER: 'anthropic', ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_MODEL: 'claude-fake' };
  try {
    const run = await killAndRestart('prefill-anthropic', env, {}, 'go on fault:slow tokens:200', 10);
    try {
      assert.equal(run.end.message.status, 'complete');
      assert.equal(run.row.content, fakeWords(200).join(''));
      assert.equal(run.client.text(), run.row.content);
      const last = fake.requests.filter((q) => q.body.messages?.some((m) => m.content === 'go on fault:slow tokens:200')).at(-1);
      assert.deepEqual(last.body.messages.at(-1), { role: 'assistant', content: run.stored.trimEnd() });
      assert.ok(run.stored.length > 0);
    } finally {
      run.client.close();
      await run.server.stop();
    }
  } finally {
    await fake.close();
  }
});
