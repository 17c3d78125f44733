// Providers and models (SPEC §10): two named providers at once, a model per chat, failover before
// the first part only, and configuration errors that stop the start naming the key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createDatabase, startServer, token, api, BIN, configFile, metricValue } from './harness.mjs';
import { followAnswer } from './cable_env.mjs';
import { startFakeOpenAI } from './fake_openai.mjs';
import { startFakeAnthropic } from './fake_anthropic.mjs';

let db, server, fake, claude, alice;
const providers = (url, claudeUrl) => ({
  'provider.hosted.type': 'openai', 'provider.hosted.base_url': url,
  'provider.hosted.api_key_env': 'HOSTED_TEST_KEY', 'provider.hosted.models': 'gpt-fake, gpt-other',
  'provider.claude.type': 'anthropic', 'provider.claude.base_url': claudeUrl,
  'provider.claude.api_key_env': 'CLAUDE_TEST_KEY', 'provider.claude.models': 'claude-fake',
  'provider.local.type': 'scripted', 'provider.local.models': 'local-scripted',
  'models.default': 'gpt-fake', 'models.failover': 'local-scripted',
  'provider.openai_backoff_ms': 20, 'provider.openai_max_retries': 1,
});

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  fake = await startFakeOpenAI();
  claude = await startFakeAnthropic();
  server = await startServer(db, { HOSTED_TEST_KEY: 'sk-hosted', CLAUDE_TEST_KEY: 'sk-ant-claude' },
    { config: providers(fake.url, claude.url) });
});

after(async () => {
  await server.stop();
  await fake.close();
  await claude.close();
  assert.ok(!server.logs.some((l) => l.includes('sk-hosted') || l.includes('sk-ant-claude')), 'an API key was logged');
});

const chatWith = async (model_id) => (await api(server, alice, 'POST', '/api/chats', model_id ? { model_id } : {}));
const requestsFor = (content) => fake.requests.filter((q) => q.body.messages?.at(-1)?.content === content);

test('GET /api/models lists every configured model with its provider and the default', async () => {
  const r = await api(server, alice, 'GET', '/api/models');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.sort((a, b) => a.id.localeCompare(b.id)), [
    { id: 'claude-fake', provider: 'claude', default: false },
    { id: 'gpt-fake', provider: 'hosted', default: true },
    { id: 'gpt-other', provider: 'hosted', default: false },
    { id: 'local-scripted', provider: 'local', default: false },
  ]);
});

test('chats on each model stream from their provider; the row records who answered', async () => {
  const hosted = (await chatWith()).json;
  const a = await followAnswer(server, alice, hosted.id, 'hosted question tokens:3');
  assert.equal(a.row.status, 'complete');
  assert.equal(a.row.model_id, 'gpt-fake-served');
  const req = requestsFor('hosted question tokens:3')[0];
  assert.equal(req.body.model, 'gpt-fake');
  assert.equal(req.auth, 'Bearer sk-hosted');
  const other = (await chatWith('gpt-other')).json;
  assert.equal(other.model_id, 'gpt-other');
  await followAnswer(server, alice, other.id, 'other question tokens:2');
  assert.equal(requestsFor('other question tokens:2')[0].body.model, 'gpt-other');
  const anthropic = (await chatWith('claude-fake')).json;
  const c = await followAnswer(server, alice, anthropic.id, 'claude question tokens:3');
  assert.equal(c.row.content, 'word0 word1 word2 ');
  assert.equal(c.row.model_id, 'claude-fake-served');
  const creq = claude.requests.filter((q) => q.body.messages?.at(-1)?.content === 'claude question tokens:3');
  assert.equal(creq.length, 1);
  assert.equal(creq[0].body.model, 'claude-fake');
  assert.equal(creq[0].headers['x-api-key'], 'sk-ant-claude');
  assert.equal(requestsFor('claude question tokens:3').length, 0, 'the OpenAI-compatible provider was not asked');
  const local = (await chatWith('local-scripted')).json;
  const l = await followAnswer(server, alice, local.id, 'local question [[chunks:3]] [[rate:100]]');
  assert.equal(l.row.model_id, 'local-scripted');
  assert.equal(requestsFor('local question [[chunks:3]] [[rate:100]]').length, 0);
});

