// SPEC §12, continuing: a lone server killed mid-answer continues its answer when it starts again,
// from the stored text, to exactly the text of an answer that never stopped (prefill: e2e.prefill).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, tearDown, uninterrupted, killAndRestart, ctx } from './continuation_env.mjs';

before(() => setUp({ nodes: ['b'] }));
after(() => tearDown());

test('a lone server killed mid-answer continues it when it starts again', { timeout: 120000 }, async () => {
  const reference = await uninterrupted(ctx.nodes.b, 400);
  const run = await killAndRestart('lone', {}, { 'streams.retention_s': 60 }, 'lone [[chunks:400]] [[rate:40]]', 40);
  try {
    assert.equal(run.end.message.status, 'complete');
    assert.equal(run.row.content, reference);
    assert.equal(run.client.text(), run.row.content);
    assert.ok(run.stored.length > 0 && reference.startsWith(run.stored));
  } finally {
    run.client.close();
    await run.server.stop();
  }
});

