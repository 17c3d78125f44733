// The chat page: sign-in by cookie, chat list with each chat's title and model, one
// Chat:<id>:messages subscription per open chat with the unmodified @rails/actioncable client,
// streaming text as it arrives.
import { createConsumer } from '/vendor/actioncable.esm.js';
import { renderMarkdown } from '/markdown.js';

const $ = (sel) => document.querySelector(sel);
const STATUS_WORDS = {
  error: 'The answer failed.',
  cancelled: 'Stopped (cancelled).',
  interrupted: 'Interrupted: the server lost this answer.',
};

// --- sign-in -----------------------------------------------------------------------------------
// `/?token=<jwt>` is turned into an HttpOnly session cookie by the server, which redirects here:
// the page never sees the token, and no URL it opens carries one (SPEC §13).
class Unauthorized extends Error {}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (res.status === 401) throw new Unauthorized(json?.error ?? 'unauthorized');
  if (!res.ok) throw new Error(json?.error ?? `HTTP ${res.status}`);
  return json;
}

// GET /api/chats is paged (SPEC §17): a page, and the address of the next one from its Link.
async function chatPage(path) {
  const res = await fetch(path);
  if (res.status === 401) throw new Unauthorized('unauthorized');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '');
  return { rows: await res.json(), next: next ? next[1] : null };
}

// --- state ---------------------------------------------------------------------------------------
let chats = [];
let moreChats = null;      // the next page of the chat list, while there is one
let models = [];           // GET /api/models: [{ id, provider, default }]
let current = null;        // the open chat
let subscription = null;   // its Chat:<id>:messages subscription
const messages = new Map(); // id -> { id, role, text, thinking, tool, streaming, status, error, model, usage }

// One element per message, updated only when its message changed; answers rendered as Markdown.
// Streaming chunks schedule one render per animation frame, so a fast answer costs a parse per
// frame, not per chunk.
const elements = new Map();  // id -> { li, key }
let renderScheduled = false;

function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(() => { renderScheduled = false; render(); });
}

// "model · 11 in, 12 out tokens", from the end of the stream or the stored row (SPEC §13).
function usageText(m) {
  const parts = [];
  if (m.model) parts.push(m.model);
  const { input_tokens: i, output_tokens: o } = m.usage ?? {};
  const counts = [i != null ? `${i} in` : null, o != null ? `${o} out` : null].filter(Boolean);
  if (counts.length) parts.push(`${counts.join(', ')} tokens`);
  return parts.join(' · ');
}

function messageElement(m) {
  const key = `${m.text.length}|${m.thinking?.length}|${m.tool}|${m.streaming}|${m.status}|${m.error}|${usageText(m)}`;
  const known = elements.get(m.id);
  if (known && known.key === key) return known.li;
  const li = known?.li ?? document.createElement('li');
  li.className = `${m.role}${m.streaming ? ' streaming' : ''}`;
  li.dataset.id = m.id;
  li.dataset.status = m.status ?? (m.streaming ? 'streaming' : '');
  if (m.role === 'assistant') li.setAttribute('aria-busy', String(!!m.streaming));
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = m.role === 'user' ? 'You' : 'Assistant';
  const text = document.createElement('div');
  text.className = 'text';
  if (m.role === 'assistant') renderMarkdown(text, m.text);
  else text.textContent = m.text;  // what a person typed is shown as typed
  const shown = li.querySelector('details.thinking');
  li.replaceChildren(who);
  // Reasoning (SPEC §9) folds away under the answer's head: open while the model thinks, closed
  // once the answer's text begins. A person can open it again.
  if (m.thinking) {
    const details = shown ?? document.createElement('details');
    details.className = 'thinking';
    if (!details.dataset.touched) details.open = !!m.streaming && !m.text;
    details.ontoggle = () => { if (details.open !== (!!m.streaming && !m.text)) details.dataset.touched = '1'; };
    const summary = document.createElement('summary');
    summary.textContent = m.streaming && !m.text ? 'Thinking…' : 'Thoughts';
    const body = document.createElement('div');
    body.className = 'thinking-text';
    body.textContent = m.thinking;
    details.replaceChildren(summary, body);
    li.append(details);
  }
  if (m.streaming && m.tool) {
    const t = document.createElement('span');
    t.className = 'tool';
    t.setAttribute('role', 'status');
    t.textContent = m.tool;
    li.append(t);
  }
  li.append(text);
  if (STATUS_WORDS[m.status]) {
    const s = document.createElement('span');
    s.className = 'status';
    s.textContent = STATUS_WORDS[m.status] + (m.error ? ` (${m.error})` : '');
    li.append(s);
  }
  if (!m.streaming && usageText(m)) {
    const u = document.createElement('span');
    u.className = 'usage';
    u.textContent = usageText(m);
    li.append(u);
  }
  elements.set(m.id, { li, key });
  return li;
}

