// An OpenAI-compatible /v1/chat/completions server that misbehaves on request. The mode is the
// word after "fault:" in the last user message (none: a normal stream). It records every request.
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

const words = (n) => Array.from({ length: n }, (_, i) => `tok${i} `);

// tls: { key, cert } (PEM) serves HTTPS instead.
export function startFakeOpenAI({ tls } = {}) {
  const requests = [];
  const attempts = new Map();
  const sockets = new Set();
  const handler = (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const json = JSON.parse(body || '{}');
      let closed;
      const record = { path: req.url, auth: req.headers.authorization, body: json, closedEarly: false, written: 0, closedAt: null,
        closed: new Promise((r) => { closed = r; }) };
      record.resolveClosed = closed;
      requests.push(record);
      const last = [...(json.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';
      const mode = (last.match(/fault:([a-z0-9-]+)/) ?? [])[1] ?? 'normal';
      const count = Number((last.match(/tokens:(\d+)/) ?? [])[1] ?? 8);
      const n = (attempts.get(last) ?? 0) + 1;
      attempts.set(last, n);
      record.mode = mode;
      const prefill = json.messages?.at(-1);
      if (prefill?.role === 'assistant') return continueAnswer(mode, count, prefill.content, res, record, json.model);
      serve(mode, count, n, req, res, record, json.model);
    });
  };
  const server = tls ? createTlsServer(tls, handler) : createServer(handler);
  server.on(tls ? 'secureConnection' : 'connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${server.address().port}`,
    requests,
    close() { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  })));
}

