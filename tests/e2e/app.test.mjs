// The web app in a real browser: Playwright drives Debian's chromium against the real server
// and a fake OpenAI provider, both started by tests/e2e.rs, which passes BASE_URL. Every
// step does what a person does (click, type, read the screen); screenshots of each main
// screen, light and dark, at 1280, 360 and 1920 pixels wide, go to tests/e2e/artifacts/.

import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { agentSteps } from './agents.mjs';
import { artifactSteps } from './artifact.mjs';
import { artifactPreviewSteps } from './artifact-previews.mjs';
import { citationSteps } from './citations.mjs';
import { compareSteps } from './compare.mjs';
import { attachmentSteps } from './attachments.mjs';
import { avatarSteps } from './avatar.mjs';
import { mcpSteps } from './mcp.mjs';
import { memorySteps } from './memories.mjs';
import { projectSteps } from './projects.mjs';
import { promptSteps } from './prompts.mjs';

const BASE = process.env.BASE_URL;
if (!BASE) throw new Error('BASE_URL is not set (run through `cargo test --test e2e`)');
const ARTIFACTS = process.env.ARTIFACTS_DIR || new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });
// How long a step may wait for the page: a bound on a broken step, not a speed check. CI runs
// the suites side by side on two cores, where the browser can take tens of seconds to parse a
// large chunk it loads late (KaTeX, the artifacts' editor).
const TIMEOUT = 60_000;
const PW = 'correct horse battery';
const NEW_PW = 'a new horse battery';
const NEWER_PW = 'a newer horse battery';
const ADMIN = { name: 'Ada Admin', email: 'ada@example.org' };
const OTHER = { name: 'Bo User', email: 'bo@example.org' };
const figures = {};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    // Playwright gives each launch a fresh temporary profile (its own --user-data-dir).
    '--disable-sync', '--no-first-run'],
});

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
const WIDE = { width: 1920, height: 1080 };

async function newPage(viewport = DESKTOP, options = {}) {
  // Reduced motion: screenshots never catch the drawer halfway.
  const context = await browser.newContext({ viewport, baseURL: BASE, reducedMotion: 'reduce', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (e) => {
    console.error(`page error: ${e.message}`);
    pageErrors.push(e.message);
  });
  return page;
}
const pageErrors = [];

let current = 'start';
async function step(name, f) {
  current = name;
  const t = Date.now();
  await f();
  console.log(`ok - ${name} (${Date.now() - t} ms)`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Screenshots of the page in light and dark, at desktop, phone and wide-screen width. */
async function shots(page, name) {
  const size = page.viewportSize();
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => { document.documentElement.dataset.theme = t; }, theme);
    for (const [label, vp] of [['desktop', DESKTOP], ['phone', PHONE], ['wide', WIDE]]) {
      await page.setViewportSize(vp);
      await page.waitForTimeout(50);
      await shot(page, `${name}-${theme}-${label}`);
    }
  }
  await page.setViewportSize(size);
  await page.evaluate(() => { document.documentElement.dataset.theme = localStorage.getItem('theme') || 'system'; });
}

function totp(secret, at = Date.now(), offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30) + offset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Fills in the registration form (open on `page`) and waits for the new chat. */
async function register(page, who) {
  await page.getByLabel('Full name').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(PW);
  await page.getByLabel('Confirm password').fill(PW);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/c\/new$/);
}

const lastAnswer = (page) => page.locator('article.msg.assistant').last();

async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

