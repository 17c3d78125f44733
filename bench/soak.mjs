// The soak scenario behind bench/soak: keeps ~40 answers streaming with random client cuts,
// stops and [[fail-after:N]] failures, then checks that nothing was left behind.
import { readFileSync } from 'node:fs';
import { createDatabase, startServer, token, api, newChat, ask, rawCable, messageIdentifier, psql }
  from '../tests/e2e/harness.mjs';

const minutes = Number(process.env.SOAK_MINUTES ?? 20);
const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
const metric = async (server, name) => Number((await (await fetch(`${server.http}/metrics`)).text())
  .match(new RegExp(`^${name} (\\S+)$`, 'm'))[1]);
const pick = (n) => Math.floor(Math.random() * n);

const db = createDatabase();
const alice = token(db, 'soak@example.com');
const server = await startServer(db, {}, { config: { 'streams.retention_s': 2 } });
const chat = await newChat(server, alice);
const warmup = await ask(server, alice, chat.id, 'warm up [[chunks:5]] [[rate:100]]');
await new Promise((r) => setTimeout(r, 1000));
const rssStart = rss(server.proc.pid);
const until = Date.now() + minutes * 60_000;
let started = 0, cut = 0, stopped = 0, failing = 0;

async function one(chat) {
  const chunks = 20 + pick(200);
  const roll = pick(10);
  let content = `soak ${started} [[chunks:${chunks}]] [[rate:${20 + pick(60)}]]`;
  if (roll === 0) { content += ` [[fail-after:${pick(chunks)}]]`; failing++; }
  const { response } = await ask(server, alice, chat.id, content);
  started++;
  const c = rawCable(`${server.ws}?jid=${alice}`);
  await c.opened;
  c.send({ command: 'subscribe', identifier: messageIdentifier(response.id) });
  if (roll === 1) { await new Promise((r) => setTimeout(r, pick(2000))); c.ws.terminate(); cut++; return; }
  if (roll === 2) { await new Promise((r) => setTimeout(r, pick(2000))); await api(server, alice, 'POST', `/api/messages/${response.id}/stop`); stopped++; }
  await c.next((f) => f.message?.action === 'streaming_end', 60000, 'end').catch(() => {});
  c.close();
}

// A chat per worker: a question in a chat whose answer still streams would cancel it (on_busy).
const workers = Array.from({ length: 40 }, async () => {
  const own = await newChat(server, alice);
  while (Date.now() < until) await one(own).catch(() => {});
});
const progress = setInterval(() => console.log(`soak: ${started} answers, rss ${rss(server.proc.pid)} kB`), 60_000);
await Promise.all(workers);
clearInterval(progress);
await new Promise((r) => setTimeout(r, 4000));  // retention (2 s) passes
const rssEnd = rss(server.proc.pid);
const actors = await metric(server, 'actorcable_message_actors_num');
const leftStreaming = psql(db, 'SELECT count(*) FROM messages WHERE streaming');
console.log(JSON.stringify({ minutes, answers: started, client_cuts: cut, stops: stopped, failures: failing,
  rss_start_kb: rssStart, rss_end_kb: rssEnd, live_message_actors: actors, rows_left_streaming: Number(leftStreaming) }));
await server.stop();
const ok = actors === 0 && leftStreaming === '0' && rssEnd < rssStart * 1.5 + 20000;
console.log(ok ? 'soak: passed' : 'soak: FAILED');
process.exit(ok ? 0 : 1);
