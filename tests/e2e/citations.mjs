// The bundled app with web search: the composer's "Web search" switch (shown because the
// server has a search provider and the role may search), a model that searches (the fake
// Serper, tests/support/fake_search.rs) and answers with the tool's text, which carries
// LibreChat's anchors (`\ue202turn0search0`, ...) and one that names no source (the query's
// `\ue202turn0search7`). The answer lists its sources and cites them by number, each citation
// a link to its source in a new tab; the anchor that names nothing is gone, and no anchor is
// left as raw text. The same after a reload and on a shared page; the sources show while the
// answer is still being written. Asked of two searching models side by side, each column
// lists and cites the sources its own search found, numbered from 1. With "File search" on,
// an attached document is uploaded for file search, and the answer of a model that searches
// it cites it by name: the citation saves the document. Called by app.test.mjs; SEARCH_WEB
// is the fake web the results link to.

const FILE = 'harbour-rules.md';
const FILE_FACT = 'The harbour gate closes two hours after high water (marker 9229).';
export const CITE_QUESTION = 'When are spring tides? (marker 8118)';
const isChat = (r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/');
const WEB = (process.env.SEARCH_WEB || '').replace(/\/$/, '');
const SOURCES = [
  ['Tides explained', `${WEB}/article`],
  ['Neap tides', `${WEB}/second`],
  ['King tide floods harbour', 'https://news.example/king'],
];

/** Checks the source list and citations of an answer (or of its column, whose text is `body`). */
async function cited(answer, body = '.msg-body') {
  const items = answer.locator('.source-list li');
  await items.nth(SOURCES.length - 1).waitFor();
  if ((await items.count()) !== SOURCES.length) throw new Error(`${await items.count()} sources listed`);
  for (const [i, [title, href]] of SOURCES.entries()) {
    const link = items.nth(i).getByRole('link', { name: title });
    const got = await link.evaluate((a) => [a.href, a.target, a.rel]);
    if (JSON.stringify(got) !== JSON.stringify([href, '_blank', 'noopener noreferrer'])) throw new Error(`source ${i + 1} links as ${got}`);
  }
  const cites = answer.locator(`${body} a.cite`);
  await cites.first().waitFor();
  const seen = await cites.evaluateAll((all) => all.map((a) => [a.textContent, a.href, a.title, a.target, a.rel]));
  for (const [n, title, href] of [[1, ...SOURCES[0]], [2, ...SOURCES[1]], [3, ...SOURCES[2]]]) {
    const c = seen.find((s) => s[0] === String(n));
    if (!c || c[1] !== href || !c[2].startsWith(title) || c[3] !== '_blank' || c[4] !== 'noopener noreferrer') {
      throw new Error(`citation ${n} is ${JSON.stringify(c)} among ${JSON.stringify(seen)}`);
    }
  }
  if (seen.some((s) => !['1', '2', '3'].includes(s[0]))) throw new Error(`citations ${JSON.stringify(seen)}`);
  const text = await answer.locator(body).innerText();
  if (/\\ue20|[\ue200-\ue204]|turn\d+(search|news|image)\d/.test(text)) throw new Error(`an anchor is left in ${JSON.stringify(text)}`);
}

/** An answer in two columns, each searched: each lists its sources and cites them. */
async function sideBySide(answer) {
  const columns = answer.locator('section.answer-column');
  await columns.nth(1).waitFor();
  if ((await columns.count()) !== 2) throw new Error(`the answer has ${await columns.count()} column(s)`);
  for (let i = 0; i < 2; i++) await cited(columns.nth(i), '.answer-column-body');
  // Not listed a second time under the whole answer.
  if (await answer.locator(':scope > .sources').count()) throw new Error('the sources are listed under the answer too');
}

export async function citationSteps({ page, step, shots, send, lastAnswer, pickModel, newPage }) {
  const webSearch = () => page.getByRole('group', { name: 'Tools' }).getByLabel('Web search');

  await step('citations: a web search answer lists its sources and cites them by number', async () => {
    await page.goto('c/new');
    await pickModel(page, 'search-model');
    await webSearch().check();
    const sent = page.waitForRequest(isChat);
    await send(page, CITE_QUESTION);
    const body = (await sent).postDataJSON();
    if (body.ephemeralAgent?.web_search !== true) throw new Error(`sent ephemeralAgent ${JSON.stringify(body.ephemeralAgent)}`);
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await cited(lastAnswer(page));
    await shots(page, 'citations');
  });

  await step('citations: after a reload, from the saved answer', async () => {
    await page.reload();
    await cited(lastAnswer(page));
  });

  await step('citations: a shared link shows the sources and citations too', async () => {
    const active = page.locator('li.convo.active');
    await active.locator('button[aria-label^="Actions for"]').click();
    await page.getByRole('menuitem', { name: 'Share' }).click();
    const link = await page.getByLabel('Shared link').inputValue();
    await page.getByRole('button', { name: 'Close' }).click();
    const visitor = await newPage();
    await visitor.goto(link);
    await cited(visitor.locator('.msg.assistant').last());
    await visitor.context().close();
  });

  await step('citations: the sources show while the answer is being written', async () => {
    await page.goto('c/new');
    await pickModel(page, 'search-held');
    await webSearch().check();
    await send(page, 'Which tides are highest?');
    // The model holds its answer after the search: the sources are there before it.
    await lastAnswer(page).locator('.source-list li').nth(2).waitFor();
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('citations: side by side, each column cites the sources its search found', async () => {
    await page.goto('c/new');
    await pickModel(page, 'search-model');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByLabel('Second model').selectOption({ label: 'search-model-2' });
    await webSearch().check();
    await send(page, 'Where are tides highest?');
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await sideBySide(lastAnswer(page));
    await shots(page, 'citations-side-by-side');
    await page.reload();
    await sideBySide(lastAnswer(page));
  });

  await step('citations: with File search on, an attached document is searched and cited', async () => {
    await page.goto('c/new');
    await pickModel(page, 'file-model');
    await page.getByRole('group', { name: 'Tools' }).getByLabel('File search').check();
    const upload = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/api/files'));
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles([{ name: FILE, mimeType: 'text/markdown', buffer: Buffer.from(`# Harbour\n\n${FILE_FACT}\n`) }]);
    // Stored for file search (LibreChat's `embedded`), not read into the message.
    const stored = await (await upload).json();
    if (stored.embedded !== true) throw new Error(`the document was stored as ${JSON.stringify(stored)}`);
    await page.locator('form.composer li.file-chip[data-state="done"]', { hasText: FILE }).waitFor();
    await send(page, 'When does the harbour gate close?');
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    const answer = lastAnswer(page);
    const source = answer.locator('.source-list li').getByRole('button', { name: FILE });
    await source.waitFor();
    const cite = answer.locator('.msg-body button.cite').first();
    await cite.waitFor();
    if (!(await cite.getAttribute('title')).startsWith(FILE)) throw new Error(`the citation is ${await cite.getAttribute('title')}`);
    await shots(page, 'file-citations');
    const text = await answer.locator('.msg-body').innerText();
    if (/\\ue20|[\ue200-\ue204]|turn\d+file\d/.test(text)) throw new Error(`an anchor is left in ${JSON.stringify(text)}`);
    // The citation saves the document, through the route that gives a person their files.
    const download = page.waitForEvent('download');
    await cite.click();
    const saved = await download;
    if (saved.suggestedFilename() !== FILE) throw new Error(`saved as ${saved.suggestedFilename()}`);
    const chunks = [];
    for await (const c of await saved.createReadStream()) chunks.push(c);
    if (!Buffer.concat(chunks).toString().includes(FILE_FACT)) throw new Error('the download is not the document');
    await page.reload();
    await lastAnswer(page).locator('.msg-body button.cite').first().waitFor();
  });
}
