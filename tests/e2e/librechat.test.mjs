// LibreChat's own web client (v0.8.8-rc1, served from CLIENT_DIR) in a real browser, against
// the real server and a fake OpenAI provider, both started by tests/librechat_client.rs, which
// passes BASE_URL. Each step does what a person does in LibreChat's UI. Every /api call the
// page makes is recorded: a 4xx/5xx fails the run unless it is in EXPECTED below, with the
// reason LibreChat's own server answers it too; so does any request that gets no answer at all
// (EXPECTED_ABORTED). Content-Security-Policy violations and page errors fail it as well. Screenshots go to tests/e2e/artifacts/librechat/.
// File attachments are in ./librechat-files.mjs, memories in ./librechat-memories.mjs, the avatar
// in ./librechat-avatar.mjs, projects in ./librechat-projects.mjs, artifacts in
// ./librechat-artifact.mjs, agents (built, chatted with, shared) in ./librechat-agents.mjs,
// handoffs between agents in ./librechat-handoffs.mjs, an OAuth action in ./librechat-actions.mjs,
// web and file search sources and citations in ./librechat-citations.mjs, an MCP server's tool
// chosen in the composer in ./librechat-mcp.mjs.

import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, request } from 'playwright-core';
import { AGENT_EXPECTED, agentSteps } from './librechat-agents.mjs';
import { artifactSteps } from './librechat-artifact.mjs';
import { citationSteps } from './librechat-citations.mjs';
import { compareSteps } from './librechat-compare.mjs';
import { handoffSteps } from './librechat-handoffs.mjs';
import { actionSteps } from './librechat-actions.mjs';
import { avatarSteps } from './librechat-avatar.mjs';
import { fileSteps } from './librechat-files.mjs';
import { promptSteps } from './librechat-prompts.mjs';
import { mcpSteps } from './librechat-mcp.mjs';
import { memorySteps } from './librechat-memories.mjs';
import { projectSteps } from './librechat-projects.mjs';

const BASE = process.env.BASE_URL;
if (!BASE) throw new Error('BASE_URL is not set (run through `cargo test --test librechat_client`)');
const ARTIFACTS = process.env.ARTIFACTS_DIR || new URL('./artifacts/librechat/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });
// How long a step may wait for the page: a bound on a broken step, not a speed check. CI runs
// the suites side by side on two cores, where the browser can take tens of seconds to parse a
// large chunk it loads late (KaTeX, the artifacts' editor).
const TIMEOUT = 60_000;
const PW = 'correct horse battery';
const ADA = { name: 'Ada Lovelace', email: 'ada@example.org' };
const TITLE = 'Tides and the Moon';
const UNTAGGED = 'Untagged notes';

/**
 * Answers LibreChat's own server gives as well on these flows (or that differ on purpose), so
 * the client copes with them. Each: method, path pattern, status, the step (when only there),
 * and why.
 */
const EXPECTED = [
  {
    step: 'logout', method: 'GET', status: 401,
    // The queries the client keeps on every page and sends once more as it leaves.
    path: /^\/api\/(agents\/chat\/active|user\/settings\/favorites|convos|keys|files\/speech\/config\/get|roles\/(USER|ADMIN)|projects)$/,
    // A deliberate difference (README): logout ends the session's access tokens at once, where
    // LibreChat's stay valid until they expire, so the queries the client still sends with the
    // old token while it leaves for the login page are refused here.
    why: 'the last queries the client sends with the token logout ended',
  },
  {
    step: 'a refresh cookie that no longer works leads to the login page', method: 'POST',
    path: /^\/api\/auth\/refresh$/, status: 401,
    why: "LibreChat's answer to a real refresh token whose session ended (logout)",
  },
  {
    step: 'a refresh cookie that no longer works leads to the login page', method: 'POST',
    path: /^\/api\/auth\/refresh$/, status: 403,
    why: "LibreChat's answer to a cookie that is not a refresh token (and to a retry after a 401)",
  },
  ...AGENT_EXPECTED,
];

/**
 * Requests that get no answer at all. Any error but `net::ERR_ABORTED` fails the run: the server
 * dropped the connection or cut a body short, or a policy blocked the request. `ERR_ABORTED` is
 * the page's own doing (a navigation, a media element that has enough, an AbortController): for
 * a read (GET) that is normal, the next page reads again; a write cut short may be lost, so it
 * must be listed here, with the step (when only there), method, path pattern and why.
 */
const EXPECTED_ABORTED = [
  {
    step: 'logout', method: 'POST', path: /^\/api\/auth\/refresh$/,
    why: 'the refresh the client tries after the refused queries, cancelled by the move to the login page',
  },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

const calls = [];
const failed = [];
const problems = [];
let current = 'start';

/** A browser context as LibreChat's users get it, minus the service worker (it would cache). */
async function newPage() {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 }, baseURL: BASE, serviceWorkers: 'block', reducedMotion: 'reduce',
  });
  // Every CSP violation is reported to the test.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (e) => problems.push(`${current}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().startsWith('CSP violation')) problems.push(`${current}: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    const url = new URL(r.url());
    failed.push({ step: current, method: r.method(), url: r.url(), path: url.pathname, error: r.failure()?.errorText });
  });
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/api/')) return;
    calls.push({ step: current, method: r.request().method(), path: url.pathname, query: url.search, status: r.status() });
  });
  return page;
}

