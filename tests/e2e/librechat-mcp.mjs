// LibreChat's own client with MCP servers (PyPI's `mcp-server-time` over stdio, configured in
// librechat.yaml by tests/librechat_client.rs as `time`, and again as `clock`, titled "Clock", with
// a value each person sets, `customUserVars`): the composer's Tools menu has LibreChat's "MCP
// Servers" submenu, which lists the time server with its connection's state ("Connected");
// chosen there, it goes with the message (`ephemeralAgent.mcp: ['time']`), the model `tide-mcp`
// (scripted to call `get_current_time_mcp_time`) calls its tool, and the answer shows
// LibreChat's "Ran get_current_time" "in time" with the server's output, also after a reload.
// Then the clock's value is set in LibreChat's "Configure Variables" dialog, which connects it.
// In the side panel's "MCP Settings", LibreChat's "Add MCP Server" dialog adds npm's reference
// server (streamable HTTP at MCP_EVERYTHING_URL, started by tests/librechat_client.rs): it is
// listed, chosen in the composer, the model `tide-echo` calls its `echo`, and then the card's
// edit dialog deletes it. The OAuth-protected server (`guarded`, tests/mcp/oauth_server.py,
// which approves at once) shows "Needs Auth": its "Connect" opens the provider's page in a new
// window, which comes back to the server and LibreChat's success page; the panel then shows it
// connected, and the model `tide-whoami` calls its `whoami` with the person's token.

/** The question sent with the server chosen (the Rust test finds its turn by the marker). */
export const MCP_QUESTION = 'What time is it in UTC? (marker 5757)';

function waiting(promise) {
  promise.catch(() => {});
  return promise;
}

