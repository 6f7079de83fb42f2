// LibreChat's own client with the prompts library, as a person uses it: the side panel's
// Prompts → "Create Prompt", a name, a text and a command; then "/" and the command in the
// composer, and the prompt's text is what the model gets. A second prompt has variables: the
// slash command opens LibreChat's variables dialog, and tests/librechat_client.rs checks the
// model got the text filled (VARIABLES_MARKER, with the person's name and today's date).

const NAME = 'Tide summary';
const TEXT = 'Summarize the tides of the week in three lines.';
const COMMAND = 'tides';
/** What the model must receive at the end of the filled prompt (checked by tests/librechat_client.rs). */
export const VARIABLES_MARKER = 'in a busy way (marker 3131).';
const VISIT = { name: 'City visit', command: 'visit', text: 'For {{current_user}} on {{current_date}}: plan a visit to {{city}} in a {{mood:calm|busy}} way (marker 3131).' };

/** Creates a prompt in the side panel's dialog; answers the stored group. */
async function create(page, { name, text, command }) {
  await page.getByRole('button', { name: 'Create Prompt' }).first().click();
  const dialog = page.getByRole('dialog').last();
  await dialog.getByLabel('Prompt Name').fill(name);
  await dialog.getByLabel('Prompt text input field').fill(text);
  await dialog.getByLabel('Optional: Enter a command for the prompt or name will be used').fill(command);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/prompts' && r.request().method() === 'POST');
  await dialog.getByRole('button', { name: 'Create Prompt' }).click();
  const res = await answered;
  if (res.status() !== 200) throw new Error(`creating the prompt answered ${res.status()}`);
  const made = await res.json();
  if (made.group?.command !== command) throw new Error(`the prompt was stored as ${JSON.stringify(made.group)}`);
  return made.group;
}

export async function promptSteps({ page, step, shot }) {
  await step('prompts: the side panel creates one with a command', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    await page.getByRole('button', { name: 'Prompts', exact: true }).first().click();
    await create(page, { name: NAME, text: TEXT, command: COMMAND });
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

  await step('prompts: one with variables, through the slash command and LibreChat\'s variables dialog', async () => {
    await page.getByRole('button', { name: 'Prompts', exact: true }).first().click();
    const group = await create(page, VISIT);
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    const box = page.getByRole('textbox', { name: 'Message input' });
    await box.click();
    await box.pressSequentially(`/${VISIT.command}`);
    await page.getByText(`/${VISIT.command} - ${VISIT.name}`).first().click();
    // LibreChat's dialog: the group's name, a text box per variable, a choice for `mood`.
    const dialog = page.getByRole('dialog', { name: VISIT.name });
    await dialog.getByRole('textbox', { name: 'city' }).fill('Lisbon');
    await dialog.getByPlaceholder('mood').click();
    await page.getByRole('option', { name: 'busy' }).click();
    // The choice list may stay open over the Submit button for a moment (longer on a busy
    // machine); a click on the dialog's title closes it, and then it is gone.
    const other = page.getByRole('option', { name: 'calm' });
    if (await other.isVisible()) await dialog.getByRole('heading', { name: VISIT.name }).click();
    await other.waitFor({ state: 'hidden' });
    await shot(page, 'prompts-variables');
    const used = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/prompts/groups/${group._id}/use` && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    const counted = await used;
    if (counted.status() !== 200 || (await counted.json()).numberOfGenerations !== 1) throw new Error('the use was not counted once');
    await page.getByText(VARIABLES_MARKER).last().waitFor();
    await page.getByText(/^Echo: For .*\(marker 3131\)\.$/).first().waitFor();
  });
}
