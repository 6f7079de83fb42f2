// LibreChat's own client showing the sources of an answer, as a person sees them: a web search
// answer (the model `tide-web`, scripted in tests/librechat_client.rs to call `web_search`,
// which reads the fake web's pages) shows LibreChat's sources chips and its inline citations,
// which link to the pages, also after a reload; a file search answer over a document uploaded
// "for File Search" (the model `tide-files` calls `file_search`) shows the file's citation,
// which opens LibreChat's file preview, loaded from the download route.

/** A line of the document that the file search finds and the preview shows. */
export const CITED_MARKER = 'Spring tides at Brest reach seven metres (marker 6464)';
const DOC = { name: 'brest-tides.md', mimeType: 'text/markdown', buffer: Buffer.from(`# Brest\n\n${CITED_MARKER}.\n`) };

/** `promise`, kept from failing the process should the step fail before it is awaited. */
function waiting(promise) {
  promise.catch(() => {});
  return promise;
}

/**
 * Picks `model` of the OpenAI endpoint in the header's model selector, by its search. A chat
 * that just opened may still re-render and close the selector as it opens: then, as a person
 * would, open it again (only while it is closed, since a click on an open one closes it).
 */
async function chooseChatModel(page, model) {
  const dialog = page.getByRole('dialog', { name: 'Select a model' });
  for (let attempt = 1; ; attempt++) {
    if (!(await dialog.isVisible())) await page.getByRole('button', { name: 'Select a model' }).first().click();
    try {
      await dialog.getByRole('combobox').fill(model, { timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  await dialog.getByRole('option', { name: new RegExp(model) }).first().click();
  await page.getByRole('button', { name: 'Select a model' }).filter({ hasText: model }).first().waitFor();
}

/** Turns on the composer's tool `item` from its Tools menu; its toggle (`toggle`) shows. */
async function toggleTool(page, item, toggle) {
  await page.getByRole('button', { name: 'Tools Options' }).click();
  await page.getByRole('menuitemcheckbox', { name: item }).or(page.getByRole('menuitem', { name: item })).first().click();
  await page.keyboard.press('Escape');
  await page.getByRole('checkbox', { name: toggle, checked: true }).waitFor();
}

/** The answer shows the web search's sources: the chips, and inline citations to the pages. */
async function webSourcesShown(answer) {
  await answer.getByRole('button', { name: /5 sources$/ }).first().waitFor();
  const cited = answer.locator('a[href$="/article"]').filter({ hasText: '127.0.0.1' });
  await cited.first().waitFor();
}

/** A 16 × 16 PNG, standing in for the favicons LibreChat's client asks Google for. */
const FAVICON = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGNkYPjPQApgIkn1qIahqgEAHcYBH4WA2mAAAAAASUVORK5CYII=', 'base64');

export async function citationSteps({ page, step, shot, send, message, fromMenu }) {
  // LibreChat's client shows each web source's favicon from Google's favicon service, which
  // the page's policy allows here through ALLOWED_IMAGE_HOSTS (tests/librechat_client.rs);
  // the test answers for Google, offline.
  await page.context().route(/^https:\/\/www\.google\.com\/s2\/favicons/, (r) => r.fulfill({ contentType: 'image/png', body: FAVICON }));
  await step('citations: a web search answer shows its sources and citations', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    await chooseChatModel(page, 'tide-web');
    await toggleTool(page, 'Web Search', 'Search');
    const sent = waiting(page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/')));
    await send(page, 'When are spring tides?');
    const body = (await sent).postDataJSON();
    if (body.ephemeralAgent?.web_search !== true) throw new Error(`sent ${JSON.stringify(body.ephemeralAgent)}`);
    await webSourcesShown(message(page, 2));
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shot(page, 'citations-web');
  });

  await step('citations: after a reload the web sources are still shown', async () => {
    await page.reload();
    await webSourcesShown(message(page, 2));
  });

  await step('citations: a file search answer cites the document, which opens from its citation', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    await chooseChatModel(page, 'tide-files');
    // LibreChat's client offers "Upload for File Search" in a chat once File Search is on.
    await toggleTool(page, 'File Search', 'File Search');
    const uploaded = waiting(page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/files'));
    const chooser = waiting(page.waitForEvent('filechooser'));
    await fromMenu(page.getByRole('button', { name: 'Attach File Options' }), page.getByRole('menuitem', { name: 'Upload for File Search' }));
    await (await chooser).setFiles(DOC);
    const res = await uploaded;
    if (res.status() !== 200) throw new Error(`the upload answered ${res.status()}`);
    const stored = await res.json();
    if (!stored.embedded) throw new Error(`stored ${JSON.stringify(stored)}`);
    await send(page, 'How high are spring tides at Brest?');
    const answer = message(page, 2);
    const citation = answer.getByRole('button', { name: DOC.name, exact: true });
    await citation.first().waitFor();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shot(page, 'citations-file');
    const download = waiting(page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/files/download/')));
    await citation.first().click();
    const got = await download;
    if (got.status() !== 200) throw new Error(`the download answered ${got.status()}`);
    if (!new URL(got.url()).pathname.endsWith(`/${stored.file_id}`)) throw new Error(`downloaded ${got.url()}`);
    const preview = page.getByRole('dialog').filter({ hasText: DOC.name });
    await preview.getByText(CITED_MARKER).first().waitFor();
    await shot(page, 'citations-file-preview');
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
  });

  await step('citations: after a reload the file citation is still shown', async () => {
    await page.reload();
    await message(page, 2).getByRole('button', { name: DOC.name, exact: true }).first().waitFor();
  });
}
