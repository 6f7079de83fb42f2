// An agent's actions in the builder, as people use them: a document that does not read is
// refused with the server's words and nothing is saved; an action added from a YAML document
// with an API key lists its operation and stays after a reload; a chat with the agent, whose
// model `action-model` calls `getPet` with the id 7 (tests/e2e.rs scripts it, and serves the
// API at ACTION_API), shows the API's answer in the tool step, again after a reload; the
// action edited without giving the key again still calls with it (tests/e2e.rs checks what
// the API got); deleted once confirmed, not before. Last, an OAuth action: the agent's model
// `oauth-model` calls its `getMe`, the step asks the person to sign in, the sign-in happens in
// a window of its own (the fake API approves at once and sends the person back to the server),
// and the waiting call goes on with the person's token. Called by agents.mjs.

const API = process.env.ACTION_API;
const KEY = process.env.ACTION_KEY;
/** The OAuth client the fake API's authorization server knows (tests/support/fake_api.rs). */
const CLIENT_ID = process.env.ACTION_CLIENT_ID;
const CLIENT_SECRET = process.env.ACTION_CLIENT_SECRET;
const NAME = 'Pet finder';
const DOMAIN = 'http://127.0.0.1';
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

/** The fake API's `getMe`, which needs a token from its authorization server, in YAML. */
const meSpec = () => `openapi: 3.0.0
info: {title: Me, version: '1'}
servers:
  - url: ${API}/v1
paths:
  /me:
    get:
      operationId: getMe
      summary: Who the signed-in person is
`;

/** The fake API's `getPet`, in YAML. */
const spec = (summary) => `openapi: 3.0.0
info: {title: Pets, version: '1'}
servers:
  - url: ${API}/v1
paths:
  /pets/{id}:
    get:
      operationId: getPet
      summary: ${summary}
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
`;

