// LibreChat's own client with an agent that hands the conversation to another, as people set it
// up: the Agent Builder makes a specialist, then a router whose Advanced panel adds the
// specialist under "Handoffs" (an edge saved with the router). In a chat with the router, its
// model (`tide-route`, scripted in tests/librechat_client.rs to call the first
// `lc_transfer_to_` tool it is offered) transfers the conversation; the client shows
// LibreChat's "Transferred to <specialist>" and the specialist's answer, also after a reload.
// The Rust test checks the specialist ran with its own instructions (SPECIALIST.instructions).

import { builder, chooseModel } from './librechat-agents.mjs';

/** The agent the conversation is handed to; it runs on the echoing `gpt-4o`. */
export const SPECIALIST = { name: 'Tide specialist', instructions: 'Explain tides to sailors (marker 4848).' };
/** The agent the chat starts with; its model hands off. */
export const ROUTER = { name: 'Tide router', instructions: 'Send tide questions to the specialist (marker 4949).' };
export const ROUTER_MODEL = 'tide-route';
const QUESTION = 'When is slack water at the bar?';
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

/** A new agent from the builder's "Create New Agent": its name, instructions and model. */
async function create(page, { name, instructions }, model, more = async () => {}) {
  const form = await builder(page);
  const choose = form.getByRole('combobox', { name: 'Agent', exact: true });
  // The builder opens on the agent made last, if any, with a button for a new one.
  if (!(await choose.textContent()).includes('Create New Agent')) {
    await form.getByRole('button', { name: 'Create New Agent' }).click();
    await choose.filter({ hasText: 'Create New Agent' }).waitFor();
  }
  await form.getByRole('textbox', { name: 'Agent name' }).fill(name);
  await form.getByRole('textbox', { name: 'Instructions' }).fill(instructions);
  // A new agent's form keeps the model of the one shown before, if any.
  await chooseModel(page, form, model, /^(Select a model|gpt-4o|tide-calc|tide-route)$/);
  await more(form);
  const made = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/agents$/));
  await form.getByRole('button', { name: 'Create' }).click();
  const res = await made;
  const agent = await res.json();
  if (res.status() !== 201 || agent.name !== name) throw new Error(`creating ${name} answered ${res.status()} ${JSON.stringify(agent)}`);
  await page.getByText(`Successfully created ${name}`).first().waitFor();
  return agent;
}

/** The answer's "Transferred to" line and the specialist's words. */
async function handedOff(answer) {
  await answer.getByRole('button', { name: `Transferred to ${SPECIALIST.name}` }).waitFor();
  await answer.getByText(`Echo: ${QUESTION}`).waitFor();
}

export async function handoffSteps({ page, step, shot, send, message }) {
  let router;
  let specialist;
  let chatUrl;

  await step('handoffs: the builder makes a specialist, and a router that hands off to it', async () => {
    // A new chat (with the agent of the last one, if any).
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    await message(page, 1).waitFor({ state: 'detached' });
    specialist = await create(page, SPECIALIST, 'gpt-4o');
    router = await create(page, ROUTER, ROUTER_MODEL, async (form) => {
      // LibreChat's Advanced panel: "Multi-agent orchestration", its Handoffs section.
      await form.getByRole('button', { name: 'Advanced' }).click();
      const handoffs = page.getByRole('region', { name: 'Handoffs' });
      await handoffs.getByRole('combobox', { name: 'Add agent' }).click();
      await page.getByRole('option', { name: SPECIALIST.name }).click();
      await handoffs.getByRole('button', { name: `Remove handoff to ${SPECIALIST.name}` }).waitFor();
      await shot(page, 'agent-handoff-set');
      await page.getByRole('button', { name: 'Back to builder' }).click();
    });
    const edge = router.edges?.[0];
    if (router.edges?.length !== 1 || edge.to !== specialist.id || (edge.edgeType ?? 'handoff') !== 'handoff') {
      throw new Error(`the router was stored with edges ${JSON.stringify(router.edges)}`);
    }
  });

  await step('handoffs: a chat with the router is handed to the specialist, who answers', async () => {
    const form = await builder(page);
    await form.getByRole('button', { name: 'Select Agent' }).click();
    await page.getByRole('button', { name: 'Select a model' }).filter({ hasText: ROUTER.name }).waitFor();
    const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/agents/chat/agents');
    await send(page, QUESTION);
    if ((await sent).postDataJSON().agent_id !== router.id) throw new Error('the chat was not sent to the router');
    await handedOff(message(page, 2));
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    chatUrl = page.url();
    await shot(page, 'agent-handoff');
  });

  await step('handoffs: after a reload the handoff and the answer are still there', async () => {
    // Drawn from the stored answer: "Transferred to" names the agent of the stored call's
    // `lc_transfer_to_<id>`.
    await page.reload();
    if (new URL(page.url()).pathname !== new URL(chatUrl).pathname) throw new Error(`the reload went to ${page.url()}`);
    await handedOff(message(page, 2));
    // The side panel back on the chat history, as the steps after these expect it.
    await page.getByRole('button', { name: 'Chat History' }).first().click();
    await page.getByRole('form', { name: 'Agent configuration form' }).waitFor({ state: 'hidden' });
  });
}
