// Lets the unmodified browser client @rails/actioncable run in Node: `ws` as its WebSocket and
// the two browser globals its connection monitor touches.
import WebSocket from 'ws';
import pkg from '@rails/actioncable';

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