/** Picks `model` of the OpenAI endpoint in the header's model selector, by its search. */
async function chooseChatModel(page, model) {
  await page.getByRole('button', { name: 'Select a model' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Select a model' });
  await dialog.getByRole('combobox').fill(model);
  await dialog.getByRole('option', { name: new RegExp(model) }).first().click();
  await page.getByRole('button', { name: 'Select a model' }).filter({ hasText: model }).first().waitFor();
}

/**
 * The call in `answer`: LibreChat's "Ran get_current_time" "in time", opened, with the
 * server's output in its output block (not only in the answer's text, which quotes it).
 */
async function callShown(answer, tool = 'get_current_time', server = 'time', texts = ['"timezone": "UTC"', '"datetime"']) {
  const call = answer.getByRole('button', { name: `Ran ${tool} in ${server}` });
  await call.waitFor();
  if ((await call.getAttribute('aria-expanded')) !== 'true') await call.click();
  let output = answer.locator('[data-tool-call-output-id] pre');
  for (const text of texts) output = output.filter({ hasText: text });
  await output.first().waitFor();
}

/** A new chat with `model`, and the server titled `title` chosen in the Tools menu's "MCP Servers". */
async function newChatWith(page, model, title) {
  await page.getByRole('link', { name: 'New chat' }).first().click();
  await page.waitForURL(/\/c\/new/);
  await chooseChatModel(page, model);
  await page.getByRole('button', { name: 'Tools Options' }).click();
  await page.getByRole('menuitem', { name: /MCP Servers/ }).click();
  const server = page.getByRole('menuitemcheckbox', { name: new RegExp(`^${title}, `) });
  await server.waitFor();
  // From the keyboard: the Tools menu's backdrop lies over its submenu for the pointer.
  if ((await server.getAttribute('aria-checked')) !== 'true') await server.press('Enter');
  await page.getByRole('menuitemcheckbox', { name: new RegExp(`^${title}, `), checked: true }).waitFor();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
}

/** Sends `question`; the servers the request names. */
async function sendWith(page, send, question) {
  const sent = waiting(page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/')));
  await send(page, question);
  return (await sent).postDataJSON().ephemeralAgent?.mcp || [];
}

/** The side panel's "MCP Settings", opened. */
async function mcpPanel(page) {
  const panel = page.getByRole('region', { name: 'MCP Servers' });
  if (!(await panel.isVisible())) await page.getByRole('button', { name: 'MCP Settings', exact: true }).first().click();
  await panel.waitFor();
  return panel;
}

export async function mcpSteps({ page, step, shot, send, message }) {
  await step('MCP: the Tools menu lists the time server, connected, and it can be chosen', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    await chooseChatModel(page, 'tide-mcp');
    await page.getByRole('button', { name: 'Tools Options' }).click();
    await page.getByRole('menuitem', { name: /MCP Servers/ }).click();
    const server = page.getByRole('menuitemcheckbox', { name: /^time, / });
    await server.waitFor();
    const label = await server.getAttribute('aria-label');
    if (!/connected/i.test(label)) throw new Error(`the server is listed as ${label}`);
    await shot(page, 'mcp-menu');
    // From the keyboard: the Tools menu's backdrop lies over its submenu for the pointer.
    await server.press('Enter');
    await page.getByRole('menuitemcheckbox', { name: /^time, /, checked: true }).waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
  });

  await step('MCP: sent with the server chosen, the model calls its tool and the call shows', async () => {
    const sent = waiting(page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/')));
    await send(page, MCP_QUESTION);
    const body = (await sent).postDataJSON();
    if (JSON.stringify(body.ephemeralAgent?.mcp) !== '["time"]') throw new Error(`sent ${JSON.stringify(body.ephemeralAgent)}`);
    await callShown(message(page, 2));
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shot(page, 'mcp-call');
  });

  await step('MCP: after a reload the call is still shown', async () => {
    await page.reload();
    await callShown(message(page, 2));
  });

  await step('MCP: a server with a value of each person: set in its dialog, then it connects', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    // The composer's MCP badge (pinned by default; named for the chosen server, if one is)
    // opens the same list as the Tools menu.
    await page.getByRole('button', { name: /^(MCP Servers|time)$/ }).click();
    await page.getByRole('menuitemcheckbox', { name: /^Clock, / }).waitFor();
    // "Connect clock", or "Configure clock" once the client's tool listing connected it.
    await page.getByRole('button', { name: /^(Connect|Configure) clock$/ }).click();
    const dialog = page.getByRole('dialog', { name: /Configure Variables for clock/ });
    await dialog.getByLabel('Clock key (Unset)').fill('clock-key-0042');
    const saved = waiting(page.waitForResponse((r) => new URL(r.url()).pathname === '/api/user/plugins'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    if ((await saved).status() !== 200) throw new Error(`saving the value answered ${(await saved).status()}`);
    await dialog.getByLabel('Clock key (Set)').waitFor();
    const connected = waiting(page.waitForResponse((r) => new URL(r.url()).pathname === '/api/mcp/clock/reinitialize'));
    await dialog.getByRole('button', { name: /Initialize|Reinitialize/ }).click();
    const answer = await (await connected).json();
    if (answer.success !== true || answer.oauthRequired) throw new Error(`reinitialize answered ${JSON.stringify(answer)}`);
    await page.getByText("MCP server 'clock' initialized successfully").first().waitFor();
    await dialog.getByText('Active').first().waitFor();
    await shot(page, 'mcp-values');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });
  await step('MCP: a server added in the "Add MCP Server" dialog is listed, its tool answers, then it is deleted', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    let panel = await mcpPanel(page);
    await panel.getByRole('button', { name: 'Add MCP' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add MCP Server' });
    await dialog.getByRole('textbox', { name: /^Name/ }).fill('Everything');
    await dialog.getByRole('textbox', { name: /^MCP Server URL/ }).fill(process.env.MCP_EVERYTHING_URL);
    await dialog.getByRole('checkbox', { name: /I trust this application/ }).click();
    await shot(page, 'mcp-add-server');
    const made = waiting(page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/mcp/servers'));
    await dialog.getByRole('button', { name: 'Create MCP server' }).click();
    const answer = await made;
    if (answer.status() !== 201) throw new Error(`adding the server answered ${answer.status()}: ${await answer.text()}`);
    if ((await answer.json()).serverName !== 'everything') throw new Error('the added server is not named everything');
    await page.getByText('MCP server created successfully').first().waitFor();
    await dialog.waitFor({ state: 'detached' });
    await panel.getByRole('listitem').filter({ hasText: 'Everything' }).waitFor();

    await newChatWith(page, 'tide-echo', 'Everything');
    const servers = await sendWith(page, send, 'Echo something, please. (marker 5858)');
    if (!servers.includes('everything')) throw new Error(`sent the servers ${JSON.stringify(servers)}`);
    await callShown(message(page, 2), 'echo', 'everything', ['Echo: added in LibreChat']);
    await shot(page, 'mcp-added-call');

    panel = await mcpPanel(page);
    const card = panel.getByRole('listitem').filter({ hasText: 'Everything' });
    await card.hover();
    await card.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit MCP Server' });
    await edit.getByRole('button', { name: 'Delete MCP server Everything' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete MCP Server?' });
    const deleted = waiting(page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === '/api/mcp/servers/everything'));
    await confirm.getByRole('button', { name: 'Delete' }).click();
    if ((await deleted).status() !== 200) throw new Error(`deleting the server answered ${(await deleted).status()}`);
    await page.getByText('MCP server deleted successfully').first().waitFor();
    // The card leaves the list, and its dialogs with it.
    await card.waitFor({ state: 'detached' });
    await confirm.waitFor({ state: 'detached' });
    await edit.waitFor({ state: 'detached' });
  });

  await step('MCP: connecting the OAuth server signs in in a new window, then its tool answers', async () => {
    const panel = await mcpPanel(page);
    const card = panel.getByRole('listitem').filter({ hasText: 'guarded' });
    await card.getByLabel('guarded - Needs Auth').waitFor();
    const opened = page.context().waitForEvent('page');
    await card.getByRole('button', { name: 'Connect' }).click();
    const popup = await opened;
    // The provider approves at once; LibreChat's success page then closes its window itself.
    await Promise.race([
      popup.getByText('Authentication Successful').waitFor(),
      popup.waitForEvent('close'),
    ]);
    if (!popup.isClosed()) await popup.close();
    await page.getByText("MCP server 'guarded' authenticated successfully").first().waitFor();
    await card.getByLabel('guarded - Connected').waitFor();
    await shot(page, 'mcp-oauth-connected');

    await newChatWith(page, 'tide-whoami', 'guarded');
    const servers = await sendWith(page, send, 'Who am I there? (marker 5959)');
    if (!servers.includes('guarded')) throw new Error(`sent the servers ${JSON.stringify(servers)}`);
    await callShown(message(page, 2), 'whoami', 'guarded', [/alice \((code|refreshed)\)/]);
  });
}