const event = (obj) => `data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`;
const delta = (content, model) => event({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content } }] });
const finish = (model) => event({ id: 'c1', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
const usage = (n, model) => event({ id: 'c1', model, choices: [], usage: { prompt_tokens: 11, completion_tokens: n } });

// A delta of reasoning under `key` (reasoning_content: DeepSeek, vLLM, llama.cpp; reasoning:
// OpenRouter), with `content` beside it when given.
const reasoning = (text, model, key = 'reasoning_content', content) =>
  event({ id: 'c1', model, choices: [{ index: 0, delta: content === undefined ? { [key]: text } : { [key]: text, content } }] });
export const thoughts = (n) => Array.from({ length: n }, (_, i) => `think${i} `);

function streamHead(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

// A trailing assistant message is a prefill (as llama.cpp, vLLM and Anthropic take it): the
// answer goes on after that text. Mode `slow-noprefill` refuses it, as some servers do.
function continueAnswer(mode, count, prefix, res, record, model = 'fake-model') {
  const served = `${model}-served`;
  const full = words(count).join('');
  if (mode.endsWith('noprefill') || !full.startsWith(prefix)) {
    res.writeHead(400, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error: { message: 'the final message must be a user message' } }));
  }
  const rest = full.slice(prefix.length).match(/\S*\s*/g).filter((t) => t.length > 0);
  res.on('close', () => { record.resolveClosed?.(); });
  streamHead(res);
  let i = 0;
  const tick = () => {
    if (res.destroyed) return;
    if (i < rest.length) { res.write(delta(rest[i++], served)); setTimeout(tick, mode.startsWith('slow') ? 50 : 5); return; }
    res.write(finish(served)); res.write(usage(rest.length, served)); res.end(event('[DONE]'));
  };
  tick();
}

function serve(mode, count, attempt, req, res, record, model = 'fake-model') {
  const served = `${model}-served`;
  res.on('close', () => {
    if (!res.writableEnded) { record.closedEarly = true; record.closedAt = Date.now(); }
    record.resolveClosed?.();
  });
  const paced = (events, everyMs, after) => {
    let i = 0;
    const tick = () => {
      if (res.destroyed || record.closedEarly) return;
      if (i < events.length) { res.write(events[i++]); record.written = i; setTimeout(tick, everyMs); } else after();
    };
    tick();
  };
  const normal = () => paced([...words(count).map((w) => delta(w, served)), finish(served), usage(count, served)], 5,
    () => res.end(event('[DONE]')));
  switch (mode) {
    case 'normal':
      streamHead(res);
      return normal();
    case 'reasoning':  // `count` reasoning deltas, then `count` words, then usage
    case 'openrouter':
      streamHead(res);
      return paced([...thoughts(count).map((t) => reasoning(t, served, mode === 'reasoning' ? 'reasoning_content' : 'reasoning')),
        ...words(count).map((w) => delta(w, served)), finish(served), usage(count, served)], 5, () => res.end(event('[DONE]')));
    case 'messy':  // reasoning and content in one delta, empty deltas, invalid UTF-8, a huge reasoning
      streamHead(res);
      return paced([reasoning('first ', served, 'reasoning_content', 'tok0 '),
        event({ id: 'c1', model: served, choices: [{ index: 0, delta: {} }] }), delta('', served),
        Buffer.concat([Buffer.from('data: {"choices":[{"delta":{"reasoning_content":"bad'), Buffer.from([0xff]), Buffer.from(' "}}]}\n\n')]),
        reasoning('R'.repeat(200000), served), delta('tok1 ', served), finish(served), usage(2, served)], 5,
      () => res.end(event('[DONE]')));
    case 'slow':  // 20 tokens per second, for cancellation
    case 'slow-noprefill':
      streamHead(res);
      return paced(words(count).map((w) => delta(w, served)), 50, () => res.end(event('[DONE]')));
    case 'unhurried':  // a token every 400 ms: longer than an idle timeout of 1 s, no gap as long
      streamHead(res);
      return paced(words(count).map((w) => delta(w, served)), 400, () => {
        res.write(finish(served)); res.write(usage(count, served)); res.end(event('[DONE]'));
      });
    case '429then':
      if (attempt === 1) { res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }); return res.end('{"error":{"message":"slow down"}}'); }
      streamHead(res);
      return normal();
    case '500':
    case '503':
      res.writeHead(Number(mode), { 'content-type': 'application/json' });
      return res.end('{"error":{"message":"boom"}}');
    case 'cut':
      streamHead(res);
      return paced(words(3).map((w) => delta(w, served)), 5, () => res.socket.destroy());
    case 'stall':
      streamHead(res);
      return paced(words(2).map((w) => delta(w, served)), 5, () => {});
    case 'badjson':
      streamHead(res);
      return paced([...words(2).map((w) => delta(w, served)), 'data: {"choices":[{"delta":{"content":"x"\n\n'], 5, () => res.end());
    case 'badsse':
      streamHead(res);
      return paced([...words(2).map((w) => delta(w, served)), 'data: this is not json\n\n'], 5, () => res.end());
    case 'bytewise': {  // every byte in its own TCP segment
      streamHead(res);
      res.flushHeaders();
      req.socket.setNoDelay(true);
      const bytes = Buffer.from([...words(count).map((w) => delta(w, served)), finish(served), usage(count, served), event('[DONE]')].join(''));
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i < bytes.length) { res.write(bytes.subarray(i, i + 1)); i++; setImmediate(next); } else res.end();
      };
      return next();
    }
    case 'utf8': {  // multi-byte characters split across TCP writes
      streamHead(res);
      res.flushHeaders();
      req.socket.setNoDelay(true);
      const pieces = ['héllo ', 'wörld ', '🎉 ', '日本語 ', 'done'];
      const bytes = Buffer.from([...pieces.map((p) => delta(p, served)), finish(served), event('[DONE]')].join(''));
      const cuts = [];
      for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80 && bytes[i] < 0xC0) cuts.push(i);
      let from = 0;
      const chunks = [];
      for (const c of cuts) { chunks.push(bytes.subarray(from, c)); from = c; }
      chunks.push(bytes.subarray(from));
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i < chunks.length) { res.write(chunks[i++]); setTimeout(next, 2); } else res.end();
      };
      return next();
    }
    default:
      res.writeHead(400);
      return res.end();
  }
}
