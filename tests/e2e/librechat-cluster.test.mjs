// LibreChat's own web client (served from CLIENT_DIR by every replica) in a real browser, against
// two replicas behind HAProxy on one PostgreSQL and one Redis, started by tests/cluster_client.rs,
// which passes BASE_URL (HAProxy's address). HAProxy spreads the page's requests round robin, so
// the steps cross replicas all the time: a chat posted to one may be followed on the other, its
// title asked of either, a search answered by either's own index.
// Every /api call the page makes is recorded: any 4xx/5xx fails the run, and so does a request
// that got no answer (but a read the page itself cancelled), a page error or a CSP violation.
// Screenshots go to tests/e2e/artifacts/librechat-cluster/.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
if (!BASE) throw new Error('BASE_URL is not set (run through `cargo test --test cluster_client`)');
const ARTIFACTS = process.env.ARTIFACTS_DIR || new URL('./artifacts/librechat-cluster/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });
// How long a step may wait for the page: a bound on a broken step, not a speed check. CI runs
// the suites side by side on two cores, where the browser can take tens of seconds to parse a
// large chunk it loads late (KaTeX, the artifacts' editor).
const TIMEOUT = 60_000;
const PW = 'correct horse battery';
const ADA = { name: 'Ada Lovelace', email: 'ada@example.org' };
// The title the fake provider gives every chat.
const TITLE = 'Tides and the Moon';

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

const context = await browser.newContext({
  viewport: { width: 1280, height: 800 }, baseURL: BASE, serviceWorkers: 'block', reducedMotion: 'reduce',
});
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
  failed.push({ step: current, method: r.method(), url: r.url(), error: r.failure()?.errorText });
});
page.on('response', (r) => {
  const url = new URL(r.url());
  if (!url.pathname.startsWith('/api/')) return;
  calls.push({ step: current, method: r.request().method(), path: url.pathname, query: url.search, status: r.status() });
});

async function step(name, f) {
  current = name;
  const t = Date.now();
  await f();
  console.log(`ok - ${name} (${Date.now() - t} ms)`);
}

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const message = (n) => page.getByRole('group', { name: `Message ${n}` });
const sidebarConvo = (title) => page.getByRole('button', { name: `${title} conversation` }).first();

async function send(text) {
  await page.getByRole('textbox', { name: 'Message input' }).fill(text);
  await page.getByRole('textbox', { name: 'Message input' }).press('Enter');
}

try {
  let convoUrl;

  await step('register', async () => {
    await page.goto('register');
    await page.getByTestId('name').fill(ADA.name);
    await page.getByTestId('email').fill(ADA.email);
    await page.getByTestId('password').fill(PW);
    await page.getByTestId('confirm_password').fill(PW);
    const registered = page.waitForResponse((r) => r.url().endsWith('/api/auth/register'));
    await page.getByRole('button', { name: 'Submit registration' }).click();
    if ((await registered).status() !== 200) throw new Error('registration was refused');
    await page.getByRole('alert').or(page.getByText(/success/i)).first().waitFor();
  });

  await step('login', async () => {
    await page.goto('login');
    await page.getByLabel('Email').fill(ADA.email);
    await page.getByLabel('Password', { exact: true }).fill(PW);
    await page.getByTestId('login-button').click();
    await page.waitForURL(/\/c\/new$/);
    await page.getByRole('textbox', { name: 'Message input' }).waitFor();
  });

  await step('chat: the answer streams in, wherever HAProxy sends the requests', async () => {
    const stream = page.waitForResponse((r) => r.url().includes('/api/agents/chat/stream/'));
    await send('Hello **world** about the harbour tides');
    const frames = (await (await stream).text()).split('\n').filter((l) => l.startsWith('data:'));
    if (frames.length < 4) throw new Error(`the answer came in ${frames.length} event(s), not as a stream`);
    await message(2).locator('strong', { hasText: 'world' }).waitFor();
    await message(2).getByText('Echo: Hello').waitFor();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    convoUrl = page.url();
    await shot('chat');
  });

  await step('live title: the sidebar names the chat without a reload', async () => {
    await sidebarConvo(TITLE).waitFor();
  });

  await step('a second turn in the same chat', async () => {
    await send('And the neap tides?');
    await message(4).getByText('Echo: And the neap tides?').waitFor();
  });

  await step('reload keeps the conversation (read by either replica)', async () => {
    await page.reload();
    await message(2).getByText('Echo: Hello').waitFor();
    await message(4).getByText('Echo: And the neap tides?').waitFor();
    await sidebarConvo(TITLE).waitFor();
  });

  await step('search finds the message, whichever replica answers', async () => {
    // Twice, for two words: round robin most likely sends the searches to both replicas.
    for (const [i, word] of ['harbour', 'neap'].entries()) {
      // A search typed while the page still settles after the last one was cleared may be
      // dropped by the client: then, as a person would, type it again.
      for (let attempt = 1; ; attempt++) {
        await page.getByRole('textbox', { name: 'Search messages' }).fill(attempt === 1 ? word : '');
        if (attempt > 1) await page.getByRole('textbox', { name: 'Search messages' }).fill(word);
        try {
          await page.waitForURL(/\/search/, { timeout: 5_000 });
          break;
        } catch (e) {
          if (attempt === 3) throw e;
        }
      }
      await page.getByText(word === 'neap' ? 'Echo: And the neap tides?' : 'Echo: Hello').first().waitFor();
      await shot(`search-${i + 1}`);
      await page.getByRole('button', { name: 'Clear search' }).click();
      await page.waitForURL((u) => !u.pathname.includes('/search'));
      await page.getByRole('textbox', { name: 'Message input' }).waitFor();
    }
    // A page that just mounted may still reset the route as the click lands: then, as a
    // person would, click again.
    for (let attempt = 1; ; attempt++) {
      await sidebarConvo(TITLE).click();
      try {
        await page.waitForURL(convoUrl, { timeout: 5_000 });
        break;
      } catch (e) {
        if (attempt === 3) throw e;
      }
    }
    await message(2).getByText('Echo: Hello').waitFor();
  });
} catch (e) {
  problems.push(`${current}: ${e.stack || e}`);
  await page.screenshot({ path: join(ARTIFACTS, 'failure.png') }).catch(() => {});
} finally {
  await browser.close();
}

for (const c of calls) {
  if (c.status >= 400) problems.push(`${c.step}: ${c.method} ${c.path}${c.query} answered ${c.status}`);
}
// A read the page cancelled itself (a navigation) is normal; anything else got no answer.
for (const f of failed) {
  if (f.error === 'net::ERR_ABORTED' && f.method === 'GET') continue;
  problems.push(`${f.step}: ${f.method} ${f.url} got no answer: ${f.error}`);
}
console.log(`# ${calls.length} /api calls, ${failed.length} request(s) got no answer in the browser`);
if (problems.length) {
  console.log(problems.map((p) => `not ok - ${p}`).join('\n'));
  process.exit(1);
}
