// SPEC §12, deploy: a node stopped with SIGTERM hands its answer to a peer, which continues it
// (clients on every node end exact), and a rolling restart of three nodes under 50 answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newChat, ask, metricValue } from './harness.mjs';
import { ctx, setUp, tearDown, restartA, watchers, expectExact, row, rowId, until, sum, uninterrupted,
  startNode, connectedTo, killAndRestart, TAKEOVER_MS } from './continuation_env.mjs';

before(() => setUp());
after(() => tearDown());

test('SIGTERM: node A hands its answer to a peer, which continues it; every client ends exact', { timeout: 120000 }, async () => {
  const reference = await uninterrupted(ctx.nodes.b, 400);
  const takeoversBefore = await sum('actorcable_takeovers_total', ctx.nodes.b, ctx.nodes.c);
  const chat = await newChat(ctx.nodes.a, ctx.alice);
  const { response } = await ask(ctx.nodes.a, ctx.alice, chat.id, 'handover [[chunks:400]] [[rate:40]]');
  const w = await watchers(response.id);
  try {
    await until(() => w.plainC.updates() >= 80, 20000, '80 updates on C');
    const { code } = await ctx.nodes.a.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ctx.nodes.a.logs.some((l) => l.includes('"event":"streams_handed_over"') && l.includes('"streams":1')),
      'A handed its one answer over');
    w.extA.moveTo(ctx.nodes.b);
    const r = await expectExact(w, response.id, reference);
    assert.notEqual(r.owner, 'node-a');
    assert.equal(await sum('actorcable_takeovers_total', ctx.nodes.b, ctx.nodes.c) - takeoversBefore, 1);
    // Plain clients on B and C never saw an end before the answer's: the stream went on.
    for (const c of w.all)
      assert.equal(c.frames.filter((f) => f.type === 'disconnect').length, 0);
  } finally {
    await w.close();
  }
});


// SPEC §12's deploy: every node replaced in turn (a new one started, the old one stopped with
// SIGTERM) under 50 streaming answers; none is lost, each ends complete with the uninterrupted
// text. bench/README.md ("Rolling restart") reports a run.
test('a rolling restart of three nodes under 50 streaming answers loses none of them', { timeout: 180000 }, async (t) => {
  await restartA();
  const reference = await uninterrupted(ctx.nodes.b, 300);
  const started = Date.now();
  const answers = [];
  const owners = [ctx.nodes.a, ctx.nodes.b, ctx.nodes.c];
  for (let i = 0; i < 50; i++) {
    const node = owners[i % 3];
    const chat = await newChat(node, ctx.alice);
    answers.push((await ask(node, ctx.alice, chat.id, `rolling ${i} [[chunks:300]] [[rate:20]]`)).response.id);
  }
  const handed = [];
  for (const key of ['a', 'b', 'c']) {
    const old = ctx.nodes[key];
    const next = await startNode(`node-${key}2`);
    for (const other of Object.values(ctx.nodes)) await connectedTo(other, `node-${key}2`);
    const { code } = await old.stop('SIGTERM');
    assert.equal(code, 0);
    const line = old.logs.find((l) => l.includes('"event":"streams_handed_over"'));
    handed.push(line ? JSON.parse(line).streams : 0);
    ctx.nodes[key] = next;
  }
  await until(() => answers.every((oid) => !row(oid).streaming), 60000, 'every answer to end');
  const rows = answers.map(row);
  for (const [i, r] of rows.entries()) {
    assert.equal(r.status, 'complete', `answer ${i}: ${r.error}`);
    assert.equal(r.content, reference, `answer ${i} has the uninterrupted text`);
    assert.ok(r.continuations >= 1, `answer ${i} was continued`);
  }
  t.diagnostic(`50 answers, nodes replaced in turn: handed over ${handed.join(' + ')}, ` +
    `continuations up to ${Math.max(...rows.map((r) => r.continuations))}, all complete in ${Date.now() - started} ms`);
});
