// LibreChat's own client with the prompts library, as a person uses it: the side panel's
// Prompts → "Create Prompt", a name, a text and a command; then "/" and the command in the
// composer, and the prompt's text is what the model gets.

const NAME = 'Tide summary';
const TEXT = 'Summarize the tides of the week in three lines.';
const COMMAND = 'tides';

export async function promptSteps({ page, step, shot }) {
  await step('prompts: the side panel creates one with a command', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    await page.getByRole('button', { name: 'Prompts', exact: true }).first().click();
    await page.getByRole('button', { name: 'Create Prompt' }).first().click();
    const dialog = page.getByRole('dialog').last();
    await dialog.getByLabel('Prompt Name').fill(NAME);
    await dialog.getByLabel('Prompt text input field').fill(TEXT);
    await dialog.getByLabel('Optional: Enter a command for the prompt or name will be used').fill(COMMAND);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/prompts' && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Create Prompt' }).click();
    const res = await answered;
    if (res.status() !== 200) throw new Error(`creating the prompt answered ${res.status()}`);
    const made = await res.json();
    if (made.group?.command !== COMMAND) throw new Error(`the prompt was stored as ${JSON.stringify(made.group)}`);
    await shot(page, 'prompts-created');
  });

  await step('prompts: "/" and the command in the composer send the prompt', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    const box = page.getByRole('textbox', { name: 'Message input' });
    await box.click();
    await box.pressSequentially(`/${COMMAND}`);
    // The popover lists it as `/tides - Tide summary: ...`; choosing a prompt without
    // variables sends its text at once (LibreChat's client does), and it reaches the model.
    await page.getByText(`/${COMMAND} - ${NAME}`).first().click();
    await page.getByText(`Echo: ${TEXT}`).first().waitFor();
    await shot(page, 'prompts-slash');
  });
}