test('PATCH /api/chats/:id changes the model; an unknown model is 422; a foreign chat 404', async () => {
  const chat = (await chatWith()).json;
  assert.equal((await chatWith('no-such-model')).status, 422);
  assert.equal((await api(server, alice, 'PATCH', `/api/chats/${chat.id}`, { model_id: 'no-such-model' })).status, 422);
  const changed = await api(server, alice, 'PATCH', `/api/chats/${chat.id}`, { model_id: 'local-scripted', title: 'Renamed' });
  assert.equal(changed.status, 200);
  assert.equal(changed.json.model_id, 'local-scripted');
  assert.equal(changed.json.title, 'Renamed');
  const l = await followAnswer(server, alice, chat.id, 'after patch [[chunks:2]] [[rate:100]]');
  assert.equal(l.row.model_id, 'local-scripted');
  const bob = token(db, 'bob@example.com');
  assert.equal((await api(server, bob, 'PATCH', `/api/chats/${chat.id}`, { title: 'x' })).status, 404);
});

test('a provider failing before its first part fails over to the next model; not after a part', async () => {
  const chat = (await chatWith()).json;
  const failovers = () => metricValue(server, 'actorcable_provider_failovers_total{provider="hosted",model="gpt-fake"}').catch(() => 0);
  const before = await failovers();
  const r = await followAnswer(server, alice, chat.id, 'down fault:500');
  assert.equal(r.end.status, 'complete');
  assert.equal(r.row.model_id, 'local-scripted');
  assert.ok(requestsFor('down fault:500').length >= 1);
  assert.equal(await failovers(), before + 1);
  const unavailable = await followAnswer(server, alice, chat.id, 'down fault:503');
  assert.equal(unavailable.end.status, 'complete');
  assert.equal(unavailable.row.model_id, 'local-scripted');
  assert.ok(requestsFor('down fault:503').length >= 1);
  assert.equal(await failovers(), before + 2);
  const cut = await followAnswer(server, alice, chat.id, 'cut fault:cut');
  assert.equal(cut.end.status, 'error');
  assert.equal(cut.row.content, 'tok0 tok1 tok2 ', 'the text before the cut, and nothing from another model');
});

test('configuration errors stop the start with exit 2 naming the key', () => {
  const cases = [
    [{ 'provider.x.type': 'bogus', 'provider.x.models': 'm' }, {}, 'provider.x.type'],
    [{ 'provider.x.type': 'scripted', 'provider.x.models': 'm', 'provider.y.type': 'scripted', 'provider.y.models': 'm' }, {}, 'provider.y.models'],
    [{ 'provider.x.type': 'scripted', 'provider.x.models': 'm', 'models.default': 'other' }, {}, 'models.default'],
    [{ 'provider.x.type': 'openai', 'provider.x.models': 'm', 'provider.x.api_key_env': 'NOT_SET_ANYWHERE_KEY' }, {}, 'provider.x.api_key_env'],
    [{ 'provider.x.type': 'anthropic', 'provider.x.models': 'm', 'provider.x.max_tokens': 'many' }, {}, 'provider.x.max_tokens'],
    [{ 'provider.x.type': 'scripted', 'provider.x.models': 'm', 'models.failover': 'm, nowhere' }, {}, 'models.failover'],
  ];
  for (const [settings, env, key] of cases) {
    const r = spawnSync(BIN, ['--config', configFile(settings), 'serve'], {
      env: { ...process.env, ...env, DATABASE_URL: 'host=/nonexistent', ACTORCABLE_SECRET: 's'.repeat(32) },
      encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${key}: exit ${r.status} ${r.stderr}`);
    assert.ok(r.stderr.includes(key), `${key} named in: ${r.stderr}`);
  }
});
