// Providers and models (SPEC §10): two named providers at once, a model per chat, failover before
// the first part only, and configuration errors that stop the start naming the key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createDatabase, startServer, token, api, BIN, configFile, metricValue } from './harness.mjs';
import { followAnswer } from './cable_env.mjs';
import { startFakeOpenAI } from './fake_openai.mjs';

let db, server, fake, alice;
const providers = (url) => ({
  'provider.hosted.type': 'openai', 'provider.hosted.base_url': url,
  'provider.hosted.api_key_env': 'HOSTED_TEST_KEY', 'provider.hosted.models': 'gpt-fake, gpt-other',
  'provider.local.type': 'scripted', 'provider.local.models': 'local-scripted',
  'models.default': 'gpt-fake', 'models.failover': 'local-scripted',
  'provider.openai_backoff_ms': 20, 'provider.openai_max_retries': 1,
});

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  fake = await startFakeOpenAI();
  server = await startServer(db, { HOSTED_TEST_KEY: 'sk-hosted' }, { config: providers(fake.url) });
});

after(async () => {
  await server.stop();
  await fake.close();
});

const chatWith = async (model_id) => (await api(server, alice, 'POST', '/api/chats', model_id ? { model_id } : {}));
const requestsFor = (content) => fake.requests.filter((q) => q.body.messages?.at(-1)?.content === content);

test('GET /api/models lists every configured model with its provider and the default', async () => {
  const r = await api(server, alice, 'GET', '/api/models');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.sort((a, b) => a.id.localeCompare(b.id)), [
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
  ];
  for (const [settings, env, key] of cases) {
    const r = spawnSync(BIN, ['--config', configFile(settings), 'serve'], {
      env: { ...process.env, ...env, DATABASE_URL: 'host=/nonexistent', ACTORCABLE_SECRET: 's'.repeat(32) },
      encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${key}: exit ${r.status} ${r.stderr}`);
    assert.ok(r.stderr.includes(key), `${key} named in: ${r.stderr}`);
  }
});
