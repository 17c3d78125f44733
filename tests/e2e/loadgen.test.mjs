// Smoke test of the benchmark's load generator against actorcable: 200 connections on one
// answer, every chunk delivered to every connection, in order. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createDatabase, startServer, token, newChat, ask, withTimeout } from './harness.mjs';

const LOADGEN = process.env.LOADGEN_BIN;

test('200 connections each get all 60 chunks of one answer in order', async () => {
  assert.ok(LOADGEN, 'LOADGEN_BIN is set');
  const db = createDatabase();
  const alice = token(db, 'bench@example.com');
  const server = await startServer(db);
  try {
    const chat = await newChat(server, alice);
    // The answer waits for the subscribers: it starts when the load generator says they are in.
    const { response } = await ask(server, alice, chat.id, '[[bench]] [[chunks:60]] [[rate:50]] [[delay:3000]]');
    const gen = spawn(LOADGEN, ['--url', `${server.ws}?jid=${alice}`, '--cable', response.id,
      '--connections', '200', '--timeout', '30', '--server-pid', String(server.proc.pid)], { timeout: 60000 });
    let out = '';
    gen.stdout.on('data', (d) => { out += d; });
    const ready = new Promise((resolve) => createInterface({ input: gen.stderr }).on('line', (l) => { if (l.includes('subscribed')) resolve(l); }));
    const exited = new Promise((resolve) => gen.on('exit', resolve));
    assert.match(await withTimeout(ready, 10000, 'subscriptions'), /200 subscribed/);
    assert.equal(await withTimeout(exited, 40000, 'loadgen'), 0);
    const r = JSON.parse(out.trim().split('\n').at(-1));
    assert.equal(r.failed, 0);
    assert.equal(r.ended, 200);
    assert.equal(r.delivered, 200 * 60);
    assert.equal(r.missing, 0);
    assert.equal(r.out_of_order, 0);
  } finally {
    await server.stop();
  }
});
