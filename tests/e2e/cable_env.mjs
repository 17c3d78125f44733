// Lets the unmodified browser client @rails/actioncable run in Node: `ws` as its WebSocket and
// the two browser globals its connection monitor touches.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import pkg from '@rails/actioncable';
import { createCable } from '@anycable/core';
import { api, ask, withTimeout, startProxy } from './harness.mjs';

globalThis.document ??= { visibilityState: 'visible' };
globalThis.addEventListener ??= () => {};
globalThis.removeEventListener ??= () => {};
pkg.adapters.WebSocket = WebSocket;
pkg.adapters.logger = { log() {} };

export const { createConsumer } = pkg;

// Subscribes like the seed application's client and assembles the text as a page would.
export function watchMessage(consumer, messageId, { identifierKeys } = {}) {
  const params = identifierKeys ?? { channel: 'SyncChannel', model: 'Message', id: messageId };
  const state = { text: '', events: [], connected: false, rejected: false, status: null };
  const waiters = [];
  // Resolves once pred(state) holds, checked after every received event.
  state.until = (pred) => new Promise((resolve) => {
    if (pred(state)) resolve();
    else waiters.push({ pred, resolve });
  });
  let resolveEnd, resolveConnected, resolveRejected;
  state.ended = new Promise((r) => { resolveEnd = r; });
  state.connectedP = new Promise((r) => { resolveConnected = r; });
  state.rejectedP = new Promise((r) => { resolveRejected = r; });
  state.subscription = consumer.subscriptions.create(params, {
    connected() { state.connected = true; resolveConnected(); },
    rejected() { state.rejected = true; resolveRejected(); },
    received(data) {
      state.events.push(data);
      if (data.action === 'current_state') state.text = data.content;
      else if (data.action === 'streaming_update') state.text += data.chunk;
      else if (data.action === 'streaming_end') { state.status = data.status; resolveEnd(data); }
      for (const w of [...waiters]) if (w.pred(state)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    },
  });
  return state;
}

// Posts `content` to chat `chatId` on `server` as `tok` and watches the answer with
// @rails/actioncable until streaming_end. The chat's messages are followed before the question is
// asked, so even an answer that ends at once is seen from its start. Asserts that the subscriber
// saw exactly the stored text; returns the streaming_end data and the row.
export async function followAnswer(server, tok, chatId, content) {
  const consumer = createConsumer(`${server.ws}?jid=${tok}`);
  try {
    // Events of every message of the chat, by message id (earlier answers announce their ends).
    const byId = new Map();
    let wanted = null, resolveEnd, resolveConnected;
    const ended = new Promise((r) => { resolveEnd = r; });
    const connected = new Promise((r) => { resolveConnected = r; });
    const check = () => { const e = (byId.get(wanted) ?? []).find((d) => d.action === 'streaming_end'); if (e) resolveEnd(e); };
    consumer.subscriptions.create({ channel: 'SyncChannel', model: 'Chat', id: `${chatId}:messages` }, {
      connected: resolveConnected,
      received(data) {
        if (!data.id || data.action === 'refresh') return;
        (byId.get(data.id) ?? byId.set(data.id, []).get(data.id)).push(data);
        if (wanted) check();
      },
    });
    await withTimeout(connected, 5000, 'the chat subscription');
    const { response } = await ask(server, tok, chatId, content);
    wanted = response.id;
    check();
    const end = await withTimeout(ended, 20000, `end of "${content}"`);
    const text = (byId.get(wanted) ?? []).reduce((t, d) => (d.action === 'current_state' ? d.content
      : d.action === 'streaming_update' ? t + d.chunk : t), '');
    const thinking = (byId.get(wanted) ?? []).reduce((t, d) => (d.action === 'current_state' ? d.thinking ?? ''
      : d.action === 'thinking_update' ? t + d.chunk : t), '');
    const row = (await api(server, tok, 'GET', `/api/messages/${response.id}`)).json;
    assert.equal(row.streaming, false);
    assert.equal(row.status, end.status);
    assert.equal(text, row.content, 'the subscriber saw exactly the stored text');
    assert.equal(thinking, row.thinking, 'the subscriber saw exactly the stored reasoning');
    return { end, row, events: byId.get(wanted) ?? [] };
  } finally {
    consumer.disconnect();
  }
}

// One @anycable/core client through its own proxy; the proxy cuts it once, at the first update
// with an offset of at least `cutAfter` (an event, not a moment: every run is cut mid-stream);
// `cutOn` names the kind of update that triggers the cut (thinking_update: mid-reasoning).
export async function resumeRun(server, tok, messageId, cutAfter, cutOn = 'streaming_update') {
  const proxy = await startProxy(server.port);
  const cable = createCable(`ws://127.0.0.1:${proxy.port}/cable?jid=${tok}`, {
    protocol: 'actioncable-v1-ext-json',
    websocketImplementation: WebSocket,
    reconnectStrategy: () => 50,
    logLevel: 'error',
  });
  const seen = { text: '', thinking: '', offsets: [], stateOffset: null, status: null, restored: 0, cut: false };
  let resolveEnd;
  const ended = new Promise((r) => { resolveEnd = r; });
  cable.on('connect', (ev) => { if (ev.restored) seen.restored++; });
  const channel = cable.subscribeTo('SyncChannel', { model: 'Message', id: messageId });
  channel.on('message', (msg, meta) => {
    if (msg.action === 'current_state') {
      // A (re)starting catch-up: the text is replaced and offsets up to meta.offset are covered.
      seen.text = msg.content;
      seen.thinking = msg.thinking;
      seen.stateOffset = meta?.offset ?? 0;
      seen.offsets = seen.offsets.filter((o) => o <= seen.stateOffset);
    } else if (['streaming_update', 'thinking_update', 'tool_update'].includes(msg.action)) {
      if (msg.action === 'streaming_update') seen.text += msg.chunk;
      if (msg.action === 'thinking_update') seen.thinking += msg.chunk;
      seen.offsets.push(meta.offset);
      if (!seen.cut && msg.action === cutOn && meta.offset >= cutAfter) {
        seen.cut = proxy.open > 0;
        proxy.cutAll();
      }
    } else if (msg.action === 'streaming_end') {
      seen.offsets.push(meta.offset);
      seen.status = msg.status;
      resolveEnd();
    }
  });
  try {
    await withTimeout(ended, 30000, `end of ${messageId}`).catch((e) => {
      throw new Error(`${e.message}; the client had: ${JSON.stringify({ ...seen, text: seen.text.length })}`);
    });
  } finally {
    cable.disconnect();
    await proxy.close();
  }
  return seen;
}
