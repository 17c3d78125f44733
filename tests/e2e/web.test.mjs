// The chat page in a real browser (Debian's Chromium driven by playwright-core): sign-in by
// cookie, an answer streaming in, Stop, and a dropped WebSocket that the page recovers from.
import { test, before, after } from 'node:test';
import { createServer } from 'node:http';
import assert from 'node:assert/strict';
import os from 'node:os';
import { chromium } from 'playwright-core';
import { createDatabase, startServer, token, api, startProxy, withTimeout, psql } from './harness.mjs';

let db, server, proxy, browser, page, alice;
const socketUrls = [];  // every WebSocket the page opens
const pageErrors = [];  // uncaught errors on the page: any fails the suite
const artifacts = process.env.ARTIFACT_DIR ?? os.tmpdir();  // never the source tree

before(async () => {
  db = createDatabase();
  alice = token(db, 'alice@example.com');
  proxy = await startProxy(0);  // the page goes through it, so the test can cut it
  // The page's origin is the proxy's address: the session cookie is accepted from there.
  // Two models to pick from (SPEC §10), both offline.
  server = await startServer(db, {}, { config: {
    'server.allowed_origins': `http://127.0.0.1:${proxy.port}`,
    'provider.quick.type': 'scripted', 'provider.quick.models': 'scripted-quick',
    'provider.other.type': 'scripted', 'provider.other.models': 'scripted-other',
    'models.default': 'scripted-quick',
  } });
  proxy.target = server.port;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await (await browser.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('websocket', (ws) => socketUrls.push(ws.url()));
});

after(async () => {
  await browser?.close();
  assert.deepEqual(pageErrors, [], 'the page threw');
  await proxy?.close();
  await server?.stop();
});

// Records every distinct text of the newest assistant message, to see it grow.
async function watchGrowth() {
  await page.evaluate(() => {
    window.__texts = [];
    const list = document.querySelector('#messages');
    new MutationObserver(() => {
      const all = list.querySelectorAll('li.assistant .text');
      const t = all.length ? all[all.length - 1].textContent : '';
      if (window.__texts.at(-1) !== t) window.__texts.push(t);
    }).observe(list, { childList: true, subtree: true, characterData: true });
  });
}

// The new answer's element, found by the id the server gave it (counting the answers shown
// before the question raced a chat whose earlier messages were still loading).
function questionSent() {
  return page.waitForResponse((r) => r.request().method() === 'POST'
    && /\/api\/chats\/[^/]+\/messages$/.test(new URL(r.url()).pathname));
}
async function answerTo(sent) {
  const { response } = await (await sent).json();
  const answer = page.locator(`#messages li.assistant[data-id="${response.id}"]`);
  await answer.waitFor();
  return answer;
}
async function ask(text) {
  const sent = questionSent();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  return answerTo(sent);
}

test('sign in by token, ask, watch the answer stream in, see it complete', async () => {
  await page.goto(`http://127.0.0.1:${proxy.port}/?token=${alice}`);
  await page.getByLabel('Message').waitFor();
  assert.ok(!page.url().includes('token'), 'the token left the address bar');
  await page.locator('#connection', { hasText: 'Connected' }).waitFor();
  // Signed in by an HttpOnly cookie: the page's script cannot read it, and no URL carries it.
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('actorcable_session'));
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'actorcable_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict' && session.path === '/');
  assert.ok(socketUrls.length >= 1);
  assert.ok(socketUrls.every((u) => !u.includes(alice) && !u.includes('jid=')), socketUrls.join(' '));
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).length), 0);
  await watchGrowth();
  const answer = await ask('Hello there [[chunks:30]] [[rate:15]] [[delay:300]]');
  await answer.locator('xpath=self::*[@data-status="complete"]').waitFor({ timeout: 15000 });
  const texts = await page.evaluate(() => window.__texts.filter((t) => t.length > 0));
  assert.ok(texts.length >= 3, `the text grew in ${texts.length} steps`);
  const id = await answer.getAttribute('data-id');
  const row = (await api(server, alice, 'GET', `/api/messages/${id}`)).json;
  // Rendered as Markdown: the words a person reads are the text's, less the edges' whitespace.
  assert.equal((await answer.locator('.text').textContent()).trim(), row.content.trim());
  assert.equal(await page.locator('#messages li.user').last().locator('.text').textContent(), 'Hello there [[chunks:30]] [[rate:15]] [[delay:300]]');
  // The model and its token usage once the answer ended, as stored (SPEC §13).
  assert.equal(await answer.locator('.usage').textContent(), `${row.model_id} · ${row.output_tokens} out tokens`);
  await page.reload();
  await page.locator(`#messages li[data-id="${id}"] .usage`, { hasText: `${row.output_tokens} out tokens` }).waitFor();
  await page.screenshot({ path: `${artifacts}/chat-page.png` });
});

