// Artifacts in the bundled app: the fake model echoes a question holding an HTML artifact whose
// script tries to read the app's page, its cookies and storage, and to call its API. The
// answer shows a card; opening it runs the page in the sandboxed frame, where every attempt
// fails (its origin is opaque); the code view copies and edits it, the edit is saved through
// `POST /api/messages/artifact/:messageId` and is there after a reload. Shared, the answer
// shows the card to a visitor without an account, and it opens read-only in the same sandbox.
// Called by app.test.mjs.

const PROBE = `<!DOCTYPE html>
<html><body>
<h1 id="status">Artifact ran</h1>
<ul id="results"></ul>
<script>
const out = (k, v) => { const li = document.createElement('li'); li.id = k; li.textContent = k + ': ' + v; document.getElementById('results').append(li); };
try { out('parent', 'read ' + parent.document.title); } catch (e) { out('parent', 'blocked'); }
try { out('cookie', 'read ' + JSON.stringify(document.cookie)); } catch (e) { out('cookie', 'blocked'); }
try { out('storage', 'read ' + localStorage.length); } catch (e) { out('storage', 'blocked'); }
out('origin', String(self.origin));
fetch('/api/user', { credentials: 'include' }).then((r) => out('api', 'status ' + r.status)).catch(() => out('api', 'blocked'));
</script>
</body></html>`;
const QUESTION = `Make a probe page\n:::artifact{identifier="probe" type="text/html" title="Probe page"}\n\`\`\`\`html\n${PROBE}\n\`\`\`\`\n:::`;

const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

