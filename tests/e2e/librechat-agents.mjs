// LibreChat's own client with agents, as people use them: the side panel's Agent Builder
// makes one (a name, instructions, a model of the fake provider, the calculator added from its
// Tool Library), it is saved, and a chat with it shows the calculator's call (LibreChat's
// "Ran calculator", with the call's input and output) and the answer, all still there after a
// reload. Then it is shared with a second account through LibreChat's share dialog, and that
// account finds it in the Agent Marketplace and chats with it. The fake model `tide-calc`
// (tests/librechat_client.rs) calls the calculator with CALCULATION and answers
// `Results: <output>` once the result comes back; the Rust test checks what reached the model.
// Last, a text file is added under the builder's "File Context" and the agent saved: the next
// chat gives the model the file's text with the instructions (CONTEXT_MARKER).

/** The agent's name and instructions (the instructions are checked by tests/librechat_client.rs). */
export const AGENT = { name: 'Tide calculator', instructions: 'Add up tide heights with the calculator (marker 6262).' };
/** The model the agent runs on, scripted to call the calculator with `{input: CALCULATION}`. */
export const MODEL = 'tide-calc';
export const CALCULATION = '12 * 3.5';
const OUTPUT = '42';
const BOB = { name: 'Bob Babbage', email: 'bob@example.org' };
/** The File Context document; tests/librechat_client.rs looks for its marker in the system prompt. */
export const CONTEXT_MARKER = '(marker 2727)';
const CONTEXT_FILE = 'tide-table.txt';
const CONTEXT_TEXT = `Spring tides at Lisbon rise 3.5 metres ${CONTEXT_MARKER}.`;
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

/**
 * Answers LibreChat's own server gives as well on these steps (merged into the suite's list).
 */
export const AGENT_EXPECTED = [
  {
    method: 'GET', path: /^\/api\/mcp\/servers$/, status: 403,
    // The client asks for the MCP servers once an agent is chosen. They are not built here,
    // so no role has MCP_SERVERS.USE (as /api/roles says), and LibreChat refuses a role
    // without it the same way.
    why: 'MCP servers are off for every role',
  },
];

/** The builder's form, opening the Agent Builder panel unless it shows already. */
export async function builder(page) {
  const form = page.getByRole('form', { name: 'Agent configuration form' });
  if (!(await form.isVisible())) await page.getByRole('button', { name: 'Agent Builder' }).first().click();
  await form.waitFor();
  return form;
}

/**
 * The agent's model: the builder's model panel (its button names the model the form holds), its
 * provider and model lists, and back.
 */
export async function chooseModel(page, form, model = MODEL, current = 'Select a model') {
  await form.getByRole('button', { name: current }).click();
  await form.getByRole('combobox', { name: 'Provider' }).click();
  await page.getByRole('option', { name: 'OpenAI', exact: true }).click();
  await form.getByRole('combobox', { name: 'Model' }).click();
  await page.getByRole('option', { name: model, exact: true }).click();
  await form.getByRole('combobox', { name: 'Model' }).filter({ hasText: model }).waitFor();
  await form.getByRole('button', { name: 'Back to builder' }).click();
}

/** The calculator, from LibreChat's Tool Library (which lists GET /api/agents/tools). */
async function addCalculator(page, form) {
  const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/agents/tools');
  await form.getByRole('button', { name: 'Add tools' }).click();
  const library = page.getByRole('dialog', { name: 'Tool Library' });
  // The list may have come before the dialog opened (the client asks as the builder shows).
  await Promise.race([listed, library.getByRole('button', { name: /^Calculator/ }).waitFor()]);
  await library.getByRole('button', { name: /^Calculator/ }).click();
  await page.keyboard.press('Escape');
  await library.waitFor({ state: 'hidden' });
  await form.getByRole('listitem').filter({ hasText: 'Calculator' }).waitFor();
}

/** Waits until the input (or text area) `locator` holds `value`. */
async function holds(locator, value) {
  await locator.waitFor();
  await locator.page().waitForFunction(([el, v]) => el.value === v, [await locator.elementHandle(), value]);
}

/** The calculator's call in answer `n`: LibreChat's "Ran calculator", opened, with its input and output. */
async function toolCallShown(message, n) {
  const answer = message(n);
  const call = answer.getByRole('button', { name: 'Ran calculator' });
  await call.waitFor();
  if ((await call.getAttribute('aria-expanded')) !== 'true') await call.click();
  await answer.getByText(OUTPUT, { exact: true }).first().waitFor();
  const params = answer.getByRole('button', { name: 'Parameters' });
  if ((await params.getAttribute('aria-expanded')) !== 'true') await params.click();
  await answer.getByText(CALCULATION, { exact: true }).waitFor();
}