test('reasoning shows under "Thinking…" while the model thinks, a running tool its status, then the answer', async () => {
  // Every state the page shows is recorded as it appears (a tool runs for one part: ~170 ms).
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver(() => {
      const li = [...document.querySelectorAll('#messages li.assistant')].at(-1);
      if (!li) return;
      const d = li.querySelector('details.thinking');
      window.__seen.push({ summary: d?.querySelector('summary')?.textContent ?? null, open: d?.open ?? null,
        tool: li.querySelector('.tool')?.textContent ?? null, text: li.querySelector('.text')?.textContent ?? '' });
    }).observe(document.querySelector('#messages'), { childList: true, subtree: true, characterData: true });
  });
  const answer = await ask('Ponder [[think:6]] [[tool:search]] [[chunks:8]] [[rate:6]]');
  await answer.locator('xpath=self::*[@data-status="complete"]').waitFor({ timeout: 15000 });
  const seen = await page.evaluate(() => window.__seen);
  const thinkingOpen = seen.filter((s) => s.summary === 'Thinking…');
  assert.ok(thinkingOpen.length > 0 && thinkingOpen.every((s) => s.open && s.text === ''), 'open, before any text');
  const running = seen.findIndex((s) => s.tool === 'Running search');
  assert.ok(running >= 0, 'the running tool was shown');
  assert.ok(seen.slice(0, running).every((s) => s.text === ''), 'the tool ran before the text');
  assert.equal(await answer.locator('.tool').count(), 0, 'no tool status once the answer ended');
  const thinking = answer.locator('details.thinking');
  const id = await answer.getAttribute('data-id');
  const row = (await api(server, alice, 'GET', `/api/messages/${id}`)).json;
  assert.equal(await thinking.locator('summary').textContent(), 'Thoughts');
  assert.equal(await thinking.evaluate((d) => d.open), false, 'folded once the text began');
  assert.equal(await thinking.locator('.thinking-text').textContent(), row.thinking);
  assert.equal((await answer.locator('.text').textContent()).trim(), row.content.trim());
  await page.reload();
  await page.locator(`#messages li[data-id="${id}"] details.thinking .thinking-text`, { hasText: 'Thinking step 6.' }).waitFor({ state: 'attached' });  // folded: in the page, not shown
});

test('Stop ends a long answer and the page says it was cancelled', async () => {
  const answer = await ask('A long one [[chunks:2000]] [[rate:20]]');
  await answer.locator('.text', { hasText: /\w/ }).waitFor();
  const stop = page.getByRole('button', { name: 'Stop' });
  await stop.waitFor();
  await stop.click();
  await answer.locator('xpath=self::*[@data-status="cancelled"]').waitFor({ timeout: 5000 });
  await answer.getByText(/cancelled/).waitFor();
  await stop.waitFor({ state: 'hidden' });
});

test('a dropped WebSocket mid-answer: the page reconnects and shows the exact final text', { timeout: 60000 }, async () => {
  const answer = await ask('Keep going [[chunks:500]] [[rate:30]]');
  await answer.locator('.text', { hasText: /\w+ \w+ \w+/ }).waitFor();
  proxy.cutAll();
  await page.locator('#connection', { hasText: 'Reconnecting' }).waitFor({ timeout: 10000 });
  await page.locator('#connection', { hasText: 'Connected' }).waitFor({ timeout: 30000 });
  await answer.locator('xpath=self::*[@data-status="complete"]').waitFor({ timeout: 30000 });
  const id = await answer.getAttribute('data-id');
  const row = (await api(server, alice, 'GET', `/api/messages/${id}`)).json;
  assert.equal(row.status, 'complete');
  // Rendered as Markdown: the words a person reads are the text's, less the edges' whitespace.
  assert.equal((await answer.locator('.text').textContent()).trim(), row.content.trim());
  await page.screenshot({ path: `${artifacts}/chat-page-after-reconnect.png` });
});