export async function artifactSteps({ page, step, shots, send, lastAnswer, pickModel, newPage }) {
  const panel = page.getByRole('complementary', { name: 'Artifact: Probe page' });
  const frame = page.frameLocator('iframe.artifact-frame').frameLocator('iframe');
  let convo;

  await step('artifacts: an answer with one shows its card, and it runs sandboxed', async () => {
    await page.goto('c/new');
    await pickModel(page, 'gpt-4o');
    await send(page, QUESTION);
    const card = lastAnswer(page).getByRole('button', { name: 'Open artifact: Probe page' });
    await card.waitFor();
    await lastAnswer(page).getByText('Echo: Make a probe page').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    convo = new URL(page.url()).pathname.split('/').pop();
    await card.click();
    await panel.waitFor();
    // Sandboxed, scripts only: no same origin, and the page is the server's sandbox page.
    const outer = panel.locator('iframe.artifact-frame');
    if ((await outer.getAttribute('sandbox')) !== 'allow-scripts') throw new Error('the frame is not sandboxed to scripts alone');
    if (!(await outer.getAttribute('src')).endsWith('artifact-sandbox.html')) throw new Error('the frame is not the sandbox page');
    await frame.locator('#status', { hasText: 'Artifact ran' }).waitFor();
    for (const [id, want] of [['parent', 'blocked'], ['cookie', 'blocked'], ['storage', 'blocked'], ['origin', 'null'], ['api', 'blocked']]) {
      await frame.locator(`#${id}`).waitFor();
      const got = await frame.locator(`#${id}`).textContent();
      if (got !== `${id}: ${want}`) throw new Error(`inside the artifact, ${got} (expected ${want})`);
    }
    await shots(page, 'artifact');
  });

  await step('artifacts: the code view copies it and an edit is saved', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await panel.getByRole('button', { name: 'Code' }).click();
    await panel.locator('pre.artifact-code', { hasText: 'Artifact ran' }).waitFor();
    await panel.getByRole('button', { name: 'Copy artifact' }).click();
    await page.getByText('Artifact copied').waitFor();
    if ((await page.evaluate(() => navigator.clipboard.readText())) !== PROBE) throw new Error('the copy is not the artifact');
    await panel.getByRole('button', { name: 'Edit' }).click();
    const area = panel.getByLabel('Artifact code');
    await area.fill(PROBE.replace('Artifact ran', 'Artifact edited'));
    const saved = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/messages\/artifact\/[^/]+$/));
    await panel.getByRole('button', { name: 'Save' }).click();
    const res = await saved;
    if (res.status() !== 200) throw new Error(`the edit answered ${res.status()}`);
    const body = await res.json();
    if (body.conversationId !== convo || !body.text.includes('Artifact edited')) throw new Error(`the edit answered ${JSON.stringify(body)}`);
    // Back to the preview, running the new code.
    await frame.locator('#status', { hasText: 'Artifact edited' }).waitFor();
    await panel.getByRole('button', { name: 'Close artifact' }).click();
    await panel.waitFor({ state: 'hidden' });
  });

  await step('artifacts: the edit is stored (read again after a reload)', async () => {
    const read = page.waitForResponse((r) => isApi(r, 'GET', new RegExp(`^/api/messages/${convo}$`)));
    await page.reload();
    const messages = await (await read).json();
    const answer = messages.find((m) => !m.isCreatedByUser);
    if (!answer?.text.includes('<h1 id="status">Artifact edited</h1>')) throw new Error('the stored answer lacks the edit');
    if (!answer.content?.[0]?.text?.includes('Artifact edited')) throw new Error('the stored content lacks the edit');
    await lastAnswer(page).getByRole('button', { name: 'Open artifact: Probe page' }).click();
    await frame.locator('#status', { hasText: 'Artifact edited' }).waitFor();
  });

  await step('artifacts: a shared link shows the card, opened read-only in the sandbox', async () => {
    // This chat's menu (the fake model gives several chats the same title).
    await page.locator('li.convo.active').getByRole('button', { name: /^Actions for / }).click();
    await page.getByRole('menuitem', { name: 'Share' }).click();
    const link = await page.getByLabel('Shared link').inputValue();
    await page.getByRole('dialog', { name: 'Share' }).getByRole('button', { name: 'Close', exact: true }).click();
    const visitor = await newPage();
    if ((await visitor.context().cookies()).length) throw new Error('the visitor has cookies');
    const writes = [];
    visitor.on('request', (r) => r.method() !== 'GET' && writes.push(`${r.method()} ${new URL(r.url()).pathname}`));
    const read = visitor.waitForResponse((r) => isApi(r, 'GET', /^\/api\/share\/[^/]+$/));
    await visitor.goto(link);
    const shared = await (await read).json();
    const answer = shared.messages.find((m) => !m.isCreatedByUser);
    if (!answer?.text.includes('<h1 id="status">Artifact edited</h1>')) throw new Error('the shared answer lacks the artifact');
    if (answer.htmlParts?.length !== 1) throw new Error(`the shared answer's pieces: ${JSON.stringify(answer.htmlParts)}`);
    const shown = visitor.locator('article.msg.assistant');
    await shown.getByText('Echo: Make a probe page').waitFor();
    await shown.getByRole('button', { name: 'Open artifact: Probe page' }).click();
    const seen = visitor.getByRole('complementary', { name: 'Artifact: Probe page' });
    await seen.waitFor();
    const outer = seen.locator('iframe.artifact-frame');
    const sandbox = (await outer.getAttribute('sandbox')) ?? '';
    if (sandbox !== 'allow-scripts' || sandbox.includes('allow-same-origin')) throw new Error(`the shared frame's sandbox is "${sandbox}"`);
    if (!(await outer.getAttribute('src')).endsWith('artifact-sandbox.html')) throw new Error('the shared frame is not the sandbox page');
    const inner = visitor.frameLocator('iframe.artifact-frame').frameLocator('iframe');
    await inner.locator('#status', { hasText: 'Artifact edited' }).waitFor();
    for (const [id, want] of [['parent', 'blocked'], ['storage', 'blocked'], ['origin', 'null'], ['api', 'blocked']]) {
      const got = await inner.locator(`#${id}`).textContent();
      if (got !== `${id}: ${want}`) throw new Error(`inside the shared artifact, ${got} (expected ${want})`);
    }
    await shots(visitor, 'share-artifact');
    // The code is there to read and copy, with nothing to edit or save it with.
    await seen.getByRole('button', { name: 'Code' }).click();
    await seen.locator('pre.artifact-code', { hasText: 'Artifact edited' }).waitFor();
    for (const name of ['Edit', 'Save']) {
      if (await seen.getByRole('button', { name }).count()) throw new Error(`the shared panel has a ${name} button`);
    }
    if (await seen.locator('textarea').count()) throw new Error('the shared panel has an editor');
    await seen.getByRole('button', { name: 'Close artifact' }).click();
    await seen.waitFor({ state: 'hidden' });
    if (writes.length) throw new Error(`the shared page wrote: ${writes.join(', ')}`);
    await visitor.context().close();
  });
}
