// The bundled app with an MCP server (PyPI's `mcp-server-time` over stdio, configured in
// librechat.yaml by tests/e2e.rs as `time`): the composer's MCP menu lists it with its
// connection's state, "Reconnect" connects it again; chosen, it goes with the message as
// LibreChat's client sends it (`ephemeralAgent.mcp: ['time']`), the model (`mcp-model`, scripted
// to call `get_current_time_mcp_time`) calls its tool, and the answer shows the call by the
// tool's and server's names with the server's output, also after a reload, which keeps the
// choice. A second server (`clock`, titled "Clock") wants a value of each person
// (`customUserVars`): its dialog says which are set, and once one is saved it connects. The
// agent builder offers the servers' tools; a role that may add servers (ADMIN) sees the "Add an
// MCP server" form, one that may not (USER) does not. Through that form the administrator adds
// npm's reference server (streamable HTTP at MCP_EVERYTHING_URL, started by tests/e2e.rs): it is
// listed, chosen, the model (`mcp-echo`) calls its `echo`, and then it is deleted from the menu.
// The OAuth-protected server (`guarded`, tests/mcp/oauth_server.py, which approves at once) needs
// a sign-in: "Connect" opens the provider's page in a new window, which comes back to the server
// and says so; the menu then shows it connected, and the model (`mcp-oauth`) calls its `whoami`
// with the person's token. Another person, not signed in to it, chooses it for a plain chat:
// the answer first shows the sign-in link (LibreChat's `oauth_mcp_guarded` step); followed, the
// model (`mcp-oauth`) gets the tool and calls it. A tool that reports progress (`patient`, model
// `mcp-progress`, released through MCP_GUARDED_URL/release) shows it on its running call.
// Called by app.test.mjs.

