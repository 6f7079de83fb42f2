// LibreChat's own client with MCP servers (PyPI's `mcp-server-time` over stdio, configured in
// librechat.yaml by tests/librechat_client.rs as `time`, and again as `clock`, titled "Clock", with
// a value each person sets, `customUserVars`): the composer's Tools menu has LibreChat's "MCP
// Servers" submenu, which lists the time server with its connection's state ("Connected");
// chosen there, it goes with the message (`ephemeralAgent.mcp: ['time']`), the model `tide-mcp`
// (scripted to call `get_current_time_mcp_time`) calls its tool, and the answer shows
// LibreChat's "Ran get_current_time" "in time" with the server's output, also after a reload.
// Then the clock's value is set in LibreChat's "Configure Variables" dialog, which connects it.

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
async function callShown(answer) {
  const call = answer.getByRole('button', { name: 'Ran get_current_time in time' });
  await call.waitFor();
  if ((await call.getAttribute('aria-expanded')) !== 'true') await call.click();
  const output = answer.locator('[data-tool-call-output-id] pre').filter({ hasText: '"timezone": "UTC"' });
  await output.filter({ hasText: '"datetime"' }).waitFor();
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
}
