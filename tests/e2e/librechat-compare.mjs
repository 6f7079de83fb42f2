// LibreChat's own client asking two models at once (its multi-conversation): the header's
// "Add multi-conversation" adds a second conversation on the same model, the message goes out
// with `addedConvo`, and the answer comes back side by side: LibreChat draws the parts of
// both (one group, each naming its model) in two columns, also after a reload, from the
// stored answer. The Rust test checks the provider was asked twice (COMPARE_QUESTION).

export const COMPARE_QUESTION = 'Compare the tides at Brest and Dover';
const isChat = (r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/');

/** The answer's two columns, each with the echoed question. */
async function sideBySide(answer) {
  const columns = answer.locator('.sibling-content-group').first().locator(':scope > div');
  await columns.nth(1).getByText(`Echo: ${COMPARE_QUESTION}`).waitFor();
  const count = await columns.count();
  if (count !== 2) throw new Error(`the answer has ${count} column(s)`);
  await columns.nth(0).getByText(`Echo: ${COMPARE_QUESTION}`).waitFor();
}

export async function compareSteps({ page, step, shot, send, message }) {
  await step('multi-conversation: a second model answers beside the first, in columns', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new/);
    await message(page, 1).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Add multi-conversation' }).click();
    await page.getByRole('button', { name: 'Close added conversation' }).waitFor();
    const sent = page.waitForRequest(isChat);
    await send(page, COMPARE_QUESTION);
    const added = (await sent).postDataJSON().addedConvo;
    if (added?.endpoint !== 'openAI' || added?.model !== 'gpt-4o') throw new Error(`sent addedConvo ${JSON.stringify(added)}`);
    await sideBySide(message(page, 2));
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shot(page, 'multi-conversation');
  });

  await step('multi-conversation: after a reload the two columns are drawn from the stored answer', async () => {
    await page.reload();
    await sideBySide(message(page, 2));
    // The second conversation off again, as the steps after these expect the composer.
    const close = page.getByRole('button', { name: 'Close added conversation' });
    if (await close.count()) await close.click();
  });
}
