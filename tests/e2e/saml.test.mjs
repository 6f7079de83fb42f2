// SAML's HTTP-POST binding in a real browser, across sites: the server is reached as
// `localhost`, SimpleSAMLphp as `127.0.0.1` (another site), as with any real IdP. The IdP's
// page posts the answer cross-site, a POST no SameSite=Lax cookie goes with; the server holds
// it and sends the browser on to a GET, which carries the cookie that binds the sign-in to
// this browser. Started by tests/e2e.rs, which passes BASE_URL.

import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
if (!BASE) throw new Error('BASE_URL is not set (run through `cargo test --test e2e`)');
// How long a step may wait for the page: a bound on a broken step, not a speed check. CI runs
// the suites side by side on two cores, where the browser can take tens of seconds to parse a
// large chunk it loads late (KaTeX, the artifacts' editor).
const TIMEOUT = 60_000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

let current = 'start';
async function step(name, f) {
  current = name;
  const t = Date.now();
  await f();
  console.log(`ok - ${name} (${Date.now() - t} ms)`);
}

try {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const posted = [];
  const resumed = [];
  page.on('request', (r) => {
    if (!r.url().includes('/oauth/saml/callback')) return;
    (r.method() === 'POST' ? posted : resumed).push(r);
  });

  await step('SAML through another site signs the person in', async () => {
    await page.goto('login');
    await page.getByRole('link', { name: 'Continue with SAML' }).click();
    // SimpleSAMLphp's own login page, on the other site.
    await page.locator('input[name="username"]').fill('alice');
    await page.locator('input[name="password"]').fill('alicepw');
    await page.locator('input[name="password"]').press('Enter');
    await page.waitForURL(/\/c\/new$/);
    await page.locator('.side-bottom .who', { hasText: 'Alice Example' }).waitFor();
  });

  await step('the cross-site POST carried no sign-in cookie; the GET after it did', async () => {
    if (posted.length !== 1 || resumed.length !== 1) {
      throw new Error(`expected one POST and one GET of the callback, saw ${posted.length} and ${resumed.length}`);
    }
    const post = (await posted[0].allHeaders()).cookie || '';
    if (post.includes('librechat_sso=')) {
      throw new Error(`the browser sent the Lax cookie with a cross-site POST: ${post}`);
    }
    const get = (await resumed[0].allHeaders()).cookie || '';
    if (!get.includes('librechat_sso=') || !get.includes('librechat_sso_post=')) {
      throw new Error(`the GET after the POST lacks our cookies: ${get}`);
    }
  });

  await browser.close();
} catch (e) {
  console.error(`FAILED at "${current}": ${e.stack || e}`);
  await browser.close();
  process.exit(1);
}
