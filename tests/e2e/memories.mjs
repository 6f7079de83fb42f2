// The bundled app's memories, as a person keeps them: Settings → Memories, add one, edit it,
// delete another, see what they cost in tokens; a message then reaches the model with the
// memory in its system prompt (tests/e2e.rs checks the fake provider got MEMORY_MARKER), and
// the switch that keeps memories out of the answers stays off after the dialog is reopened.
// The memory agent (`memory.agent` in tests/e2e.rs) keeps a memory when a message asks with
// REMEMBER_MARKER: the answer shows "Updated saved memory" as LibreChat's client does, while
// it is written, after a reload mid-answer, and from the saved answer.

export const MEMORY_MARKER = '(marker 4242)';
export const REMEMBER_MARKER = '(marker 4343)';

export async function memorySteps({ page, step, shot, send, lastAnswer, pickModel }) {
  const settings = page.getByRole('dialog', { name: 'Settings' });
  const open = async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Memories' }).click();
    await settings.getByText(/tokens (in all|used)/).waitFor();
  };
  const add = async (key, value) => {
    await settings.getByLabel('New memory key').fill(key);
    await settings.getByLabel('New memory value').fill(value);
    await settings.getByRole('button', { name: 'Add memory' }).click();
    await settings.locator('li.memory', { hasText: key }).waitFor();
  };

  await step('memories: add, edit and delete them in settings', async () => {
    await page.goto('c/new');
    await open();
    await settings.getByText('No memories yet.').waitFor();
    await add('drink', 'Likes green tea');
    await add('scratch', 'Something to forget');
    // A key LibreChat would refuse is refused with its message, and nothing is added.
    await settings.getByLabel('New memory key').fill('Bad Key');
    await settings.getByLabel('New memory value').fill('x');
    await settings.getByRole('button', { name: 'Add memory' }).click();
    await page.getByText('Key must only contain lowercase letters and underscores').waitFor();

    await settings.getByRole('button', { name: 'Edit drink' }).click();
    await settings.getByLabel('Memory value', { exact: true }).fill(`Drinks green tea, no sugar ${MEMORY_MARKER}`);
    await settings.getByRole('button', { name: 'Save' }).click();
    await settings.locator('li.memory', { hasText: MEMORY_MARKER }).waitFor();
    page.once('dialog', (d) => d.accept());
    await settings.getByRole('button', { name: 'Delete scratch' }).click();
    await settings.locator('li.memory', { hasText: 'scratch' }).waitFor({ state: 'detached' });
    if (await settings.locator('li.memory').count() !== 1) throw new Error('one memory should be left');
    const tokens = await settings.locator('li.memory').getByText(/\d+ tokens/).textContent();
    if (!/^[1-9]\d* tokens$/.test(tokens)) throw new Error(`the memory costs "${tokens}"`);
    await shot(page, 'settings-memories');
    await page.keyboard.press('Escape');
  });

  await step('memories: the next answer is given with them', async () => {
    await page.goto('c/new');
    await send(page, 'What do I like to drink?');
    await lastAnswer(page).getByText('Echo: What do I like to drink?').waitFor();
  });

  await step('memories: the switch keeps them out of the answers, and stays off', async () => {
    await open();
    const box = settings.getByLabel('Use memories in answers');
    if (!(await box.isChecked())) throw new Error('memories start switched on');
    await box.uncheck();
    await page.getByText('Memories are no longer used in answers').waitFor();
    await page.keyboard.press('Escape');
    await open();
    if (await settings.getByLabel('Use memories in answers').isChecked()) throw new Error('the switch did not stay off');
    await settings.getByLabel('Use memories in answers').check();
    await page.getByText('Memories are used in answers').waitFor();
    await page.keyboard.press('Escape');
  });

  await step('memories: what the memory agent kept shows with the answer, live and after a reload', async () => {
    await page.goto('c/new');
    // An answer that stays open (`gated`): the memory agent works beside it.
    await pickModel(page, 'gated');
    await send(page, `Please remember that I like oolong tea ${REMEMBER_MARKER}`);
    const note = () => lastAnswer(page).locator('details.memory-updates');
    await lastAnswer(page).getByText('part one').waitFor();
    await note().locator('summary', { hasText: 'Updated saved memory' }).waitFor();
    // Shown while the answer is still being written.
    await page.getByRole('button', { name: 'Stop generating' }).waitFor();
    // Closed at first, as in LibreChat; opened, the key and the value.
    if (await note().getByText('The user likes oolong tea.').isVisible()) throw new Error('the memory update starts open');
    await note().locator('summary').click();
    await note().getByRole('heading', { name: 'Updated Memories' }).waitFor();
    await note().locator('.memory-key', { hasText: /^tea$/i }).waitFor();
    await note().getByText('The user likes oolong tea.').waitFor();
    await shot(page, 'memory-updated');

    // A reload mid-answer: the resumed stream brings the update back, once.
    await page.reload();
    await lastAnswer(page).getByText('part one').waitFor();
    await note().locator('summary', { hasText: 'Updated saved memory' }).waitFor();
    await page.getByRole('button', { name: 'Stop generating' }).waitFor();
    await note().locator('summary').click();
    await note().getByText('The user likes oolong tea.').waitFor();
    if (await note().locator('.memory-item').count() !== 1) throw new Error('the memory update is shown more than once');
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await page.getByRole('button', { name: 'Send message' }).waitFor();

    // Saved with the answer: after another reload it comes from the stored message.
    await page.reload();
    await lastAnswer(page).getByText('part one').waitFor();
    await note().locator('summary', { hasText: 'Updated saved memory' }).click();
    await note().getByText('The user likes oolong tea.').waitFor();
    if (await note().count() !== 1) throw new Error('one memory update per answer');
    // And the memory is kept.
    await open();
    await settings.locator('li.memory', { hasText: 'oolong' }).waitFor();
    await page.keyboard.press('Escape');
  });
}
