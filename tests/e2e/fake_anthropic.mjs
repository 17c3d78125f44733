// An Anthropic Messages API server (POST /v1/messages, stream: true) that misbehaves on request:
// the mode is the word after "fault:" in the last user message (none: a normal stream with a
// thinking block). It records every request with its headers.
import { createServer } from 'node:http';

export const fakeWords = (n) => Array.from({ length: n }, (_, i) => `word${i} `);

const event = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;

function normalStream(count, model) {
  return [
    event({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [],
      model, stop_reason: null, usage: { input_tokens: 21, output_tokens: 1 } } }),
    event({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
    event({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hidden reasoning.' } }),
    event({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'c2ln' } }),
    event({ type: 'content_block_stop', index: 0 }),
    event({ type: 'ping' }),
    event({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
    ...fakeWords(count).map((text) => event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text } })),
    event({ type: 'content_block_stop', index: 1 }),
    event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: count } }),
    event({ type: 'message_stop' }),
  ];
}

export function startFakeAnthropic() {
  const requests = [];
  const attempts = new Map();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const json = JSON.parse(body || '{}');
      requests.push({ path: req.url, headers: req.headers, body: json });
      const last = [...(json.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';
      const mode = (last.match(/fault:([a-z0-9-]+)/) ?? [])[1] ?? 'normal';
      const count = Number((last.match(/tokens:(\d+)/) ?? [])[1] ?? 8);
      const n = (attempts.get(last) ?? 0) + 1;
      attempts.set(last, n);
      const served = `${json.model}-served`;
      const pace = mode === 'slow' ? 50 : 5;
      const stream = (events, cut = false) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let i = 0;
        const tick = () => {
          if (res.destroyed) return;
          if (i < events.length) { res.write(events[i++]); setTimeout(tick, pace); } else if (cut) res.socket.destroy(); else res.end();
        };
        tick();
      };
      // A trailing assistant message is a prefill: the answer goes on from its text (which the
      // real API requires without trailing white space; a prefill with it is refused here too).
      const prefill = json.messages?.at(-1);
      if (prefill?.role === 'assistant') {
        const full = fakeWords(count).join('');
        if (/\s$/.test(prefill.content) || !full.startsWith(prefill.content)) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error',
            message: 'final assistant content cannot end with trailing whitespace' } }));
        }
        const rest = full.slice(prefill.content.length);
        const tokens = rest.match(/\s*\S+/g) ?? [];
        if (rest.length > tokens.join('').length) tokens.push(rest.slice(tokens.join('').length));
        const events = normalStream(0, served).filter((e) => !e.includes('thinking') && !e.includes('signature'));
        const at = events.findIndex((e) => e.includes('"type":"content_block_stop","index":1'));
        events.splice(at, 0, ...tokens.map((text) => event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text } })));
        return stream(events);
      }
      switch (mode) {
        case 'slow':  // 20 events per second, to be killed mid-answer
        case 'normal':
          return stream(normalStream(count, served));
        case 'overloaded-then':  // HTTP 529 once, then a normal stream
          if (n === 1) {
            res.writeHead(529, { 'content-type': 'application/json' });
            return res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
          }
          return stream(normalStream(count, served));
        case 'error-event':  // an error event in the stream after some text
          return stream([...normalStream(3, served).slice(0, 10),
            event({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })]);
        case 'no-stop':  // the connection ends without message_stop
          return stream(normalStream(3, served).slice(0, -1));
        case 'cut': {  // the connection is reset in the middle of an event, after three words
          const events = normalStream(3, served).slice(0, 10);
          events.push(event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'lost' } }).slice(0, 30));
          return stream(events, true);
        }
        default:
          res.writeHead(400);
          return res.end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close() { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}