/** Chooses `model` in the picker, once the picker lists it (the list loads after the page). */
async function pickModel(page, model) {
  const select = page.getByLabel('Model', { exact: true });
  const exact = new RegExp(`^${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const option = select.locator('option').filter({ hasText: exact }).first();
  await option.waitFor({ state: 'attached' });
  await select.selectOption(await option.getAttribute('value'));
}

async function convoMenu(page, title, action) {
  await page.getByRole('button', { name: `Actions for ${title}` }).click();
  await page.getByRole('menuitem', { name: action }).click();
}

try {
  const page = await newPage();

  await step('a cold load is small and quick', async () => {
    let bytes = 0;
    page.on('requestfinished', async (r) => {
      const s = await r.sizes().catch(() => null);
      if (s) bytes += s.responseBodySize + s.responseHeadersSize;
    });
    await page.goto('login');
    await page.waitForSelector('body[data-ready="true"]');
    figures.timeToInteractiveMs = Math.round(await page.evaluate(() => performance.now()));
    await page.waitForLoadState('networkidle');
    figures.coldLoadBytes = bytes;
    await shots(page, 'login');
  });

  await step('register: the first user is the admin', async () => {
    await page.getByRole('link', { name: 'Sign up' }).click();
    await register(page, ADMIN);
    await page.getByRole('link', { name: 'Admin' }).waitFor();
  });

  await step('the terms of service must be accepted', async () => {
    const terms = page.getByRole('dialog', { name: 'Terms of Service' });
    await terms.locator('strong', { hasText: 'kind' }).waitFor();
    await page.keyboard.press('Escape');
    await terms.waitFor();
    await shots(page, 'terms');
    await terms.getByRole('button', { name: 'Accept' }).click();
    await terms.waitFor({ state: 'detached' });
  });

  await step('signed in, the app reads the whole configuration again', async () => {
    // A visitor's `/api/config` has no `interface.parameters`; the signed-in one says false.
    await page.getByRole('button', { name: 'Presets' }).waitFor();
    await page.getByRole('button', { name: 'Parameters' }).waitFor({ state: 'hidden' });
  });

  let convoUrl;
  await step('chat: the answer streams in, rendered', async () => {
    await pickModel(page, 'gpt-4o');
    await send(page, 'Hello **world**');
    await lastAnswer(page).getByText('Echo: Hello').waitFor();
    await lastAnswer(page).locator('strong', { hasText: 'world' }).waitFor();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    convoUrl = page.url();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await shots(page, 'chat');
  });

  await step('stop keeps what was generated', async () => {
    await pickModel(page, 'gated');
    await send(page, 'Please wait');
    await lastAnswer(page).getByText('part one').waitFor();
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await lastAnswer(page).getByRole('button', { name: 'Continue' }).waitFor();
    if (await lastAnswer(page).getByText('part two').count()) throw new Error('the answer went on after stop');
  });

  await step('regenerate makes a second version', async () => {
    await pickModel(page, 'gpt-4o');
    await lastAnswer(page).getByRole('button', { name: 'Regenerate' }).click();
    await lastAnswer(page).getByText('Echo: Please wait').waitFor();
    await lastAnswer(page).getByText('2 / 2').waitFor();
  });

  await step('navigate between versions', async () => {
    await lastAnswer(page).getByRole('button', { name: 'Previous version' }).click();
    await lastAnswer(page).getByText('part one').waitFor();
    await lastAnswer(page).getByText('1 / 2').waitFor();
    await lastAnswer(page).getByRole('button', { name: 'Next version' }).click();
    await lastAnswer(page).getByText('Echo: Please wait').waitFor();
  });

  await step('edit a question and resubmit', async () => {
    const question = page.locator('article.msg.user').last();
    await question.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Edit message').fill('Edited question about tides');
    await page.getByRole('button', { name: 'Save & Submit' }).click();
    await lastAnswer(page).getByText('Echo: Edited question about tides').waitFor();
    await page.locator('article.msg.user').last().getByText('2 / 2').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('reload keeps the conversation', async () => {
    await page.reload();
    await lastAnswer(page).getByText('Echo: Edited question about tides').waitFor();
  });

  await step('code blocks can be copied, math is typeset', async () => {
    await send(page, 'Code:\n\n```js\nlet x = 1;\n```\n\nand $x^2$');
    await lastAnswer(page).getByRole('button', { name: 'Copy code' }).waitFor();
    await lastAnswer(page).locator('math msup').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('a running answer is picked up again after a reload', async () => {
    await pickModel(page, 'gated');
    await send(page, 'Keep going');
    await lastAnswer(page).getByText('part one').waitFor();
    await page.reload();
    await lastAnswer(page).getByText('part one').waitFor();
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('a failed answer shows the error in place, with retry', async () => {
    await pickModel(page, 'server-error');
    await send(page, 'This will fail');
    await lastAnswer(page).getByRole('alert').getByText('This answer failed').waitFor();
    await lastAnswer(page).getByRole('button', { name: 'Retry' }).waitFor();
    await pickModel(page, 'gpt-4o');
    await lastAnswer(page).getByRole('button', { name: 'Retry' }).click();
    await lastAnswer(page).getByText('Echo: This will fail').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('search finds the message and opens it', async () => {
    await page.keyboard.press('Control+k');
    await page.keyboard.type('tides');
    const hit = page.locator('.search-results a.hit').first();
    await hit.locator('mark', { hasText: /tides/i }).waitFor();
    await shots(page, 'search');
    await hit.click();
    await page.locator('article.msg.highlight').getByText('Edited question about tides').waitFor();
    await page.getByLabel('Search messages').fill('');
  });

  let title;
  await step('rename', async () => {
    await page.goto(convoUrl);
    title = (await page.locator('li.convo.active .convo-link').textContent()).trim();
    await convoMenu(page, title, 'Rename');
    await page.getByLabel('Conversation title').fill('Tides research');
    await page.getByLabel('Conversation title').press('Enter');
    await page.locator('li.convo .convo-link', { hasText: 'Tides research' }).waitFor();
    title = 'Tides research';
    await page.reload();
    await page.locator('li.convo .convo-link', { hasText: 'Tides research' }).waitFor();
  });

  await step('a shared link opens without an account', async () => {
    await convoMenu(page, title, 'Share');
    const link = await page.getByLabel('Shared link').inputValue();
    await page.getByRole('button', { name: 'Close' }).click();
    const visitor = await newPage();
    await visitor.goto(link);
    await visitor.getByRole('heading', { name: 'Tides research' }).waitFor();
    await visitor.locator('.msg.assistant').getByText('Echo: Edited question about tides').waitFor();
    await shots(visitor, 'share');
    await visitor.context().close();
  });

  await step('change the password: the other sessions are signed out', async () => {
    const elsewhere = await newPage();
    await elsewhere.goto('login');
    await elsewhere.getByLabel('Email').fill(ADMIN.email);
    await elsewhere.getByLabel('Password').fill(PW);
    await elsewhere.getByRole('button', { name: 'Continue' }).click();
    await elsewhere.waitForURL(/\/c\/new$/);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Account' }).click();
    await page.getByLabel('Current password').fill(PW);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PW);
    await page.getByLabel('Confirm new password').fill(NEW_PW);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed. Other devices were signed out.').waitFor();
    await page.getByRole('button', { name: 'Close settings' }).click();
    // This window stays signed in; the other one finds its session gone.
    await page.reload();
    await lastAnswer(page).waitFor();
    await elsewhere.reload();
    await elsewhere.waitForURL(/\/login$/);
    await elsewhere.context().close();
    // A cookie that is no refresh token at all (403, as LibreChat answers) lands there too.
    const forged = await newPage();
    await forged.context().addCookies([{ name: 'refreshToken', value: 'not.a.token', url: BASE }]);
    await forged.goto('c/new');
    await forged.waitForURL(/\/login$/);
    await forged.context().close();
  });

  let secret;
  let backupCodes;
  await step('enable two-factor authentication', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await shots(page, 'settings');
    await page.getByRole('tab', { name: 'Security' }).click();
    await page.getByRole('button', { name: 'Enable two-factor authentication' }).click();
    // A sensitive change, right after signing in: tests/e2e.rs sets a REAUTH_WINDOW longer
    // than any run, so the server asks for no password here (the app's prompt for a code is
    // tried when the password is changed with two-factor on, and when the account is deleted).
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    if (await page.getByLabel('Your password').count()) throw new Error('a password was asked for within the window');
    secret = await page.locator('code.secret').getAttribute('data-secret');
    backupCodes = await page.locator('ul.backup-codes code').allTextContents();
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Two-factor authentication is on.').waitFor();
    await page.getByRole('button', { name: 'Close settings' }).click();
  });

  await step('log out, and log in with a code', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(NEW_PW);
    await page.getByRole('button', { name: 'Continue' }).click();
    // The confirming code's step is used up: the next step's code (within the allowed skew).
    await page.getByLabel('Authentication code').fill(totp(secret, Date.now(), 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/c\/new$/);
  });

  await step('change the password with two-factor on: the app asks for a code too', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Account' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByLabel('Current password').fill(NEW_PW);
    await settings.getByLabel('New password', { exact: true }).fill(NEWER_PW);
    await settings.getByLabel('Confirm new password').fill(NEWER_PW);
    await settings.getByLabel('Code from your authenticator app, or a backup code').fill(backupCodes[1]);
    await settings.getByRole('button', { name: 'Change password' }).click();
    await settings.getByText('Password changed. Other devices were signed out.').waitFor();
    await page.getByRole('button', { name: 'Close settings' }).click();
  });

  await step('import a ChatGPT export', async () => {
    const exported = [{
      title: 'Imported from ChatGPT', create_time: 1700000000, update_time: 1700000100,
      mapping: {
        root: { id: 'root', message: null, parent: null, children: ['u1'] },
        u1: { id: 'u1', parent: 'root', children: ['a1'], message: { id: 'u1', author: { role: 'user' }, create_time: 1700000001, content: { content_type: 'text', parts: ['What is a neap tide?'] } } },
        a1: { id: 'a1', parent: 'u1', children: [], message: { id: 'a1', author: { role: 'assistant' }, create_time: 1700000002, metadata: { model_slug: 'gpt-4o' }, content: { content_type: 'text', parts: ['A tide with the **least** range.'] } } },
      },
      current_node: 'a1',
    }];
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Data' }).click();
    await page.getByLabel('Conversations file to import').setInputFiles({ name: 'conversations.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.locator('.import-report').getByText(/1 conversation/).waitFor();
    await page.getByRole('button', { name: 'Close settings' }).click();
    await page.locator('li.convo .convo-link', { hasText: 'Imported from ChatGPT' }).click();
    await lastAnswer(page).locator('strong', { hasText: 'least' }).waitFor();
  });

  await step('a 5,000-message conversation opens quickly and loads earlier messages on scroll', async () => {
    const messages = [];
    let parent = '00000000-0000-0000-0000-000000000000';
    for (let i = 0; i < 5000; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      messages.push({ messageId: id, parentMessageId: parent, isCreatedByUser: i % 2 === 0, sender: i % 2 ? 'gpt-4o' : 'User',
        text: i % 2 ? `Answer number ${i} with **some** markdown.` : `Question number ${i}`, createdAt: new Date(1700000000000 + i * 1000).toISOString() });
      parent = id;
    }
    const file = { conversationId: '11111111-1111-4111-8111-111111111111', title: 'Very long chat', endpoint: 'openAI', messages };
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Data' }).click();
    await page.getByLabel('Conversations file to import').setInputFiles({ name: 'long.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.locator('.import-report').getByText(/1 conversation/).waitFor();
    await page.getByRole('button', { name: 'Close settings' }).click();
    const t = Date.now();
    await page.locator('li.convo .convo-link', { hasText: 'Very long chat' }).click();
    await lastAnswer(page).getByText('Answer number 4999').waitFor();
    await lastAnswer(page).locator('strong', { hasText: 'some' }).waitFor();
    figures.open5000MessagesMs = Date.now() - t;
    const shown = await page.locator('article.msg').count();
    if (shown > 200) throw new Error(`${shown} messages put on screen at once`);
    for (let i = 0; i < 5; i++) {
      await page.locator('.scroller').evaluate((el) => { el.scrollTop = 0; });
      await page.waitForTimeout(100);
    }
    const more = await page.locator('article.msg').count();
    if (more <= shown) throw new Error('scrolling up did not load earlier messages');
  });

  await step('an admin sets a banner', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    // The banner's own message box: the chat's composer, still there for a moment after the
    // click, is labelled "Message" too.
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await page.locator('.banner-form').getByLabel('Message', { exact: true }).fill('Maintenance on Sunday');
    await page.getByLabel('Also shown to people who are not signed in').check();
    await page.getByRole('button', { name: 'Save banner' }).click();
    // Public: on the login page too.
    const visitor = await newPage();
    await visitor.goto('login');
    await visitor.getByRole('region', { name: 'Announcement' }).getByText('Maintenance on Sunday').waitFor();
    await visitor.context().close();
    await page.reload();
    await page.getByRole('region', { name: 'Announcement' }).getByText('Maintenance on Sunday').waitFor();
    await page.getByRole('button', { name: 'Dismiss announcement' }).click();
    await page.reload();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    if (await page.getByRole('region', { name: 'Announcement' }).count()) throw new Error('a dismissed banner came back');
  });

  await step('an admin switches what users may do', async () => {
    const bookmarks = page.getByLabel('Users: Bookmarks');
    if (!(await bookmarks.isChecked())) throw new Error('USER starts with bookmarks');
    await bookmarks.uncheck();
    await page.getByText('Saved').first().waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    if (await page.getByLabel('Users: Bookmarks').isChecked()) throw new Error('the change was not kept');
    await page.getByLabel('Users: Bookmarks').check();
    await page.getByText('Saved').first().waitFor();
  });

  await step('the admin screen lists the groups (none yet, with how to make one)', async () => {
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
    await page.getByText('No groups yet').waitFor();
  });

  await step('an admin bans a user, who then cannot log in', async () => {
    const other = await newPage();
    await other.goto('register');
    await register(other, OTHER);
    await other.getByRole('dialog', { name: 'Terms of Service' }).getByRole('button', { name: 'Accept' }).click();
    if (await other.getByRole('link', { name: 'Admin' }).count()) throw new Error('a second user must not be an admin');

    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Search users').fill('bo@');
    const row = page.locator(`tr[data-email="${OTHER.email}"]`);
    await row.waitFor();
    await shots(page, 'admin');
    page.once('dialog', (d) => d.accept('60'));
    await row.getByRole('button', { name: `Ban ${OTHER.email}` }).click();
    await row.getByText(/Banned until/).waitFor();

    await other.getByRole('button', { name: 'Log out' }).click().catch(() => {});
    await other.goto('login');
    await other.getByLabel('Email').fill(OTHER.email);
    await other.getByLabel('Password').fill(PW);
    await other.getByRole('button', { name: 'Continue' }).click();
    await other.getByRole('alert').getByText(/ban/i).waitFor();
    await other.context().close();
  });

  await step('single sign-on: the OpenID button signs a new person in, then asks for their code', async () => {
    const visitor = await newPage();
    await visitor.goto('login');
    await visitor.getByRole('link', { name: 'Continue with OpenID' }).click();
    // The provider's own page.
    await visitor.locator('input[name="sub"]').fill('erin');
    await visitor.getByRole('button', { name: 'Authorize' }).click();
    await visitor.waitForURL(/\/c\/new$/);
    await visitor.getByRole('dialog', { name: 'Terms of Service' }).getByRole('button', { name: 'Accept' }).click();
    await visitor.locator('.side-bottom .who', { hasText: 'Erin OpenID' }).waitFor();
    // With two-factor on, signing in through the provider stops at the code.
    await visitor.getByRole('button', { name: 'Settings' }).click();
    await visitor.getByRole('tab', { name: 'Security' }).click();
    await visitor.getByRole('button', { name: 'Enable two-factor authentication' }).click();
    const erinSecret = await visitor.locator('code.secret').getAttribute('data-secret');
    await visitor.getByLabel('Code from the app').fill(totp(erinSecret));
    await visitor.getByRole('button', { name: 'Confirm' }).click();
    await visitor.getByText('Two-factor authentication is on.').waitFor();
    await visitor.getByRole('button', { name: 'Close settings' }).click();
    await visitor.getByRole('button', { name: 'Log out' }).click();
    await visitor.waitForURL(/\/login$/);
    await visitor.getByRole('link', { name: 'Continue with OpenID' }).click();
    await visitor.locator('input[name="sub"]').fill('erin');
    await visitor.getByRole('button', { name: 'Authorize' }).click();
    await visitor.waitForURL(/\/login\/2fa/);
    await visitor.getByLabel('Authentication code').fill(totp(erinSecret, Date.now(), 1));
    await visitor.getByRole('button', { name: 'Verify' }).click();
    await visitor.waitForURL(/\/c\/new$/);
    await visitor.locator('.side-bottom .who', { hasText: 'Erin OpenID' }).waitFor();
    await visitor.context().close();
  });

  await step('keyboard: Ctrl+Shift+O starts a new chat', async () => {
    await page.goto(convoUrl);
    await lastAnswer(page).waitFor();
    await page.keyboard.press('Control+Shift+O');
    await page.waitForURL(/\/c\/new$/);
  });

  await step('a phone-width window works: the sidebar is a drawer', async () => {
    await page.setViewportSize(PHONE);
    await page.getByRole('button', { name: 'Open sidebar' }).click();
    await page.locator('li.convo .convo-link', { hasText: 'Tides research' }).click();
    await lastAnswer(page).getByText('Echo: This will fail').waitFor();
    await page.setViewportSize(DESKTOP);
  });

  await attachmentSteps({ page, step, shot, shots, send, lastAnswer, pickModel });
  await memorySteps({ page, step, shot, send, lastAnswer, pickModel });
  await avatarSteps({ page, step, shot });
  await projectSteps({ page, step, shots, chatTitle: 'Tides research' });
  await artifactSteps({ page, step, shots, send, lastAnswer, pickModel, newPage });
  await artifactPreviewSteps({ page, step, shots, send, lastAnswer, pickModel, newPage });
  await compareSteps({ page, step, shots, send, lastAnswer, pickModel });
  await citationSteps({ page, step, shots, send, lastAnswer, pickModel, newPage });
  await mcpSteps({ page, step, shots, send, lastAnswer, pickModel, newPage, register });
  await promptSteps({ page, step, shots, newPage, register, pickModel, lastAnswer });
  await agentSteps({ page, step, shots, newPage, register, send, lastAnswer, pickModel });

  await step('delete the account: with two-factor on, the app asks for a code first', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Account' }).click();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Delete account' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByLabel('Authentication or backup code').fill(backupCodes[0]);
    await settings.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/login$/);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(NEWER_PW);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').getByText('Incorrect email or password.').waitFor();
  });

  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join('; ')}`);
  writeFileSync(join(ARTIFACTS, 'figures.json'), JSON.stringify(figures, null, 2));
  console.log(`figures: ${JSON.stringify(figures)}`);
  await browser.close();
} catch (e) {
  console.error(`FAILED at "${current}": ${e.stack || e}`);
  for (const ctx of browser.contexts()) {
    for (const [i, p] of ctx.pages().entries()) {
      await p.screenshot({ path: join(ARTIFACTS, `failure-${i}.png`) }).catch(() => {});
    }
  }
  await browser.close();
  process.exit(1);
}
