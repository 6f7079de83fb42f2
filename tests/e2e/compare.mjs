// The bundled app asking two models at once: "Compare" adds a second model beside the one
// picked, the message goes out with `addedConvo`, and the answer shows both side by side, one
// column each with its model's name, while it streams and after a reload (from the stored
// parts). The Rust test checks the provider was asked twice (QUESTION). Called by
// app.test.mjs.

export const COMPARE_QUESTION = 'Compare the tides at Saint-Malo and Granville';
const isChat = (r) => r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/agents/chat/');

/** The answer's two columns, each with its model's name and the echoed question. */
async function inColumns(answer) {
  const columns = answer.locator('section.answer-column');
  await columns.nth(1).getByText(`Echo: ${COMPARE_QUESTION}`).waitFor();
  await columns.nth(0).getByText(`Echo: ${COMPARE_QUESTION}`).waitFor();
  const count = await columns.count();
  if (count !== 2) throw new Error(`the answer has ${count} column(s)`);
  for (let i = 0; i < 2; i++) {
    const name = await columns.nth(i).locator('.answer-column-name').textContent();
    if (name !== 'gpt-4o') throw new Error(`column ${i + 1} is headed "${name}"`);
  }
}

export async function compareSteps({ page, step, shots, send, lastAnswer, pickModel }) {
  await step('compare: a second model answers beside the first, in columns', async () => {
    await page.goto('c/new');
    await pickModel(page, 'gpt-4o');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByLabel('Second model').selectOption({ label: 'gpt-4o' });
    const sent = page.waitForRequest(isChat);
    await send(page, COMPARE_QUESTION);
    const added = (await sent).postDataJSON().addedConvo;
    if (added?.endpoint !== 'openAI' || added?.model !== 'gpt-4o') throw new Error(`sent addedConvo ${JSON.stringify(added)}`);
    await inColumns(lastAnswer(page));
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await shots(page, 'compare');
  });

  await step('compare: after a reload the columns are drawn from the stored answer', async () => {
    await page.reload();
    await inColumns(lastAnswer(page));
    // A reload leaves comparing off.
    await page.getByRole('button', { name: 'Compare' }).waitFor();
  });
}