test('an answer renders as Markdown, and HTML inside it is shown as text, never run', async () => {
  const chat = (await api(server, alice, 'POST', '/api/chats', { title: 'markdown' })).json;
  const markdown = [
    '# Plan', '', 'Some *emphasis* and a [link](https://example.com/docs).', '',
    '- first', '- second', '', '```js', 'const x = 1 < 2;', '```', '',
    '<img src=x onerror="window.__pwned = 1">', '', 'inline <script>window.__pwned = 2</script> end',
  ].join('\n');
  psql(db, `INSERT INTO messages (chat_id, role, content) SELECT id, 'assistant', '${markdown.replace(/'/g, "''")}'
            FROM chats WHERE title = 'markdown'`);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  await page.reload();
  await page.getByRole('button', { name: 'markdown' }).click();
  const answer = page.locator('#messages li.assistant').last();
  await answer.locator('h1', { hasText: 'Plan' }).waitFor();
  assert.equal(await answer.locator('em').textContent(), 'emphasis');
  assert.deepEqual(await answer.locator('li').allTextContents(), ['first', 'second']);
  assert.equal(await answer.locator('pre code').textContent(), 'const x = 1 < 2;\n');
  assert.equal(await answer.locator('pre button', { hasText: 'Copy' }).count(), 1);
  assert.equal(await answer.locator('a').getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await answer.locator('img, script').count(), 0);
  assert.ok((await answer.textContent()).includes('<img src=x onerror="window.__pwned = 1">'), 'the HTML is shown as text');
  assert.ok((await answer.textContent()).includes('<script>window.__pwned = 2</script>'));
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(dialogs, 0);
  assert.ok(!requests.some((u) => /\/x$/.test(u)), 'no request for the image');
  assert.equal(chat.title, 'markdown');
  await page.screenshot({ path: `${artifacts}/chat-page-markdown.png` });
});

test('the model picker lists /api/models and sets the chat\'s model; Rename renames the chat', async () => {
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/chats'));
  await page.locator('#new-chat').click();
  // The new chat is open (not the previous one, whose picker is already there) once its title shows.
  await page.locator('#chat-title', { hasText: (await (await created).json()).title }).waitFor();
  const picker = page.getByLabel('Model', { exact: true });
  await picker.locator('option').nth(1).waitFor({ state: 'attached' });
  assert.deepEqual((await picker.locator('option').allTextContents()).sort(), ['scripted-other', 'scripted-quick (default)']);
  assert.equal(await picker.inputValue(), 'scripted-quick', 'a new chat shows the default model');
  await page.getByLabel('Title', { exact: true }).fill('Picked a model');
  // Awaited step by step so that a failure says which step (a run under ASan once waited 30 s
  // for the renamed button with nothing else to go on).
  const renamed = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/chats/'));
  await page.getByRole('button', { name: 'Rename' }).click();
  const renameReply = await renamed;
  assert.equal(renameReply.status(), 200, `PATCH ${renameReply.url()}: ${await renameReply.text()}`);
  assert.equal(JSON.parse(renameReply.request().postData()).title, 'Picked a model', 'the title sent');
  await page.locator('#chats').getByRole('button', { name: 'Picked a model' }).waitFor().catch(async (e) => {
    throw new Error(`${e.message}; the page's error: "${await page.locator('#error').textContent()}"; `
      + `its list: ${JSON.stringify(await page.locator('#chats').allTextContents())}`);
  });
  await page.locator('#chat-title', { hasText: 'Picked a model' }).waitFor();
  const chat = (await api(server, alice, 'GET', '/api/chats')).json.find((c) => c.title === 'Picked a model');
  assert.ok(chat, 'the rename reached the database');
  const patched = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/chats/${chat.id}`));
  await picker.selectOption('scripted-other');
  assert.equal((await patched).status(), 200);
  assert.equal((await api(server, alice, 'GET', `/api/chats/${chat.id}`)).json.model_id, 'scripted-other');
  const answer = await ask('Which model? [[chunks:3]] [[rate:50]]');
  await answer.locator('xpath=self::*[@data-status="complete"]').waitFor({ timeout: 15000 });
  const row = (await api(server, alice, 'GET', `/api/messages/${await answer.getAttribute('data-id')}`)).json;
  assert.equal(row.model_id, 'scripted-other');
  assert.ok((await answer.locator('.usage').textContent()).startsWith('scripted-other · '));
  await page.reload();
  await page.locator('#chats').getByRole('button', { name: 'Picked a model' }).click();
  await page.locator('#chat-title', { hasText: 'Picked a model' }).waitFor();
  assert.equal(await page.getByLabel('Model', { exact: true }).inputValue(), 'scripted-other', 'the choice is the chat\'s, after a reload too');
});

test('an answer that fails says so, with the reason', async () => {
  const answer = await ask('Break [[chunks:20]] [[fail-after:3]] [[rate:50]]');
  await answer.locator('xpath=self::*[@data-status="error"]').waitFor({ timeout: 15000 });
  const row = (await api(server, alice, 'GET', `/api/messages/${await answer.getAttribute('data-id')}`)).json;
  assert.equal(row.status, 'error');
  assert.ok(row.error, 'the row has a reason');
  await answer.locator('.status', { hasText: row.error }).waitFor();
  assert.match(await answer.locator('.status').textContent(), /^The answer failed\./);
});

test('keyboard: Shift+Enter adds a line, Enter sends, Escape stops; focus stays in the composer', async () => {
  const input = page.getByLabel('Message');
  await input.fill('');
  await input.focus();
  await page.keyboard.type('Line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two [[chunks:2000]] [[rate:20]]');
  assert.equal(await input.inputValue(), 'Line one\nline two [[chunks:2000]] [[rate:20]]');
  const sent = questionSent();
  await page.keyboard.press('Enter');
  const answer = await answerTo(sent);
  await answer.locator('.text', { hasText: /\w/ }).waitFor();
  assert.equal(await page.locator('#messages li.user').last().locator('.text').textContent(), 'Line one\nline two [[chunks:2000]] [[rate:20]]');
  assert.equal(await input.inputValue(), '', 'sent and cleared');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'message-input');
  await page.keyboard.press('Escape');
  await answer.locator('xpath=self::*[@data-status="cancelled"]').waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'message-input');
});

test('readable at 360 px (a phone) and at 1440 px: no sideways scrolling; screenshots saved', async () => {
  for (const [width, height] of [[360, 740], [1440, 900]]) {
    await page.setViewportSize({ width, height });
    await page.getByLabel('Message').waitFor();
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 0, `${over} px wider than the ${width} px window`);
    const box = await page.getByLabel('Message').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= width, `the composer fits in ${width} px`);
    await page.screenshot({ path: `${artifacts}/chat-page-${width}.png` });
  }
  await page.setViewportSize({ width: 1100, height: 760 });
});

// SPEC §17: GET /api/chats is paged; the page lists the first page and loads more as it scrolls.
test('a long chat list loads page by page as it scrolls', async () => {
  const account = psql(db, `SELECT m.account_id FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE u.email_address = 'alice@example.com' AND m.role = 'owner'`);
  psql(db, `INSERT INTO chats (account_id, title, updated_at) SELECT ${account}, 'old chat ' || n,
    now() - interval '1 day' - n * interval '1 second' FROM generate_series(1, 150) n`);
  const total = Number(psql(db, `SELECT count(*) FROM chats WHERE account_id = ${account}`));
  await page.goto(`http://127.0.0.1:${proxy.port}/`);  // a new visit: at the top, no scroll restored
  await page.locator('#connection', { hasText: 'Connected' }).waitFor();
  const listed = () => page.locator('#chats li').count();
  await page.waitForFunction(() => document.querySelectorAll('#chats li').length > 0);
  assert.equal(await listed(), 100, 'the first page');
  await page.locator('#more-chats').scrollIntoViewIfNeeded();
  await page.waitForFunction((n) => document.querySelectorAll('#chats li').length === n, total, { timeout: 10000 });
  assert.ok(await page.locator('#more-chats').isHidden(), 'nothing more to load');
  await page.getByRole('button', { name: 'old chat 150' }).waitFor();
});