export const MCP_QUESTION = 'What time is it in UTC? (marker 3434)';
const isChat = (r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/');

/** The answer's call of `tool` on `server`: its title, server and output (opened), which has each of `texts`. */
async function callShown(answer, tool = 'get_current_time', server = 'time', texts = ['"timezone": "UTC"', 'datetime']) {
  const call = answer.locator('details.tool-step').filter({ hasText: tool });
  await call.locator('summary').getByText(`Ran ${tool}`).waitFor();
  await call.locator('.tool-server', { hasText: `MCP: ${server}` }).waitFor();
  if (!(await call.evaluate((d) => d.open))) await call.locator('summary').click();
  const output = call.locator('pre.tool-output');
  for (const text of texts) await output.filter({ hasText: text }).waitFor();
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

  /** Sends `question` with `server` chosen (and only it) in the menu; the request's servers. */
  async function askWith(server, question) {
    if (await menu().isHidden()) await opener().click();
    for (const box of await menu().getByRole('checkbox').all()) await box.setChecked(false);
    await menu().locator(`li.mcp-server[data-server="${server}"]`).getByRole('checkbox').check();
    await opener().click();
    await menu().waitFor({ state: 'hidden' });
    const sent = page.waitForRequest(isChat);
    await send(page, question);
    const body = (await sent).postDataJSON();
    if (JSON.stringify(body.ephemeralAgent?.mcp) !== JSON.stringify([server])) throw new Error(`sent ephemeralAgent ${JSON.stringify(body.ephemeralAgent)}`);
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  }

  await step('MCP: a server added through the form is listed, its tool answers, then it is deleted', async () => {
    await page.goto('c/new');
    await pickModel(page, 'mcp-echo');
    await opener().click();
    await menu().getByRole('button', { name: 'Add an MCP server' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an MCP server' });
    await dialog.getByLabel('Title', { exact: true }).fill('Everything');
    await dialog.getByLabel('Description', { exact: true }).fill('The reference server');
    await dialog.getByLabel('Transport', { exact: true }).selectOption('streamable-http');
    await dialog.getByLabel('URL', { exact: true }).fill(process.env.MCP_EVERYTHING_URL);
    const made = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/mcp/servers');
    await dialog.getByRole('button', { name: 'Add server' }).click();
    const answer = await made;
    if (answer.status() !== 201) throw new Error(`adding the server answered ${answer.status()}: ${await answer.text()}`);
    if ((await answer.json()).serverName !== 'everything') throw new Error('the added server is not named everything');
    await dialog.waitFor({ state: 'detached' });
    const row = menu().locator('li.mcp-server[data-server="everything"]');
    await row.getByRole('checkbox', { name: 'Everything', exact: true }).waitFor();
    await shots(page, 'mcp-added');
    await askWith('everything', 'Echo something, please. (marker 3535)');
    await callShown(lastAnswer(page), 'echo', 'everything', ['Echo: added in the browser']);

    await opener().click();
    page.once('dialog', (d) => d.accept());
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === '/api/mcp/servers/everything');
    await row.getByRole('button', { name: 'Delete Everything' }).click();
    if ((await deleted).status() !== 200) throw new Error(`deleting the server answered ${(await deleted).status()}`);
    await row.waitFor({ state: 'detached' });
    // Only the person's own servers can be deleted.
    if (await menu().getByRole('button', { name: /^Delete / }).count()) throw new Error('a server from librechat.yaml offers Delete');
    await opener().click();
  });

  await step('MCP: a plain chat with an OAuth server not signed in to shows the sign-in link, then uses the tool', async () => {
    const other = await newPage();
    await other.goto('register');
    await register(other, { name: 'Sam Signin', email: 'sam@example.org' });
    await other.getByRole('dialog', { name: 'Terms of Service' }).getByRole('button', { name: 'Accept' }).click();
    await pickModel(other, 'mcp-oauth');
    const opens = () => other.getByRole('button', { name: /^MCP servers/ });
    await opens().click();
    const row = other.getByRole('group', { name: 'MCP servers' }).locator('li.mcp-server[data-server="guarded"]');
    await row.getByLabel('guarded: needs sign-in', { exact: true }).waitFor();
    await row.getByRole('checkbox').check();
    await opens().click();
    await send(other, 'Who am I there, before signing in? (marker 3838)');
    // The answer's first step: the server's sign-in (LibreChat's `oauth_mcp_guarded`), open
    // with its button.
    const step = lastAnswer(other).locator('details.tool-step[data-state="running"]');
    await step.locator('summary').getByText('Waiting for your sign-in to guarded…').waitFor();
    const signIn = step.locator('.tool-sign-in');
    const button = signIn.getByRole('button', { name: /^Sign in to 127\.0\.0\.1:\d+$/ });
    await button.waitFor();
    await shots(other, 'mcp-chat-sign-in');
    const opened = other.context().waitForEvent('page');
    await button.click();
    const popup = await opened;
    try {
      await popup.waitForURL(/\/oauth\/success\?serverName=guarded$/);
    } finally {
      await popup.close();
    }
    // Signed in, the model gets the server's tool and the answer shows its call.
    await other.getByRole('button', { name: 'Send message' }).waitFor();
    await callShown(lastAnswer(other), 'whoami', 'guarded', [/alice \((code|refreshed)\)/]);
    if (await lastAnswer(other).locator('.tool-sign-in').count()) throw new Error('the sign-in link stayed after the sign-in');
    await other.context().close();
  });

  await step('MCP: signing in to an OAuth server in a new window connects it, and its tool answers', async () => {
    await page.goto('c/new');
    await pickModel(page, 'mcp-oauth');
    await opener().click();
    const row = menu().locator('li.mcp-server[data-server="guarded"]');
    await row.getByLabel('guarded: needs sign-in', { exact: true }).waitFor();
    const opened = page.context().waitForEvent('page');
    await row.getByRole('button', { name: 'Connect guarded' }).click();
    const popup = await opened;
    try {
      // The provider approves at once and sends the window back to the server.
      await popup.waitForURL(/\/oauth\/success\?serverName=guarded$/);
      await popup.getByRole('heading', { name: 'Signed in' }).waitFor();
      await popup.getByText('You are signed in to guarded.').waitFor();
    } finally {
      await popup.close();
    }
    await menu().locator('li.mcp-server[data-server="guarded"][data-state="connected"]').waitFor();
    await row.getByLabel('guarded: connected', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Reconnect guarded' }).waitFor();
    await askWith('guarded', 'Who am I there? (marker 3636)');
    await callShown(lastAnswer(page), 'whoami', 'guarded', [/alice \((code|refreshed)\)/]);
  });

  await step('MCP: a running tool shows its server\'s progress, gone once it ends', async () => {
    await page.goto('c/new');
    await pickModel(page, 'mcp-progress');
    if (await menu().isHidden()) await opener().click();
    for (const box of await menu().getByRole('checkbox').all()) await box.setChecked(false);
    await menu().locator('li.mcp-server[data-server="guarded"]').getByRole('checkbox').check();
    await opener().click();
    await send(page, 'Take your time. (marker 3939)');
    // `patient` reports 1 of 2 ("halfway"), then waits until it is released.
    const call = lastAnswer(page).locator('details.tool-step').filter({ hasText: 'patient' });
    const progress = call.locator('summary .tool-progress');
    await progress.getByText('halfway (1 of 2)').waitFor();
    const bar = await progress.locator('progress').evaluate((p) => [p.value, p.max]);
    if (JSON.stringify(bar) !== '[1,2]') throw new Error(`the progress bar shows ${bar}`);
    await shots(page, 'mcp-progress');
    const released = await fetch(`${process.env.MCP_GUARDED_URL}/release`, { method: 'POST' });
    if (!released.ok) throw new Error(`releasing the tool answered ${released.status}`);
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await callShown(lastAnswer(page), 'patient', 'guarded', ['patience rewarded']);
    if (await lastAnswer(page).locator('.tool-progress').count()) throw new Error('the progress stayed after the call ended');
  });

  await step('MCP: the agent builder offers the server tools', async () => {
    await page.goto('agents/new');
    await page.getByLabel('get_current_time (MCP: time)').waitFor();
    await page.getByLabel('convert_time (MCP: time)').waitFor();
  });
}
