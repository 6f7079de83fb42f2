// LibreChat's own Memories panel, as a person uses it: open it from the side panel, create two
// memories, edit one, delete the other, send a message (tests/librechat_client.rs checks the
// model got MEMORY_MARKER in its system prompt), and turn "Use memory" off, which stays off
// after a reload, then on again.

export const MEMORY_MARKER = '(marker 5151)';

export async function memorySteps({ page, step, shot, send, message }) {
  const item = (key) => page.getByRole('listitem').filter({ hasText: key }).first();
  const open = async () => {
    const create = page.getByRole('button', { name: 'Create Memory' }).first();
    // The client remembers an open panel across reloads: it may still be drawing it.
    await page.getByRole('textbox', { name: 'Message input' }).waitFor();
    if (await create.waitFor({ timeout: 3_000 }).then(() => true, () => false)) return;
    await page.getByRole('button', { name: 'Memories', exact: true }).first().click();
    await create.waitFor();
  };
  const create = async (key, value) => {
    await page.getByRole('button', { name: 'Create Memory' }).first().click();
    const dialog = page.getByRole('dialog').filter({ has: page.locator('#memory-key') });
    await dialog.locator('#memory-key').fill(key);
    await dialog.locator('#memory-value').fill(value);
    await dialog.getByRole('button', { name: 'Create Memory' }).click();
    await page.getByText('Memory created successfully').first().waitFor();
    await dialog.waitFor({ state: 'hidden' });
    await item(key).waitFor();
  };

  await step('memories: the Memories panel creates, edits and deletes them', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    await open();
    await create('drink', 'Likes green tea');
    await create('scratch', 'Something to forget');

    await item('drink').getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog').filter({ has: page.getByRole('button', { name: 'Save' }) });
    await edit.locator('textarea').last().fill(`Drinks green tea, no sugar ${MEMORY_MARKER}`);
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved!').first().waitFor();
    await item('drink').getByText(MEMORY_MARKER, { exact: false }).waitFor();

    await item('scratch').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').last().getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted', { exact: true }).first().waitFor();
    await item('scratch').waitFor({ state: 'detached' });
    await shot(page, 'memories');
  });

  await step('memories: the next answer is given with them', async () => {
    await send(page, 'What do I like to drink?');
    await message(page, 2).getByText('Echo: What do I like to drink?').waitFor();
  });

  await step('memories: "Use memory" off stays off after a reload, then on again', async () => {
    await open();
    const toggle = page.getByRole('button', { name: 'Use memory' }).first();
    if ((await toggle.getAttribute('aria-pressed')) !== 'true') throw new Error('memories start switched off');
    await toggle.click();
    await page.getByText('Preferences updated successfully').first().waitFor();
    await page.reload();
    await open();
    const again = page.getByRole('button', { name: 'Use memory' }).first();
    await page.waitForFunction((el) => el.getAttribute('aria-pressed') === 'false', await again.elementHandle());
    await again.click();
    await page.waitForFunction((el) => el.getAttribute('aria-pressed') === 'true', await again.elementHandle());
    // Back to the conversations, which the client remembers as the open panel.
    await page.getByRole('button', { name: 'Chat History' }).click();
  });
}