export async function actionSteps({ page, step, shots, send, lastAnswer }) {
  if (!API || !KEY || !CLIENT_ID || !CLIENT_SECRET) throw new Error('ACTION_API, ACTION_KEY and ACTION_CLIENT_* are not set (tests/e2e.rs sets them)');
  let agent;
  const item = () => page.locator('li.action-item', { hasText: DOMAIN });
  const saveAction = async (dialog) => {
    const saved = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents\/actions\//));
    await dialog.getByRole('button', { name: 'Save action' }).click();
    return saved;
  };

  /** A chat with the agent: the getPet step, done, shows what the API answered. */
  async function petStep() {
    const stepEl = lastAnswer(page).locator('details.tool-step[data-state="done"]', { hasText: 'Ran getPet' });
    await stepEl.waitFor();
    await lastAnswer(page).getByText(/Results: .*Rex/).waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await stepEl.locator('summary').click();
    const output = JSON.parse(await stepEl.locator('pre.tool-output').textContent());
    if (output.id !== '7' || output.name !== 'Rex') throw new Error(`the step shows ${JSON.stringify(output)}`);
    if (JSON.parse(await stepEl.locator('pre.tool-args').textContent()).id !== '7') throw new Error('the step shows other arguments');
  }

  await step('actions: a document that does not read is refused with the server\'s words', async () => {
    await page.goto('agents/new');
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'action-model' });
    const created = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents$/));
    await page.getByRole('button', { name: 'Create agent' }).click();
    agent = await (await created).json();
    await page.waitForURL(new RegExp(`/agents/${agent.id}$`));
    const section = page.getByRole('region', { name: 'Actions', exact: true });
    await section.getByText('No actions yet.').waitFor();
    await section.getByRole('button', { name: 'Add action' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an action' });
    await dialog.getByLabel('OpenAPI document (JSON or YAML)').fill('openapi: [3.0.0\n  paths: {');
    const res = await saveAction(dialog);
    if (res.status() !== 400) throw new Error(`a broken document was answered ${res.status()}`);
    const message = (await res.json()).message;
    if (!message.startsWith('Error parsing OpenAPI spec')) throw new Error(`the server said ${message}`);
    await dialog.getByRole('alert').getByText(message).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('region', { name: 'Actions', exact: true }).getByText('No actions yet.').waitFor();
  });

  await step('actions: added from a YAML document with an API key; its operation is listed', async () => {
    await page.getByRole('button', { name: 'Add action' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an action' });
    await dialog.getByLabel('OpenAPI document (JSON or YAML)').fill(spec('One pet by id'));
    await dialog.getByLabel('Authentication').selectOption({ label: 'API key' });
    await dialog.getByLabel('API key', { exact: true }).fill(KEY);
    await dialog.getByLabel('Send it as').selectOption({ label: 'A header of its own' });
    await dialog.getByLabel('Header or parameter name').fill('X-Api-Key');
    await dialog.getByLabel('Privacy policy URL').fill('https://example.com/privacy');
    await shots(page, 'agent-action-form');
    const res = await saveAction(dialog);
    const sent = res.request().postDataJSON();
    if ('functions' in sent || sent.metadata.api_key !== KEY) throw new Error(`the action was sent as ${JSON.stringify(sent)}`);
    const [saved, action] = await res.json();
    if (res.status() !== 200 || JSON.stringify(saved.tools) !== '["getPet_action_127---0---0---1"]' || action.metadata.domain !== DOMAIN) {
      throw new Error(`the action was saved as ${res.status()} ${JSON.stringify([saved, action])}`);
    }
    await dialog.waitFor({ state: 'detached' });
    await item().getByText('API key · getPet').waitFor();
    await shots(page, 'agent-actions');
    // The agent's form keeps the action's tool when it is saved after.
    await page.getByLabel('Description').fill('Finds pets.');
    const patched = page.waitForResponse((r) => isApi(r, 'PATCH', new RegExp(`^/api/agents/${agent.id}$`)));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const body = (await patched).request().postDataJSON();
    if (!body.tools.includes('getPet_action_127---0---0---1')) throw new Error(`the form sent the tools ${JSON.stringify(body.tools)}`);
    await page.reload();
    await item().getByText('getPet').waitFor();
  });

  await step('actions: a chat calls the operation; the step shows the API\'s answer, after a reload too', async () => {
    await page.getByRole('link', { name: 'Start a chat' }).click();
    await page.waitForURL(/\/c\/new\?agent_id=/);
    await page.getByRole('heading', { name: NAME }).waitFor();
    await send(page, 'Find the pet number 7.');
    await petStep();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shots(page, 'agent-action-chat');
    await page.reload();
    await petStep();
  });

  await step('actions: edited without the key again, it still calls with it', async () => {
    await page.goto(`agents/${agent.id}`);
    await item().getByRole('button', { name: `Edit the action on ${DOMAIN}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit the action on ${DOMAIN}` });
    const text = dialog.getByLabel('OpenAPI document (JSON or YAML)');
    if (!(await text.inputValue()).includes('One pet by id')) throw new Error('the form does not show the document');
    const key = dialog.getByLabel('API key', { exact: true });
    if (await key.inputValue() !== '' || !(await key.getAttribute('placeholder')).includes('leave empty')) throw new Error('the key box is not empty');
    if (await dialog.getByLabel('Header or parameter name').inputValue() !== 'X-Api-Key') throw new Error('the header name is not shown');
    await text.fill(spec('A pet, by its id'));
    const res = await saveAction(dialog);
    const sent = res.request().postDataJSON();
    if (res.status() !== 200 || sent.action_id !== (await res.json())[1].action_id || 'api_key' in sent.metadata) {
      throw new Error(`the edit was sent as ${JSON.stringify(sent)} and answered ${res.status()}`);
    }
    await dialog.waitFor({ state: 'detached' });
    await item().getByText('getPet').waitFor();
    await page.getByRole('link', { name: 'Start a chat' }).click();
    await page.waitForURL(/\/c\/new\?agent_id=/);
    await send(page, 'And the pet number 7 again?');
    await petStep();
  });

  await step('actions: deleted once confirmed', async () => {
    await page.goto(`agents/${agent.id}`);
    const remove = item().getByRole('button', { name: `Delete the action on ${DOMAIN}` });
    let deletes = 0;
    const count = (r) => { if (r.method() === 'DELETE' && new URL(r.url()).pathname.startsWith('/api/agents/actions/')) deletes += 1; };
    page.on('request', count);
    const asked = new Promise((resolve) => page.once('dialog', (d) => resolve(d.dismiss())));
    await remove.click();
    await asked;
    await item().waitFor();
    page.once('dialog', (d) => d.accept());
    const deleted = page.waitForResponse((r) => isApi(r, 'DELETE', /^\/api\/agents\/actions\//));
    await remove.click();
    if ((await deleted).status() !== 200) throw new Error('the action was not deleted');
    page.off('request', count);
    // One delete: the dismissed question sent none.
    if (deletes !== 1) throw new Error(`${deletes} deletes were sent`);
    await page.getByRole('region', { name: 'Actions', exact: true }).getByText('No actions yet.').waitFor();
    await page.reload();
    await page.getByRole('region', { name: 'Actions', exact: true }).getByText('No actions yet.').waitFor();
    const agentNow = await page.evaluate(async (id) => {
      const { get } = await import(new URL('js/api.js', document.baseURI).href);
      return get(`api/agents/${encodeURIComponent(id)}/expanded`);
    }, agent.id);
    if ((agentNow.tools || []).length || (agentNow.actions || []).length) throw new Error(`the agent still has ${JSON.stringify(agentNow)}`);
  });

  await step('actions: an OAuth action asks to sign in; signed in in a window of its own, the call goes on', async () => {
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'oauth-model' });
    const patched = page.waitForResponse((r) => isApi(r, 'PATCH', new RegExp(`^/api/agents/${agent.id}$`)));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    if ((await patched).status() !== 200) throw new Error('the agent was not saved');
    // The page drawn again from the server: the saved model, and an Actions section to use.
    await page.reload();
    const model = page.getByLabel('Model', { exact: true });
    await page.waitForFunction((el) => el.selectedOptions[0]?.textContent === 'oauth-model', await model.elementHandle());
    await page.getByRole('region', { name: 'Actions', exact: true }).getByText('No actions yet.').waitFor();
    await page.getByRole('button', { name: 'Add action' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an action' });
    await dialog.getByLabel('OpenAPI document (JSON or YAML)').fill(meSpec());
    await dialog.getByLabel('Authentication').selectOption({ label: 'OAuth' });
    await dialog.getByLabel('Client ID').fill(CLIENT_ID);
    await dialog.getByLabel('Client secret').fill(CLIENT_SECRET);
    await dialog.getByLabel('Authorization URL').fill(`${API}/oauth/authorize`);
    await dialog.getByLabel('Token URL').fill(`${API}/oauth/token`);
    await dialog.getByLabel('Scope').fill('read');
    const res = await saveAction(dialog);
    if (res.status() !== 200) throw new Error(`the OAuth action was answered ${res.status()}`);
    await dialog.waitFor({ state: 'detached' });
    await item().getByText('OAuth · getMe').waitFor();

    await page.getByRole('link', { name: 'Start a chat' }).click();
    await page.waitForURL(/\/c\/new\?agent_id=/);
    await send(page, 'Who am I?');
    const waiting = lastAnswer(page).locator('details.tool-step[data-state="running"]', { hasText: 'Running getMe' });
    const signIn = waiting.getByRole('button', { name: `Sign in to ${new URL(API).host}` });
    await signIn.waitFor();
    await shots(page, 'agent-action-sign-in');
    const opened = page.context().waitForEvent('page');
    await signIn.click();
    const popup = await opened;
    try {
      await popup.waitForURL(/\/oauth\/success\?serverName=/);
      await popup.getByRole('heading', { name: 'Signed in' }).waitFor();
    } finally {
      await popup.close();
    }
    const done = lastAnswer(page).locator('details.tool-step[data-state="done"]', { hasText: 'Ran getMe' });
    await done.waitFor();
    if (await done.getByRole('button', { name: /^Sign in to / }).count()) throw new Error('the sign-in button stayed');
    await lastAnswer(page).getByText(/Results: .*oauth-person/).waitFor();
  });
}