test('a page of another origin cannot open the cable with the session cookie; Sign out ends the session', async () => {
  const elsewhere = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>elsewhere</title>'); });
  await new Promise((r) => elsewhere.listen(0, '127.0.0.1', r));
  const cable = `ws://127.0.0.1:${proxy.port}/cable`;
  const tryCable = (p) => p.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url, ['actioncable-v1-json']);
    ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'welcome') { ws.close(); resolve('welcome'); } };
    ws.onclose = () => resolve('closed');
  }), cable);
  try {
    assert.equal(await withTimeout(tryCable(page), 10000, 'the page\'s upgrade'), 'welcome', 'the page\'s own origin opens it');
    const foreign = await page.context().newPage();
    await foreign.goto(`http://127.0.0.1:${elsewhere.address().port}/`);
    assert.equal(await withTimeout(tryCable(foreign), 10000, 'the foreign upgrade'), 'closed');
    await foreign.close();
  } finally {
    elsewhere.close();
  }
  const before = (await page.context().cookies()).find((c) => c.name === 'actorcable_session');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#signin').waitFor();
  const cookies = await page.context().cookies();
  assert.ok(!cookies.some((c) => c.name === 'actorcable_session' && c.value), 'the session cookie is gone');
  // The session ended on the server: its old value no longer signs anything in.
  const replay = await fetch(`${server.http}/api/chats`, { headers: { cookie: `actorcable_session=${before.value}` } });
  assert.equal(replay.status, 401);
  assert.equal(await withTimeout(tryCable(page), 10000, 'the upgrade after sign-out'), 'closed');
});
