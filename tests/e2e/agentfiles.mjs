// An agent's own documents in the builder (LibreChat's "File Context"), as people use them: a
// text document uploaded in the Files section is listed with its name, type and size, stays
// after a reload, and goes to the model with the agent's instructions in a chat
// (tests/e2e.rs checks the system prompt for CONTEXT_MARKER); a picture, which has no text
// here, is refused with the server's words and nothing is listed; the document, removed, is
// gone after a reload too. Called by agents.mjs with the agent it built.

export const CONTEXT_MARKER = '(marker 7117)';
const DOC = 'tides.txt';
const TEXT = `High water at Brest: 06:12 and 18:31 ${CONTEXT_MARKER}.`;
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

export async function agentFileSteps({ page, step, shots, send, lastAnswer, pickModel, picture }, agent) {
  const files = page.getByRole('region', { name: 'Files' });
  const listed = () => files.getByRole('list', { name: 'The agent\'s files' });

  await step('agents: a document for its File Context, listed, read by the model in a chat', async () => {
    await page.goto(`agents/${agent.id}`);
    await listed().getByText('No files yet.').waitFor();
    const versions = await page.locator('li.version').count();
    const uploaded = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/files$/));
    await page.getByLabel('Choose documents for the agent').setInputFiles({ name: DOC, mimeType: 'text/plain', buffer: Buffer.from(TEXT) });
    const res = await uploaded;
    // The server's words for a file taken for an agent (a message's file gets none).
    const file = await res.json();
    if (res.status() !== 200 || file.message !== 'Agent file uploaded and processed successfully') {
      throw new Error(`the upload was answered ${res.status()} ${JSON.stringify(file)}`);
    }
    const item = listed().locator('li.agent-file', { hasText: DOC });
    await item.getByText(`Text · ${TEXT.length} B`).waitFor();
    // The upload made a version of the agent: the versions are drawn again with it.
    await page.locator('li.version').nth(versions).waitFor();
    // A save of the form after it keeps the document (and the `context` the upload added to
    // the agent's tools).
    const saved = page.waitForResponse((r) => isApi(r, 'PATCH', new RegExp(`^/api/agents/${agent.id}$`)));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const after = await (await saved).json();
    if (!after.tools?.includes('context') || !after.tool_resources?.context?.file_ids?.includes(file.file_id)) {
      throw new Error(`the save left the agent as ${JSON.stringify(after)}`);
    }
    await page.reload();
    await item.waitFor();
    await files.scrollIntoViewIfNeeded();
    await shots(page, 'agent-files');

    await page.goto('c/new');
    await pickModel(page, agent.name);
    await page.getByRole('heading', { name: agent.name }).waitFor();
    const started = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents\/chat\/agents$/));
    await send(page, 'When is high water at Brest?');
    if ((await started).request().postDataJSON().agent_id !== agent.id) throw new Error('the chat was not sent to the agent');
    await lastAnswer(page).getByText('Results: 42').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('agents: a picture is refused with the server\'s words; the document is removed', async () => {
    await page.goto(`agents/${agent.id}`);
    const item = listed().locator('li.agent-file', { hasText: DOC });
    await item.waitFor();
    const refused = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/files$/));
    await page.getByLabel('Choose documents for the agent').setInputFiles({ name: 'moon.png', mimeType: 'image/png', buffer: await picture(page, 40, 40) });
    if ((await refused).status() !== 415) throw new Error('the picture was not refused with 415');
    await files.getByRole('alert').filter({ hasText: 'moon.png: File type image/png is not supported for text parsing.' }).waitFor();
    if (await listed().locator('li.agent-file').count() !== 1) throw new Error('the refused picture is listed');

    const removed = page.waitForResponse((r) => isApi(r, 'DELETE', /^\/api\/files$/));
    await item.getByRole('button', { name: `Remove ${DOC}` }).click();
    const res = await removed;
    const body = res.request().postDataJSON();
    if (res.status() !== 200 || body.agent_id !== agent.id || body.tool_resource !== 'context' || body.files?.length !== 1) {
      throw new Error(`the removal was ${res.status()} for ${JSON.stringify(body)}`);
    }
    await listed().getByText('No files yet.').waitFor();
    await page.reload();
    await listed().getByText('No files yet.').waitFor();
  });
}
