// The bundled app's agents, as people use them: the admin builds an agent with the calculator
// in the builder (model, temperature, tools, a conversation starter, category, picture),
// changes it and restores the first version; picks it in the model picker, where its starter
// asks the question; the answer shows the calculator's step (arguments, output) while it
// streams and again after a reload. Shared with a second account as viewer, the agent is
// listed there, read-only, and answers that person too. In a plain chat the composer's
// Calculator toggle gives the model the tool. A copy is made and deleted. Its memory settings
// (the memory tools, memories of its own) are saved, shown again, and undone. The model
// `calc-model` of the fake provider calls `calculator` with `6*7` and then answers
// "Results: <output>" (tests/e2e.rs scripts it). Then the agent's documents: uploaded, read
// in a chat and removed (agentfiles.mjs); and an agent's actions: added, called in a chat,
// edited and deleted (actions.mjs). Called by app.test.mjs.

import { actionSteps } from './actions.mjs';
import { agentFileSteps } from './agentfiles.mjs';
import { loadedSize, picture } from './avatar.mjs';

export const AGENT_USER = { name: 'Di Agent', email: 'di@example.org' };
const NAME = 'Maths helper';
const STARTER = 'What is 6 times 7?';
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

export async function agentSteps({ page, step, shots, newPage, register, send, lastAnswer, pickModel }) {
  let agent;
  let other;

  /** The answer's calculator step, done, opened: its arguments and output are checked. */
  async function calculatorStep(p) {
    const stepEl = lastAnswer(p).locator('details.tool-step[data-state="done"]', { hasText: 'Ran calculator' });
    await stepEl.waitFor();
    await lastAnswer(p).getByText('Results: 42').waitFor();
    await p.getByRole('button', { name: 'Send message' }).waitFor();
    await stepEl.locator('summary').click();
    await stepEl.locator('pre.tool-output').getByText('42', { exact: true }).waitFor();
    const args = await stepEl.locator('pre.tool-args').textContent();
    if (JSON.parse(args).input !== '6*7') throw new Error(`the step shows the arguments ${args}`);
  }

  await step('agents: build one with the calculator in the builder', async () => {
    await page.goto('c/new');
    await page.getByRole('link', { name: 'Agents', exact: true }).click();
    await page.waitForURL(/\/agents$/);
    await page.getByText('No agents yet.').waitFor();
    await page.getByRole('link', { name: 'New agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await page.getByLabel('Description').fill('Does sums with a calculator.');
    await page.getByLabel('Instructions').fill('Use the calculator for any arithmetic, {{current_user}}.');
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'calc-model' });
    await page.getByLabel('Temperature').fill('0.2');
    await page.getByLabel('Calculator').check();
    await page.getByRole('button', { name: 'Add a starter' }).click();
    await page.getByLabel('Conversation starter 1', { exact: true }).fill(STARTER);
    await page.getByLabel('Category').selectOption({ label: 'Finance' });
    await page.getByLabel('Recursion limit').fill('5');
    const created = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents$/));
    await page.getByRole('button', { name: 'Create agent' }).click();
    const res = await created;
    agent = await res.json();
    const ok = res.status() === 201 && agent.provider === 'openAI' && agent.model === 'calc-model'
      && JSON.stringify(agent.tools) === '["calculator"]' && agent.model_parameters.temperature === 0.2
      && JSON.stringify(agent.conversation_starters) === JSON.stringify([STARTER]) && agent.category === 'finance'
      && agent.recursion_limit === 5;
    if (!ok) throw new Error(`the agent was stored as ${res.status()} ${JSON.stringify(agent)}`);
    await page.waitForURL(new RegExp(`/agents/${agent.id}$`));
    await page.getByRole('heading', { name: NAME }).waitFor();
    if (!(await page.getByLabel('Calculator').isChecked())) throw new Error('the builder does not show the calculator on');
  });

  await step('agents: a picture, a change (a new version), and the first version restored', async () => {
    const uploaded = page.waitForResponse((r) => isApi(r, 'POST', /\/avatar$/));
    await page.getByLabel('Choose a picture for the agent').setInputFiles({ name: 'abacus.png', mimeType: 'image/png', buffer: await picture(page, 200, 120) });
    if ((await uploaded).status() !== 201) throw new Error('the picture was not taken');
    const size = await loadedSize(page.getByRole('img', { name: `Picture of ${NAME}` }));
    if (size.width !== size.height || !size.src.includes(`/images/agents/${agent.id}/`)) throw new Error(`the picture is ${JSON.stringify(size)}`);
    await page.getByLabel('Description').fill('Changed, to be undone.');
    const saved = page.waitForResponse((r) => isApi(r, 'PATCH', new RegExp(`^/api/agents/${agent.id}$`)));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    if ((await saved).status() !== 200) throw new Error('the change was not saved');
    const versions = page.locator('li.version');
    await versions.nth(2).waitFor();
    const reverted = page.waitForResponse((r) => isApi(r, 'POST', /\/revert$/));
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    const back = await reverted;
    if (back.status() !== 200 || (await back.json()).description !== 'Does sums with a calculator.') throw new Error('version 1 was not restored');
    // The screen is drawn again with the restored agent: version 1 is the current one.
    await page.locator('li.version[data-index="0"]').getByText('Current').waitFor();
    if (await page.getByLabel('Description').inputValue() !== 'Does sums with a calculator.') throw new Error('the form does not show the restored description');
    if (await page.getByRole('button', { name: 'Restore version 1' }).count()) throw new Error('the current version is offered to restore');
    await shots(page, 'agent-builder');
  });

  await step('agents: picked in the model picker, its starter asks; the tool step shows its output', async () => {
    await page.goto('c/new');
    await pickModel(page, NAME);
    const starters = page.getByRole('group', { name: 'Conversation starters' });
    await page.getByRole('heading', { name: NAME }).waitFor();
    // An agent brings its own tools: no toggles.
    await page.getByRole('group', { name: 'Tools' }).waitFor({ state: 'hidden' });
    await shots(page, 'agent-starters');
    const started = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents\/chat\/agents$/));
    await starters.getByRole('button', { name: STARTER }).click();
    const body = (await started).request().postDataJSON();
    if (body.agent_id !== agent.id || body.endpoint !== 'agents' || body.text !== STARTER) throw new Error(`the chat was sent as ${JSON.stringify(body)}`);
    await calculatorStep(page);
    // The answer is the agent's: its name and picture (its initial, having none).
    await lastAnswer(page).locator('.msg-author', { hasText: NAME }).locator('.agent-avatar').waitFor();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await shots(page, 'agent-chat');
  });

  await step('agents: a call shows as running until its output comes', async () => {
    // The frames of a run, as the server streams them, through the app's own modules.
    const seen = await page.evaluate(async () => {
      const { applyFrame } = await import(new URL('js/runsteps.js', document.baseURI).href);
      const { showParts } = await import(new URL('js/toolsteps.js', document.baseURI).href);
      const m = { messageId: 'm1', text: '' };
      const steps = new Map();
      const body = document.createElement('div');
      const draw = (live) => {
        showParts(body, m.content, { live, key: null, showText: (el, t) => { el.textContent = t; }, countArtifacts: () => 0 });
        const el = body.querySelector('details.tool-step');
        return `${el.dataset.state}|${el.querySelector('.tool-title').textContent}|${el.querySelector('.tool-args').textContent.replace(/\s+/g, '')}`;
      };
      const out = [];
      applyFrame(m, steps, { event: 'on_run_step', data: { id: 's0', index: 0, type: 'message_creation', stepDetails: { type: 'message_creation' } } });
      applyFrame(m, steps, { event: 'on_message_delta', data: { id: 's0', delta: { content: [{ type: 'text', text: 'Let me add.' }] } } });
      applyFrame(m, steps, { event: 'on_run_step', data: { id: 's1', index: 1, type: 'tool_calls', stepDetails: { type: 'tool_calls', tool_calls: [{ id: 'c1', name: 'calculator', args: '' }] } } });
      applyFrame(m, steps, { event: 'on_run_step_delta', data: { id: 's1', delta: { type: 'tool_calls', tool_calls: [{ args: '{"input":' }] } } });
      applyFrame(m, steps, { event: 'on_run_step_delta', data: { id: 's1', delta: { type: 'tool_calls', tool_calls: [{ args: '"1+1"}' }] } } });
      out.push(draw(true));
      applyFrame(m, steps, { event: 'on_run_step_completed', data: { result: { id: 's1', index: 1, tool_call: { id: 'c1', name: 'calculator', args: '{"input":"1+1"}', output: '2', progress: 1 } } } });
      applyFrame(m, steps, { event: 'on_run_step', data: { id: 's2', index: 2, type: 'message_creation', stepDetails: { type: 'message_creation' } } });
      applyFrame(m, steps, { event: 'on_message_delta', data: { id: 's2', delta: { content: [{ type: 'text', text: 'It is 2.' }] } } });
      out.push(draw(true));
      out.push(m.text, body.textContent.includes('Let me add.') && body.lastChild.textContent === 'It is 2.');
      // A client that joins midway starts from the summary, then follows the frames.
      const { resumeParts } = await import(new URL('js/runsteps.js', document.baseURI).href);
      const joined = { messageId: 'm2' };
      const again = new Map();
      resumeParts(joined, again, {
        runSteps: [{ id: 's0', index: 0 }, { id: 's1', index: 1 }],
        aggregatedContent: [{ type: 'text', text: 'Let me add.' }, { type: 'tool_call', tool_call: { id: 'c1', name: 'calculator', args: '{"input":"1+1"}' } }],
      });
      applyFrame(joined, again, { event: 'on_run_step_completed', data: { result: { id: 's1', index: 1, tool_call: { id: 'c1', name: 'calculator', args: '{"input":"1+1"}', output: '2', progress: 1 } } } });
      out.push(joined.content[1].tool_call.output);
      return out;
    });
    const expected = ['running|Running calculator…|{"input":"1+1"}', 'done|Ran calculator|{"input":"1+1"}', 'Let me add.\n\nIt is 2.', true, '2'];
    if (JSON.stringify(seen) !== JSON.stringify(expected)) throw new Error(`the steps read ${JSON.stringify(seen)}`);
  });

  await step('agents: a reload shows the step again', async () => {
    await page.reload();
    await calculatorStep(page);
    const picked = await page.getByLabel('Model', { exact: true }).evaluate((s) => s.selectedOptions[0]?.textContent);
    if (picked !== NAME) throw new Error(`the picker shows ${picked}`);
    await send(page, STARTER);
    await page.locator('article.msg.assistant').nth(1).waitFor();
    await calculatorStep(page);
  });

  await step('agents: shared with a second account as viewer, who sees and uses it', async () => {
    other = await newPage();
    await other.goto('register');
    await register(other, AGENT_USER);
    await other.getByRole('dialog', { name: 'Terms of Service' }).getByRole('button', { name: 'Accept' }).click();

    await page.goto(`agents/${agent.id}`);
    await page.getByRole('button', { name: 'Share' }).click();
    const dialog = page.getByRole('dialog', { name: `Share ${NAME}` });
    await dialog.getByLabel('Add people or groups').fill('di@exa');
    await dialog.getByRole('button', { name: `Add ${AGENT_USER.name}` }).click();
    if (await dialog.getByLabel(`Access of ${AGENT_USER.name}`).inputValue() !== 'agent_viewer') throw new Error('a new person is not a viewer');
    const shared = page.waitForResponse((r) => isApi(r, 'PUT', /^\/api\/permissions\/agent\//));
    await dialog.getByRole('button', { name: 'Save' }).click();
    if ((await shared).status() !== 200) throw new Error('the share was refused');
    await dialog.waitFor({ state: 'detached' });

    await other.getByRole('link', { name: 'Agents', exact: true }).click();
    await other.getByLabel('Whose agents').selectOption({ label: 'Shared with me' });
    const item = other.locator('li.agent-item', { hasText: NAME });
    await item.getByText('Shared with you').waitFor();
    await item.locator('a.prompt-link').click();
    await other.getByRole('heading', { name: NAME }).waitFor();
    await other.getByText(STARTER).waitFor();
    for (const name of ['Save', 'Share', 'Delete agent', 'Duplicate']) {
      if (await other.getByRole('button', { name, exact: true }).count()) throw new Error(`a viewer is offered "${name}"`);
    }
    await other.getByRole('link', { name: 'Start a chat' }).click();
    await other.waitForURL(/\/c\/new\?agent_id=/);
    await other.getByRole('group', { name: 'Conversation starters' }).getByRole('button', { name: STARTER }).click();
    await calculatorStep(other);
  });

  await step('agents: what the role does not allow is not offered', async () => {
    const switchTo = async (label, on) => {
      const saved = page.waitForResponse((r) => isApi(r, 'PATCH', /^\/api\/admin\/roles\/USER\/permissions$/));
      await page.getByLabel(label, { exact: true }).setChecked(on);
      if ((await saved).status() !== 200) throw new Error(`"${label}" was not saved`);
    };
    await other.goto('agents');
    await other.getByRole('link', { name: 'New agent' }).waitFor();
    await page.getByRole('link', { name: 'Admin' }).click();
    await switchTo('Users: Build agents', false);
    await other.reload();
    await other.locator('li.agent-item').first().waitFor();
    if (await other.getByRole('link', { name: 'New agent' }).count()) throw new Error('New agent is offered without AGENTS.CREATE');
    await switchTo('Users: Agents', false);
    await other.reload();
    await other.getByText('Agents are not available to your account.').waitFor();
    await other.getByRole('link', { name: 'Prompts', exact: true }).waitFor();
    if (await other.getByRole('link', { name: 'Agents', exact: true }).isVisible()) throw new Error('the sidebar offers agents without AGENTS.USE');
    await switchTo('Users: Agents', true);
    await switchTo('Users: Build agents', true);
    await other.context().close();
  });

  await step('agents: the composer\'s Calculator toggle gives a plain chat the tool', async () => {
    await page.goto('c/new');
    await pickModel(page, 'calc-model');
    const toggle = page.getByRole('group', { name: 'Tools' }).getByLabel('Calculator');
    await toggle.check();
    await shots(page, 'tool-toggles');
    const started = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents\/chat\/openAI$/));
    await send(page, STARTER);
    const body = (await started).request().postDataJSON();
    if (JSON.stringify(body.tools) !== '["calculator"]' || body.agent_id) throw new Error(`the chat was sent as ${JSON.stringify(body)}`);
    await calculatorStep(page);
    // The conversation keeps it.
    await page.reload();
    await lastAnswer(page).locator('details.tool-step').waitFor();
    if (!(await page.getByRole('group', { name: 'Tools' }).getByLabel('Calculator').isChecked())) throw new Error('the toggle was not kept');
  });

  await step('agents: a copy is made, then deleted', async () => {
    await page.goto(`agents/${agent.id}`);
    const copied = page.waitForResponse((r) => isApi(r, 'POST', /\/duplicate$/));
    await page.getByRole('button', { name: 'Duplicate' }).click();
    const copy = (await copied.then((r) => r.json())).agent;
    await page.waitForURL(new RegExp(`/agents/${copy.id}$`));
    await page.getByRole('heading', { name: copy.name }).waitFor();
    page.once('dialog', (d) => d.accept());
    const deleted = page.waitForResponse((r) => isApi(r, 'DELETE', new RegExp(`/api/agents/${copy.id}$`)));
    await page.getByRole('button', { name: 'Delete agent' }).click();
    if ((await deleted).status() !== 200) throw new Error('the copy was not deleted');
    await page.waitForURL(/\/agents$/);
    await page.locator('li.agent-item', { hasText: NAME }).waitFor();
    await shots(page, 'agents');
    if (await page.locator('li.agent-item').count() !== 1) throw new Error('the copy is still listed');
  });

  await step('agents: its memory: the memory tools and memories of its own, kept after a reload, then undone', async () => {
    await page.goto(`agents/${agent.id}`);
    const box = page.getByLabel('Saves or forgets memories when asked');
    const scope = page.getByLabel('Whose memories it uses');
    if (await box.isChecked() || await scope.inputValue() !== 'user') throw new Error('a new agent does not start with the shared memories and no tools');
    const save = async () => {
      const saved = page.waitForResponse((r) => isApi(r, 'PATCH', new RegExp(`^/api/agents/${agent.id}$`)));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const res = await saved;
      if (res.status() !== 200) throw new Error(`the save answered ${res.status()}`);
      return res.request().postDataJSON();
    };
    await box.check();
    await scope.selectOption({ label: 'Its own, kept apart' });
    const sent = await save();
    if (!sent.tools.includes('calculator') || !sent.tools.includes('memory') || sent.memory_scope !== 'agent') {
      throw new Error(`the form sent ${JSON.stringify(sent)}`);
    }
    await page.reload();
    await page.getByRole('heading', { name: NAME }).waitFor();
    if (!(await page.getByLabel('Saves or forgets memories when asked').isChecked())
      || await page.getByLabel('Whose memories it uses').inputValue() !== 'agent') throw new Error('the builder does not show the memory settings saved');
    await page.getByLabel('Saves or forgets memories when asked').uncheck();
    await page.getByLabel('Whose memories it uses').selectOption({ label: 'The person\'s, shared with their other chats' });
    const undone = await save();
    if (JSON.stringify(undone.tools) !== '["calculator"]' || undone.memory_scope !== 'user') throw new Error(`the form sent ${JSON.stringify(undone)}`);
  });

  await agentFileSteps({ page, step, shots, send, lastAnswer, pickModel, picture }, agent);

  await actionSteps({ page, step, shots, send, lastAnswer });
}