function render() {
  const list = $('#messages');
  const lis = [...messages.values()].map(messageElement);
  for (const id of [...elements.keys()]) if (!messages.has(id)) elements.delete(id);
  if (lis.length !== list.children.length || lis.some((li, i) => list.children[i] !== li))
    list.replaceChildren(...lis);
  const streaming = [...messages.values()].some((m) => m.streaming);
  $('#stop').hidden = !streaming;
}

function renderChats() {
  $('#more-chats').hidden = !moreChats;
  $('#chats').replaceChildren(...chats.map((c) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = c.title || 'Untitled';
    b.setAttribute('aria-current', String(current?.id === c.id));
    b.addEventListener('click', () => openChat(c));
    li.append(b);
    return li;
  }));
}

// Rows from the API, oldest first. A message streaming here keeps its live text unless the row
// says it ended; messages known only from the stream so far stay at the end.
function merge(rows, complete = false) {
  const next = new Map();
  for (const row of rows) {
    const mine = messages.get(row.id);
    next.set(row.id, mine && mine.streaming && row.streaming ? mine
      : { id: row.id, role: row.role, text: row.content, thinking: row.thinking ?? '', tool: row.tool_status,
          streaming: row.streaming, status: row.status, error: row.error,
          model: row.role === 'assistant' ? row.model_id : null,
          usage: { input_tokens: row.input_tokens, output_tokens: row.output_tokens } });
  }
  for (const [id, m] of messages) if (!next.has(id)) next.set(id, m);
  if (!complete) {
    // A partial update (a new exchange): keep the known order, then the new rows.
    const ordered = new Map();
    for (const [id] of messages) ordered.set(id, next.get(id));
    for (const [id, m] of next) if (!ordered.has(id)) ordered.set(id, m);
    messages.clear();
    for (const [id, m] of ordered) messages.set(id, m);
  } else {
    messages.clear();
    for (const [id, m] of next) messages.set(id, m);
  }
  render();
}

async function reload() {
  if (current) merge(await api('GET', `/api/chats/${current.id}/messages`), true);
}

function onEvent(data) {
  if (data.action === 'refresh') {
    reload();
    return;
  }
  const m = messages.get(data.id) ?? { id: data.id, role: 'assistant', text: '', thinking: '', streaming: true };
  messages.set(data.id, m);
  if (data.action === 'current_state') {
    m.text = data.content;
    m.thinking = data.thinking ?? '';
    m.tool = data.tool_status;
    m.streaming = data.streaming;
  } else if (data.action === 'streaming_update') {
    m.text += data.chunk;
    m.streaming = true;
  } else if (data.action === 'thinking_update') {
    m.thinking = (m.thinking ?? '') + data.chunk;
    m.streaming = true;
  } else if (data.action === 'tool_update') {
    m.tool = data.status === 'running' ? data.summary : null;
    m.streaming = true;
  } else if (data.action === 'streaming_end') {
    m.streaming = false;
    m.status = data.status;
    m.model = data.model_id ?? m.model;
    m.usage = data.usage ?? m.usage;
    if (data.status !== 'complete') api('GET', `/api/messages/${data.id}`).then((row) => { m.error = row.error; render(); }).catch(() => {});
  }
  if (data.action === 'streaming_update' || data.action === 'thinking_update') scheduleRender();
  else render();
}

let consumer = null;  // created once signed in: the cable takes the same cookie