async function step(name, f) {
  current = name;
  const t = Date.now();
  await f();
  console.log(`ok - ${name} (${Date.now() - t} ms)`);
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const message = (page, n) => page.getByRole('group', { name: `Message ${n}` });
const sidebarConvo = (page, title) => page.getByRole('button', { name: `${title} conversation` }).first();

async function send(page, text) {
  await page.getByRole('textbox', { name: 'Message input' }).fill(text);
  await page.getByRole('textbox', { name: 'Message input' }).press('Enter');
}

/**
 * Opens a menu with `opener` (from the keyboard: a notification may lie over the button for a
 * few seconds) and clicks `item` in it. A chat that just opened may still re-render and close
 * the menu: then, as a person would, open it again; but only once the opener says the menu is
 * closed, since pressing it while a slow menu opens would close that one.
 */
async function fromMenu(opener, item) {
  for (let attempt = 1; ; attempt++) {
    if ((await opener.getAttribute('aria-expanded')) !== 'true') await opener.press('Enter');
    try {
      await item.waitFor({ state: 'visible', timeout: 5_000 });
      await item.click({ timeout: 3_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/**
 * Opens the chat titled `title` from the sidebar, which leads to `url`. A page that just
 * mounted (a new chat) may still reset the route as the click lands: then, as a person would,
 * click again (opening a chat twice is harmless).
 */
async function openFromSidebar(page, title, url) {
  for (let attempt = 1; ; attempt++) {
    await sidebarConvo(page, title).click();
    try {
      await page.waitForURL(url, { timeout: 5_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

async function convoMenu(page, title, action) {
  const convo = sidebarConvo(page, title);
  await convo.hover();
  await convo.getByRole('button', { name: 'Conversation Menu Options' }).click();
  await page.getByRole('menuitem', { name: action }).click();
}

async function openSettings(page, tab) {
  await page.getByRole('button', { name: 'Account Settings' }).click();
  await page.getByTestId('nav-settings').click();
  if (tab) await page.getByRole('tab', { name: tab }).click();
}

/**
 * Makes a chat titled UNTAGGED for ADA, through the API with a session of its own (so the
 * page's session and its cookie are left alone).
 */
async function untaggedChat() {
  const api = await request.newContext({ baseURL: BASE });
  try {
    const login = await api.post('api/auth/login', { data: { email: ADA.email, password: PW } });
    if (!login.ok()) throw new Error(`login for the setup: ${login.status()}`);
    const { token } = await login.json();
    const made = await api.post('api/convos/update', {
      headers: { authorization: `Bearer ${token}` },
      data: { arg: { conversationId: '0b6f9a8e-3c1d-4e2f-9a7b-5c4d3e2f1a0b', title: UNTAGGED, endpoint: 'openAI', model: 'gpt-4o' } },
    });
    if (!made.ok()) throw new Error(`the untagged chat: ${made.status()}`);
  } finally {
    await api.dispose();
  }
}

/** Registers `who` through the API (LibreChat's registration signs nobody in). */
async function register(who) {
  const api = await request.newContext({ baseURL: BASE });
  try {
    const made = await api.post('api/auth/register', {
      data: { name: who.name, email: who.email, password: PW, confirm_password: PW },
    });
    if (!made.ok()) throw new Error(`registering ${who.email}: ${made.status()}`);
  } finally {
    await api.dispose();
  }
}

async function login(page, who, backupCode) {
  await page.goto('login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(PW);
  await page.getByTestId('login-button').click();
  if (backupCode) {
    // A backup code: the authenticator's code of enrolment may still be the current one, and
    // a code is accepted only once.
    await page.waitForURL(/\/login\/2fa/);
    await page.getByRole('button', { name: 'Use Backup Code Instead' }).click();
    await page.locator('input').first().fill(backupCode);
    await page.getByTestId('login-button').click();
  }
  await page.waitForURL(/\/c\/new$/);
  await page.getByRole('textbox', { name: 'Message input' }).waitFor();
}

try {
  const page = await newPage();
  let convoUrl;
  let secret;
  let backupCodes = [];

  await step('register', async () => {
    await page.goto('register');
    await page.getByTestId('name').fill(ADA.name);
    await page.getByTestId('email').fill(ADA.email);
    await page.getByTestId('password').fill(PW);
    await page.getByTestId('confirm_password').fill(PW);
    await shot(page, 'register');
    const registered = page.waitForResponse((r) => r.url().endsWith('/api/auth/register'));
    await page.getByRole('button', { name: 'Submit registration' }).click();
    if ((await registered).status() !== 200) throw new Error('registration was refused');
    // LibreChat's registration signs nobody in: the client says so, then (after a few
    // seconds) goes on to the login page, which the next step opens itself.
    await page.getByRole('alert').or(page.getByText(/success/i)).first().waitFor();
  });

  await step('login', async () => {
    await login(page, ADA);
    await shot(page, 'new-chat');
  });

  await step('chat: the answer streams in, rendered', async () => {
    const stream = page.waitForResponse((r) => r.url().includes('/api/agents/chat/stream/'));
    await send(page, 'Hello **world** about tides');
    const frames = (await (await stream).text()).split('\n').filter((l) => l.startsWith('data:'));
    if (frames.length < 4) throw new Error(`the answer came in ${frames.length} event(s), not as a stream`);
    await message(page, 2).locator('strong', { hasText: 'world' }).waitFor();
    await message(page, 2).getByText('Echo: Hello').waitFor();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    convoUrl = page.url();
  });

  await step('live title: the sidebar names the chat without a reload', async () => {
    await sidebarConvo(page, TITLE).waitFor();
    await shot(page, 'chat');
  });

  await step('reload keeps the conversation', async () => {
    await page.reload();
    await message(page, 2).getByText('Echo: Hello').waitFor();
    await sidebarConvo(page, TITLE).waitFor();
  });

  await step('open from the sidebar', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    await openFromSidebar(page, TITLE, convoUrl);
    await message(page, 2).getByText('Echo: Hello').waitFor();
  });

  await step('regenerate makes a second answer', async () => {
    await message(page, 2).getByRole('button', { name: 'Regenerate' }).click();
    await message(page, 2).getByRole('status').filter({ hasText: '2 / 2' }).waitFor();
    await message(page, 2).getByText('Echo: Hello').waitFor();
  });

  await step('edit a question and run it again', async () => {
    await message(page, 1).getByRole('button', { name: 'Edit' }).click();
    const editor = message(page, 1).getByRole('region', { name: 'Edit message' }).getByRole('textbox');
    await editor.fill('Edited question about tides');
    await message(page, 1).getByRole('button', { name: 'Update & rerun' }).click();
    await message(page, 2).getByText('Echo: Edited question about tides').waitFor();
    await message(page, 1).getByRole('status').filter({ hasText: '2 / 2' }).waitFor();
  });

  await step('search finds the message', async () => {
    await page.getByRole('textbox', { name: 'Search messages' }).fill('edited');
    await page.waitForURL(/\/search/);
    await page.getByText('Echo: Edited question about tides').first().waitFor();
    await shot(page, 'search');
    await page.getByRole('button', { name: 'Clear search' }).click();
    await openFromSidebar(page, TITLE, convoUrl);
    await message(page, 2).getByText('Echo: Edited question about tides').waitFor();
  });

  await step('presets: save one, then find it in the list', async () => {
    await fromMenu(page.getByRole('button', { name: 'Presets' }), page.getByRole('button', { name: 'Save As Preset' }));
    const save = page.getByRole('dialog', { name: 'Save As Preset' });
    await save.getByRole('textbox', { name: 'Preset Name' }).fill('Tidal preset');
    await save.getByRole('button', { name: 'Save' }).click();
    await save.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Presets' }).click();
    await page.getByRole('button', { name: /^Tidal preset/ }).waitFor();
    await shot(page, 'presets');
    await page.keyboard.press('Escape');
  });

  await step('bookmarks: a new bookmark on this chat, then the sidebar filtered by it', async () => {
    // A second chat, without the bookmark, which the filter must hide (made through the API:
    // another chat from the fake provider would have the same title).
    await untaggedChat();
    await page.reload();
    await sidebarConvo(page, UNTAGGED).waitFor();
    await sidebarConvo(page, TITLE).waitFor();
    await fromMenu(page.getByRole('button', { name: 'Add Bookmarks' }), page.getByText('New Bookmark'));
    const dialog = page.getByRole('dialog').last();
    await dialog.getByLabel('Title').fill('Oceans');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('navigation').getByRole('button', { name: 'Bookmarks' }).click();
    await page.getByRole('menu', { name: 'Bookmarks', exact: true }).getByRole('menuitemcheckbox', { name: 'Oceans' }).click();
    await sidebarConvo(page, UNTAGGED).waitFor({ state: 'detached' });
    await sidebarConvo(page, TITLE).waitFor();
    await page.keyboard.press('Escape');
  });

  await projectSteps({ page, step, shot, convoMenu, title: TITLE });

  await step('fork: the visible messages into a new conversation', async () => {
    await page.goto(convoUrl);
    await fromMenu(
      message(page, 2).getByRole('button', { name: 'Open Fork Menu' }),
      page.getByRole('button', { name: 'Visible messages only', exact: true }),
    );
    await page.waitForURL((u) => /\/c\/[0-9a-f-]{36}$/.test(u.pathname) && u.href !== convoUrl);
    await message(page, 2).getByText('Echo: Edited question about tides').waitFor();
  });

  let shareUrl;
  await step('share a link', async () => {
    await page.goto(convoUrl);
    await message(page, 2).waitFor();
    await fromMenu(page.getByRole('button', { name: 'Export/Share' }), page.getByRole('menuitem', { name: 'Share' }));
    await page.getByRole('button', { name: 'Create a shared link' }).click();
    const link = page.getByTestId('shared-link-url');
    await link.waitFor();
    shareUrl = await link.inputValue();
    if (!shareUrl.includes('/share/')) throw new Error(`not a share link: ${shareUrl}`);
    await page.getByRole('button', { name: 'Close' }).last().click();
  });

  await step('the shared link, opened logged out', async () => {
    const reader = await newPage();
    await reader.goto(shareUrl);
    await reader.getByText('Echo: Edited question about tides').waitFor();
    await reader.getByText(TITLE).first().waitFor();
    await shot(reader, 'shared');
    await reader.context().close();
  });

  await step('archive, and find it among the archived chats', async () => {
    await convoMenu(page, TITLE, 'Archive');
    await page.getByRole('button', { name: 'Account Settings' }).click();
    await page.getByRole('menuitem', { name: 'Archived chats' }).click();
    const archived = page.getByRole('dialog').last();
    await archived.getByRole('link', { name: new RegExp(TITLE) }).waitFor();
    await shot(page, 'archived');
    await archived.getByRole('button', { name: 'Unarchive conversation' }).first().click();
    await archived.getByRole('link', { name: new RegExp(TITLE) }).waitFor({ state: 'detached' });
    await archived.getByRole('button', { name: 'Close' }).last().click();
  });

  await step('delete a conversation', async () => {
    const before = await page.getByRole('button', { name: `${TITLE} conversation` }).count();
    await convoMenu(page, TITLE, 'Delete');
    await page.getByRole('dialog').last().getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(
      ([name, n]) => [...document.querySelectorAll('[aria-label]')].filter((e) => e.getAttribute('aria-label') === name).length < n,
      [`${TITLE} conversation`, before],
    );
  });

  await step('every settings tab opens', async () => {
    await openSettings(page);
    const tabs = page.getByRole('tab');
    const names = await tabs.allTextContents();
    if (names.length < 4) throw new Error(`only ${names.length} settings tabs: ${names}`);
    for (const name of names) {
      await page.getByRole('tab', { name: name.trim() }).click();
      await page.getByRole('tabpanel').first().waitFor();
      await shot(page, `settings-${name.trim().toLowerCase().replace(/\W+/g, '-')}`);
    }
    await page.getByRole('button', { name: 'Close Settings' }).click();
  });

  await step('two-factor enrolment', async () => {
    await openSettings(page, 'Account');
    await page.getByRole('button', { name: 'Enable 2FA' }).click();
    await page.getByRole('button', { name: 'Generate QR Code' }).click();
    secret = await page.getByLabel('Secret Key').inputValue();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('input[data-input-otp]').fill(totp(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await shot(page, '2fa-backup-codes');
    // LibreChat's client lets setup complete once the backup codes were saved.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download Backup Codes' }).click(),
    ]);
    backupCodes = readFileSync(await download.path(), 'utf8').match(/\b[0-9a-f]{8,}\b/gi) || [];
    if (backupCodes.length < 5) throw new Error(`the backup codes file holds ${backupCodes.length} codes`);
    await page.getByRole('button', { name: 'Complete Setup' }).click();
    await page.getByRole('button', { name: 'Disable 2FA' }).waitFor();
    await page.getByRole('button', { name: 'Close Settings' }).click();
  });

  await step('import a LibreChat export', async () => {
    const file = join(tmpdir(), `librechat-import-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({
      conversationId: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b', title: 'Whale songs', endpoint: 'openAI', model: 'gpt-4o',
      messages: [
        { messageId: 'w1', parentMessageId: '00000000-0000-0000-0000-000000000000', text: 'Why do whales sing?', sender: 'User', isCreatedByUser: true },
        { messageId: 'w2', parentMessageId: 'w1', text: 'To find each other across the ocean.', sender: 'gpt-4o', isCreatedByUser: false },
      ],
    }));
    await openSettings(page, 'Data & Privacy');
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Import' }).click(),
    ]);
    await chooser.setFiles(file);
    await page.getByText('Conversations imported successfully').waitFor();
    await page.getByRole('button', { name: 'Close Settings' }).click();
    await sidebarConvo(page, 'Whale songs').click();
    await message(page, 2).getByText('To find each other across the ocean.').waitFor();
  });

  // KaTeX sets inline styles the page's CSP must allow (a violation fails the run).
  await step('rendering: math and code, within the page CSP', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    await send(page, 'Math $$x^2 + y^2$$ and code:\n\n```js\nlet a = 1;\n```');
    await message(page, 2).locator('.katex').first().waitFor();
    await message(page, 2).getByText('let a = 1;').waitFor();
    await shot(page, 'rendering');
  });

  await compareSteps({ page, step, shot, send, message });
  await fileSteps({ page, step, shot, send, message, fromMenu });
  await memorySteps({ page, step, shot, send, message });
  await avatarSteps({ page, step, shot, openSettings });
  await promptSteps({ page, step, shot });
  await artifactSteps({ page, step, shot, send, message, fromMenu, newPage });
  await agentSteps({ page, step, shot, send, message, newPage, login, register });
  await handoffSteps({ page, step, shot, send, message });
  await actionSteps({ page, step, shot, send, message });
  await citationSteps({ page, step, shot, send, message, fromMenu });
  await mcpSteps({ page, step, shot, send, message });

  let ended;
  await step('logout', async () => {
    ended = (await page.context().cookies()).find((c) => c.name === 'refreshToken');
    if (!ended) throw new Error('no refresh cookie before logout');
    await page.getByRole('button', { name: 'Account Settings' }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    // The login page, loaded: the next step's navigation must not cut its loading short.
    await page.getByTestId('login-button').waitFor();
  });

  await step('login again, with a backup code as the second factor', async () => {
    await login(page, ADA, backupCodes[0]);
    await sidebarConvo(page, 'Whale songs').waitFor();
    await page.context().close();
  });

  await step('a refresh cookie that no longer works leads to the login page', async () => {
    // The cookie of the session logout ended, and one that is no token at all.
    for (const value of [ended.value, 'not.a.token']) {
      const other = await newPage();
      await other.context().addCookies([{ ...ended, value }]);
      await other.goto('c/new');
      await other.waitForURL(/\/login/);
      await other.getByTestId('login-button').waitFor();
      await other.context().close();
    }
  });
} catch (e) {
  problems.push(`${current}: ${e.stack || e}`);
  const open = browser.contexts().flatMap((c) => c.pages());
  for (const [i, p] of open.entries()) await p.screenshot({ path: join(ARTIFACTS, `failure-${i}.png`) }).catch(() => {});
} finally {
  await browser.close();
}

// Every /api answer a person's browser got on these flows, failures first.
const used = new Set();
for (const c of calls) {
  if (c.status < 400) continue;
  const allowed = EXPECTED.find((x) => (!x.step || x.step === c.step) && x.method === c.method
    && x.path.test(c.path) && x.status === c.status);
  if (allowed) used.add(allowed);
  else problems.push(`${c.step}: ${c.method} ${c.path}${c.query} answered ${c.status}`);
}
const routes = new Map();
for (const c of calls) {
  const route = `${c.method} ${c.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|[A-Za-z0-9_-]{21,}/g, ':id')}`;
  routes.set(route, [...new Set([...(routes.get(route) || []), c.status])]);
}
console.log(`# ${calls.length} /api calls, ${routes.size} distinct routes:`);
for (const [route, statuses] of [...routes].sort()) console.log(`#   ${route} ${statuses.join(',')}`);
for (const x of [...EXPECTED, ...EXPECTED_ABORTED]) {
  if (!used.has(x)) console.log(`# allow-list entry not needed this run: ${x.method} ${x.path} ${x.status ?? 'aborted'}`);
}
// Every request that got no answer at all.
for (const f of failed) {
  if (f.error === 'net::ERR_ABORTED' && f.method === 'GET') continue;
  const allowed = f.error === 'net::ERR_ABORTED' && EXPECTED_ABORTED.find((x) => (!x.step || x.step === f.step)
    && x.method === f.method && x.path.test(f.path));
  if (allowed) used.add(allowed);
  else problems.push(`${f.step}: ${f.method} ${f.url} got no answer: ${f.error}`);
}
console.log(`# ${failed.length} request(s) got no answer in the browser`);
if (problems.length) {
  console.log(problems.map((p) => `not ok - ${p}`).join('\n'));
  process.exit(1);
}