export async function agentSteps({ page, step, shot, send, message, newPage, login, register }) {
  const ada = (n) => message(page, n);
  let agent;
  let chatUrl;

  await step('agents: the Agent Builder makes one with the calculator', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    const form = await builder(page);
    await form.getByRole('textbox', { name: 'Agent name' }).fill(AGENT.name);
    await form.getByRole('textbox', { name: 'Instructions' }).fill(AGENT.instructions);
    await chooseModel(page, form);
    await addCalculator(page, form);
    const made = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/agents' && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Create' }).click();
    const res = await made;
    if (res.status() !== 201) throw new Error(`creating the agent answered ${res.status()}`);
    agent = await res.json();
    if (agent.model !== MODEL || agent.provider !== 'openAI' || agent.tools?.join() !== 'calculator'
      || agent.instructions !== AGENT.instructions) throw new Error(`the agent was stored as ${JSON.stringify(agent)}`);
    await page.getByText(`Successfully created ${AGENT.name}`).first().waitFor();
    await form.getByRole('combobox', { name: 'Agent' }).filter({ hasText: AGENT.name }).waitFor();
    await shot(page, 'agent-built');
  });

  await step('agents: a chat with it shows the calculator\'s call and the answer', async () => {
    const form = await builder(page);
    await form.getByRole('button', { name: 'Select Agent' }).click();
    await page.getByRole('button', { name: 'Select a model' }).filter({ hasText: AGENT.name }).waitFor();
    const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/agents/chat/agents');
    await send(page, 'How high is the tide after three and a half rises of twelve?');
    const body = (await sent).postDataJSON();
    if (body.agent_id !== agent.id || body.endpoint !== 'agents') throw new Error(`the chat was sent as ${JSON.stringify(body)}`);
    await ada(2).getByRole('heading', { name: new RegExp(`^Response 2: ${AGENT.name}`) }).waitFor();
    await ada(2).getByText(`Results: ${OUTPUT}`).waitFor();
    await toolCallShown((n) => ada(n), 2);
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    chatUrl = page.url();
    await shot(page, 'agent-tool-call');
  });

  await step('agents: after a reload the chat, its tool call and the agent are still there', async () => {
    const convo = new URL(chatUrl).pathname.split('/').pop();
    const read = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === `/api/messages/${convo}`);
    await page.reload();
    // The body of a read the page before the reload had started is gone with that page; the
    // drawing below is then the check.
    const stored = await (await read).json().catch(() => null);
    const answer = stored?.find((m) => !m.isCreatedByUser);
    const call = answer?.content?.find((p) => p.type === 'tool_call')?.tool_call;
    if (stored && (call?.name !== 'calculator' || call.output !== OUTPUT)) throw new Error(`the stored answer is ${JSON.stringify(answer)}`);
    await ada(2).getByText(`Results: ${OUTPUT}`).waitFor();
    await toolCallShown((n) => ada(n), 2);
    await page.getByRole('button', { name: 'Select a model' }).filter({ hasText: AGENT.name }).waitFor();
    // The builder reads the agent back: its name, instructions and tool.
    const form = await builder(page);
    await holds(form.getByRole('textbox', { name: 'Agent name' }), AGENT.name);
    await holds(form.getByRole('textbox', { name: 'Instructions' }), AGENT.instructions);
    await form.getByRole('listitem').filter({ hasText: 'Calculator' }).waitFor();
  });

  await step('agents: LibreChat\'s share dialog shares it with a second account', async () => {
    await register(BOB);
    const form = await builder(page);
    await form.getByRole('button', { name: `Share ${AGENT.name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Share ${AGENT.name}` });
    const found = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/permissions/search-principals');
    await dialog.getByRole('combobox', { name: 'Search for people or groups by name or email' }).pressSequentially('bob');
    await found;
    await page.getByRole('option', { name: new RegExp(`^${BOB.name} ${BOB.email}`) }).click();
    // A person added is a viewer: they may use the agent, not change it.
    await dialog.getByRole('button', { name: 'Can view and use the agent but cannot modify it' }).waitFor();
    const saved = page.waitForResponse((r) => r.request().method() === 'PUT'
      && new URL(r.url()).pathname === `/api/permissions/agent/${agent._id}`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    const res = await saved;
    const principals = (await res.json()).results?.principals || [];
    if (res.status() !== 200 || !principals.some((p) => p.type === 'user' && p.accessRoleId === 'agent_viewer')) {
      throw new Error(`sharing answered ${res.status()}: ${JSON.stringify(principals)}`);
    }
    await shot(page, 'agent-shared');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // The side panel back on the chat history, as the steps after these expect it (the
    // client remembers the open panel across sign-ins).
    await page.getByRole('button', { name: 'Chat History' }).first().click();
    await form.waitFor({ state: 'hidden' });
  });

  await step('agents: the second account finds the agent in the marketplace and chats with it', async () => {
    const bob = await newPage();
    try {
      await login(bob, BOB);
      // LibreChat's model picker leads to the marketplace from its agents.
      await bob.getByRole('button', { name: 'Select a model' }).click();
      await bob.getByRole('option', { name: 'My Agents' }).click();
      await bob.getByRole('option', { name: 'Agent Marketplace' }).click();
      await bob.waitForURL(/\/agents/);
      await bob.getByRole('button', { name: new RegExp(`^${AGENT.name} agent`) }).click();
      const card = bob.getByRole('dialog').filter({ has: bob.getByRole('heading', { name: AGENT.name }) });
      await card.getByText('Ada Lovelace', { exact: true }).waitFor();
      await card.getByRole('button', { name: 'Start Chat' }).click();
      await bob.waitForURL(/\/c\/new/);
      await bob.getByRole('button', { name: 'Select a model' }).filter({ hasText: AGENT.name }).waitFor();
      await shot(bob, 'agent-marketplace-chat');
      const sent = bob.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/agents/chat/agents');
      await send(bob, 'And after the next twelve?');
      if ((await sent).postDataJSON().agent_id !== agent.id) throw new Error('the second account did not chat with the agent');
      await message(bob, 2).getByRole('heading', { name: new RegExp(`^Response 2: ${AGENT.name}`) }).waitFor();
      await message(bob, 2).getByText(`Results: ${OUTPUT}`).waitFor();
      await toolCallShown((n) => message(bob, n), 2);
      await shot(bob, 'agent-used-by-another');
    } finally {
      await bob.context().close();
    }
  });

  await step('agents: a text file under File Context reaches the model in the next chat', async () => {
    await page.goto(chatUrl);
    await ada(2).getByText(`Results: ${OUTPUT}`).waitFor();
    const form = await builder(page);
    await holds(form.getByRole('textbox', { name: 'Agent name' }), AGENT.name);
    // LibreChat's FileContext: its "Add" button opens the file picker; the upload names the
    // agent and `tool_resource: context`.
    const uploaded = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/files$/), { timeout: 60_000 });
    const chooser = page.waitForEvent('filechooser');
    await form.getByRole('button', { name: 'Upload File Context' }).click();
    await (await chooser).setFiles({ name: CONTEXT_FILE, mimeType: 'text/plain', buffer: Buffer.from(CONTEXT_TEXT) });
    const res = await uploaded;
    const file = await res.json();
    if (res.status() !== 200 || file.filename !== CONTEXT_FILE) throw new Error(`the upload answered ${res.status()} ${JSON.stringify(file)}`);
    await form.getByText(CONTEXT_FILE).first().waitFor();
    const saved = page.waitForResponse((r) => isApi(r, 'PATCH', new RegExp(`^/api/agents/${agent.id}$`)), { timeout: 60_000 });
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    const patched = await saved;
    const after = await patched.json();
    if (patched.status() !== 200 || !after.tool_resources?.context?.file_ids?.includes(file.file_id)) {
      throw new Error(`the save answered ${patched.status()} ${JSON.stringify(after)}`);
    }
    await shot(page, 'agent-file-context');
    const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/agents/chat/agents');
    await send(page, 'And at spring tide?');
    if ((await sent).postDataJSON().agent_id !== agent.id) throw new Error('the chat was not sent to the agent');
    await ada(4).getByText(`Results: ${OUTPUT}`).waitFor({ timeout: 60_000 });
    // The side panel back on the chat history, as the steps after these expect it.
    await page.getByRole('button', { name: 'Chat History' }).first().click();
    await form.waitFor({ state: 'hidden' });
  });
}
