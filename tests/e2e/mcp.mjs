// The bundled app with an MCP server (PyPI's `mcp-server-time` over stdio, configured in
// librechat.yaml by tests/e2e.rs as `time`): the composer's MCP menu lists it with its
// connection's state, "Reconnect" connects it again; chosen, it goes with the message as
// LibreChat's client sends it (`ephemeralAgent.mcp: ['time']`), the model (`mcp-model`, scripted
// to call `get_current_time_mcp_time`) calls its tool, and the answer shows the call by the
// tool's and server's names with the server's output, also after a reload, which keeps the
// choice. A second server (`clock`, titled "Clock") wants a value of each person
// (`customUserVars`): its dialog says which are set, and once one is saved it connects. The
// agent builder offers the servers' tools; a role that may add servers (ADMIN) sees the "Add an
// MCP server" form, one that may not (USER) does not. Called by app.test.mjs.

export const MCP_QUESTION = 'What time is it in UTC? (marker 3434)';
const isChat = (r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/');

/** The answer's MCP call: its title, server and output (opened). */
async function callShown(answer) {
  const call = answer.locator('details.tool-step').filter({ hasText: 'get_current_time' });
  await call.locator('summary').getByText('Ran get_current_time').waitFor();
  await call.locator('.tool-server', { hasText: 'MCP: time' }).waitFor();
  if (!(await call.evaluate((d) => d.open))) await call.locator('summary').click();
  const output = call.locator('pre.tool-output');
  await output.filter({ hasText: '"timezone": "UTC"' }).waitFor();
  await output.filter({ hasText: 'datetime' }).waitFor();
}

export async function mcpSteps({ page, step, shots, send, lastAnswer, pickModel, newPage, register }) {
  const menu = () => page.getByRole('group', { name: 'MCP servers' });
  const opener = () => page.getByRole('button', { name: /^MCP servers/ });
  const time = () => menu().locator('li.mcp-server[data-server="time"]');
  const choice = () => time().getByRole('checkbox', { name: 'time', exact: true });

  await step('MCP: the composer menu lists the time server; reconnecting leaves it connected', async () => {
    await page.goto('c/new');
    await pickModel(page, 'mcp-model');
    await opener().click();
    await choice().waitFor();
    await time().getByRole('button', { name: 'Reconnect time' }).click();
    // The states are read again (and the row drawn anew) once the server has answered.
    await time().getByRole('button', { name: 'Reconnect time' }).filter({ hasText: /^Reconnect$/ }).waitFor();
    await menu().locator('li.mcp-server[data-server="time"][data-state="connected"]').waitFor();
    await time().getByLabel('time: connected', { exact: true }).waitFor();
    // An administrator may add servers of their own.
    await menu().getByRole('button', { name: 'Add an MCP server' }).waitFor();
    await shots(page, 'mcp-menu');
  });

  await step('MCP: a role without MCP_SERVERS.CREATE sees the servers but may not add one', async () => {
    const other = await newPage();
    await other.goto('register');
    await register(other, { name: 'Mo User', email: 'mo@example.org' });
    await other.getByRole('dialog', { name: 'Terms of Service' }).getByRole('button', { name: 'Accept' }).click();
    await other.getByRole('button', { name: /^MCP servers/ }).click();
    // The list is drawn once the servers and the role's permissions are both known.
    await other.getByRole('group', { name: 'MCP servers' }).locator('li.mcp-server[data-server="time"]').waitFor();
    if (await other.getByRole('button', { name: 'Add an MCP server' }).count()) throw new Error('a USER may add MCP servers');
    await other.context().close();
  });

  await step('MCP: the add-a-server form asks for what LibreChat asks', async () => {
    await menu().getByRole('button', { name: 'Add an MCP server' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an MCP server' });
    for (const label of ['Title', 'Description', 'Transport', 'URL', 'Headers']) await dialog.getByLabel(label, { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  await step('MCP: a server with values of its own: set in its dialog, then it connects', async () => {
    if (await menu().isHidden()) await opener().click();
    const clock = menu().locator('li.mcp-server[data-server="clock"]');
    await clock.getByRole('checkbox', { name: 'Clock', exact: true }).waitFor();
    await clock.getByRole('button', { name: 'Your values for Clock' }).click();
    let dialog = page.getByRole('dialog', { name: 'Clock: your values' });
    await dialog.getByText('(not set)').waitFor();
    await dialog.getByLabel('Clock key', { exact: true }).fill('clock-key-0042');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await menu().locator('li.mcp-server[data-server="clock"][data-state="connected"]').waitFor();
    await clock.getByRole('button', { name: 'Your values for Clock' }).click();
    dialog = page.getByRole('dialog', { name: 'Clock: your values' });
    await dialog.getByText('(set)').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  await step('MCP: chosen, the server goes with the message and the model calls its tool', async () => {
    if (await menu().isHidden()) await opener().click();
    await choice().check();
    await opener().click();
    await menu().waitFor({ state: 'hidden' });
    await opener().filter({ hasText: '(1)' }).waitFor();
    const sent = page.waitForRequest(isChat);
    await send(page, MCP_QUESTION);
    const body = (await sent).postDataJSON();
    if (JSON.stringify(body.ephemeralAgent?.mcp) !== '["time"]') throw new Error(`sent ephemeralAgent ${JSON.stringify(body.ephemeralAgent)}`);
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await callShown(lastAnswer(page));
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shots(page, 'mcp-call');
  });

  await step('MCP: after a reload the call and the choice are kept', async () => {
    await page.reload();
    await callShown(lastAnswer(page));
    await opener().filter({ hasText: '(1)' }).waitFor();
    await opener().click();
    if (!(await choice().isChecked())) throw new Error('the choice of the time server was not kept');
    await opener().click();
  });

  await step('MCP: the agent builder offers the server tools', async () => {
    await page.goto('agents/new');
    await page.getByLabel('get_current_time (MCP: time)').waitFor();
    await page.getByLabel('convert_time (MCP: time)').waitFor();
  });
}
