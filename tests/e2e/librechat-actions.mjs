// LibreChat's own client with an OAuth action, as people set one up: the Agent Builder makes an
// agent, its Tool Library's "Create new…" → "Actions" takes an OpenAPI document and, under
// "Authentication", OAuth (client, authorization and token URLs, scope), and saves it. In a chat
// the agent's model (`tide-oauth`, scripted in tests/librechat_client.rs to call the action's
// `getMe`) calls it; the client shows LibreChat's "Sign-in to ..." button on the waiting call;
// the sign-in runs in a window of its own (the fake API approves at once and sends the person
// back to this server, which ends on LibreChat's "Authentication Successful" page), and the
// call goes on with the person's token. The Rust test checks the API got that token.

import { builder, chooseModel } from './librechat-agents.mjs';

const API = process.env.ACTION_API;
const CLIENT_ID = process.env.ACTION_CLIENT_ID;
const CLIENT_SECRET = process.env.ACTION_CLIENT_SECRET;
export const ACCOUNT = { name: 'Tide account', instructions: 'Say whose tide account this is (marker 5656).' };
export const ACCOUNT_MODEL = 'tide-oauth';
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

/** The fake API's `getMe` (tests/support/fake_api.rs), which needs a token from its own OAuth server. */
const spec = () => JSON.stringify({
  openapi: '3.0.0',
  info: { title: 'Tide account', version: '1' },
  servers: [{ url: `${API}/v1` }],
  paths: { '/me': { get: { operationId: 'getMe', summary: 'Who the signed-in person is' } } },
}, null, 2);

export async function actionSteps({ page, step, shot, send, message }) {
  if (!API || !CLIENT_ID || !CLIENT_SECRET) throw new Error('ACTION_API and ACTION_CLIENT_* are not set (tests/librechat_client.rs sets them)');
  let agent;

  await step('actions: the Tool Library adds an OAuth action to a new agent', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    const form = await builder(page);
    const choose = form.getByRole('combobox', { name: 'Agent', exact: true });
    if (!(await choose.textContent()).includes('Create New Agent')) {
      await form.getByRole('button', { name: 'Create New Agent' }).click();
      await choose.filter({ hasText: 'Create New Agent' }).waitFor();
    }
    await form.getByRole('textbox', { name: 'Agent name' }).fill(ACCOUNT.name);
    await form.getByRole('textbox', { name: 'Instructions' }).fill(ACCOUNT.instructions);
    await chooseModel(page, form, ACCOUNT_MODEL, /^(Select a model|gpt-4o|tide-calc|tide-route)$/);
    const made = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents$/));
    await form.getByRole('button', { name: 'Create' }).click();
    agent = await (await made).json();
    await page.getByText(`Successfully created ${ACCOUNT.name}`).first().waitFor();

    await form.getByRole('button', { name: 'Add tools' }).click();
    const library = page.getByRole('dialog', { name: 'Tool Library' });
    await library.getByRole('button', { name: 'Create new…' }).click();
    await page.getByRole('menuitem', { name: 'Actions' }).click();
    const editor = page.getByRole('dialog', { name: 'New action' });
    // LibreChat's authentication dialog: OAuth and its fields, then Done.
    await editor.getByRole('button', { name: /^None/ }).click();
    const auth = page.getByRole('dialog', { name: 'Authentication' });
    await auth.getByRole('radio', { name: 'OAuth' }).click();
    await auth.getByLabel('Client ID').fill(CLIENT_ID);
    await auth.getByLabel('Client Secret').fill(CLIENT_SECRET);
    await auth.getByLabel('Authorization URL').fill(`${API}/oauth/authorize`);
    await auth.getByLabel('Token URL').fill(`${API}/oauth/token`);
    await auth.getByLabel('Scope').fill('read');
    await auth.getByRole('button', { name: 'Done' }).click();
    await auth.waitFor({ state: 'hidden' });
    await editor.getByLabel('Schema', { exact: true }).fill(spec());
    await editor.getByText('getMe', { exact: true }).waitFor();
    await shot(page, 'agent-oauth-action');
    const saved = page.waitForResponse((r) => isApi(r, 'POST', new RegExp(`^/api/agents/actions/${agent.id}$`)));
    await editor.getByRole('button', { name: 'Create', exact: true }).click();
    const res = await saved;
    const [updated, action] = await res.json();
    if (res.status() !== 200 || action.metadata?.auth?.type !== 'oauth' || !updated.tools?.some((t) => t.startsWith('getMe_action_'))) {
      throw new Error(`saving the action answered ${res.status()} ${JSON.stringify([updated, action])}`);
    }
    if (JSON.stringify(action).includes(CLIENT_SECRET)) throw new Error('the client secret came back');
    await editor.waitFor({ state: 'hidden' });
    await library.getByRole('button', { name: 'Close' }).click();
    await library.waitFor({ state: 'hidden' });
  });

  await step('actions: the call asks to sign in; signed in in a window of its own, it goes on', async () => {
    const form = await builder(page);
    await form.getByRole('button', { name: 'Select Agent' }).click();
    await page.getByRole('button', { name: 'Select a model' }).filter({ hasText: ACCOUNT.name }).waitFor();
    await send(page, 'Whose tide account is this?');
    const answer = message(page, 2);
    const signIn = answer.getByRole('button', { name: /^Sign-in to / });
    await signIn.waitFor();
    await shot(page, 'agent-oauth-sign-in');
    const opened = page.context().waitForEvent('page');
    await signIn.click();
    const popup = await opened;
    // LibreChat's page says so, then closes itself.
    await Promise.race([
      popup.getByText('Authentication Successful').waitFor(),
      popup.waitForEvent('close'),
    ]);
    if (!popup.isClosed()) await popup.close();
    await answer.getByText(/Results: .*oauth-person/).waitFor();
    if (await signIn.count()) throw new Error('the sign-in button stayed');
    // The side panel back on the chat history, as the steps after these expect it.
    await page.getByRole('button', { name: 'Chat History' }).first().click();
    await form.waitFor({ state: 'hidden' });
  });
}