// The open chat's title and model (SPEC §10: a chat without one uses the default model).
function renderChatSettings() {
  $('#chat-title').textContent = current.title || 'Chat';
  $('#chat-name').value = current.title ?? '';
  const chosen = current.model_id ?? models.find((m) => m.default)?.id ?? '';
  $('#chat-model').replaceChildren(...models.map((m) => {
    const o = document.createElement('option');
    o.value = m.id;
    o.textContent = m.default ? `${m.id} (default)` : m.id;
    o.selected = m.id === chosen;
    return o;
  }));
}

async function changeChat(fields) {
  $('#error').textContent = '';
  const target = current;  // another chat may be opened before the answer comes
  try {
    Object.assign(target, await api('PATCH', `/api/chats/${target.id}`, fields));
  } catch (e) {
    $('#error').textContent = `Not changed: ${e.message}`;
  }
  if (target === current) renderChatSettings();
  renderChats();
}

async function openChat(chat) {
  current = chat;
  renderChatSettings();
  renderChats();
  subscription?.unsubscribe();
  messages.clear();
  render();
  subscription = consumer.subscriptions.create(
    { channel: 'SyncChannel', model: 'Chat', id: `${chat.id}:messages` },
    {
      // Also after every reconnect: whatever ended meanwhile comes back from the database.
      connected() { $('#connection').textContent = 'Connected'; reload(); },
      disconnected() { $('#connection').textContent = 'Reconnecting…'; },
      rejected() { $('#error').textContent = 'This chat is not available.'; },
      received: onEvent,
    });
  await reload();
  $('#message-input').focus();
}

// The next page of chats, appended (a chat already listed is not listed twice).
let loadingChats = false;
async function loadMoreChats() {
  if (!moreChats || loadingChats) return;
  loadingChats = true;
  try {
    const page = await chatPage(moreChats);
    const known = new Set(chats.map((c) => c.id));
    chats.push(...page.rows.filter((c) => !known.has(c.id)));
    moreChats = page.next;
    renderChats();
  } finally {
    loadingChats = false;
  }
  // Still in view (a tall screen, a short page): the observer will not fire again by itself.
  const end = $('#more-chats');
  if (moreChats && !end.hidden && end.getBoundingClientRect().top < window.innerHeight) await loadMoreChats();
}

// Scrolling to the end of the list loads the next page.
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) loadMoreChats().catch((e) => { $('#error').textContent = e.message; });
}).observe($('#more-chats'));

async function start() {
  try {
    const first = await chatPage('/api/chats');
    chats = first.rows;
    moreChats = first.next;
  } catch (e) {
    if (!(e instanceof Unauthorized)) throw e;
    $('#signin').hidden = false;
    $('#connection').textContent = 'Signed out';
    return;
  }
  $('#app').hidden = false;
  $('#signout').hidden = false;
  consumer = createConsumer('/cable');
  models = await api('GET', '/api/models').catch(() => []);
  if (chats.length === 0) chats = [await api('POST', '/api/chats', { title: 'New chat' })];
  await openChat(chats[0]);
}

$('#new-chat').addEventListener('click', async () => {
  const chat = await api('POST', '/api/chats', { title: `Chat ${chats.length + 1}` });
  chats.unshift(chat);
  await openChat(chat);
});

$('#chat-settings').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (current) changeChat({ title: $('#chat-name').value.trim() });
});

$('#chat-model').addEventListener('change', () => {
  if (current) changeChat({ model_id: $('#chat-model').value });
});

$('#composer').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('#message-input');
  const content = input.value.trim();
  if (!content || !current) return;
  $('#error').textContent = '';
  try {
    const { message, response } = await api('POST', `/api/chats/${current.id}/messages`, { content });
    input.value = '';
    merge([message, response]);
  } catch (e) {
    $('#error').textContent = `Not sent: ${e.message}`;
  }
});

$('#message-input').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) {
    ev.preventDefault();
    $('#composer').requestSubmit();
  } else if (ev.key === 'Escape' && !$('#stop').hidden) {
    ev.preventDefault();
    $('#stop').click();  // focus stays in the composer
  }
});

$('#stop').addEventListener('click', async () => {
  for (const m of messages.values())
    if (m.streaming) await api('POST', `/api/messages/${m.id}/stop`).catch((e) => { $('#error').textContent = e.message; });
});

start().catch((e) => { $('#error').textContent = e.message; });
