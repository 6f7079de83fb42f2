// The bundled app's prompts library, as people use it: the admin writes a prompt with a command
// and variables (and a second one), finds it by search and category, edits it (a new version,
// the production one) and shares it with a new account as viewer through the people picker;
// that person sees it, cannot change it, and uses it with `/tides` in the message box, filling
// the variables dialog. tests/e2e.rs then checks the fake provider got the filled text
// (FILLED_MARKER, with the person's name and today's date). Called by app.test.mjs.

export const VIEWER = { name: 'Cy Viewer', email: 'cy@example.org' };
/** What the model must receive, after the viewer's name and date (checked by tests/e2e.rs). */
export const FILLED_MARKER = 'explain the tides at Brest in a playful tone (marker 6160).';

const NAME = 'Tide table';
const FIRST = 'Tides at {{place}}, please.';
const SECOND = 'For {{current_user}} on {{current_date}}: explain the tides at {{place}} in a {{tone:formal|playful}} tone (marker 6160).';
const MOON = 'Describe the phases of the Moon.';

const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname.match(path);

export async function promptSteps({ page, step, shots, newPage, register, pickModel, lastAnswer }) {
  const items = page.locator('li.prompt-item');
  let groupId;
  let other;

  /** Fills the new prompt form and creates it; answers the server's JSON. */
  async function create({ name, text, command, category, oneliner }) {
    await page.getByRole('link', { name: 'New prompt' }).click();
    await page.getByLabel('Name', { exact: true }).fill(name);
    if (oneliner) await page.getByLabel('Short description').fill(oneliner);
    if (category) await page.getByLabel('Category').selectOption({ label: category });
    await page.getByLabel('Command').fill(command);
    await page.getByLabel('Prompt text').fill(text);
    const answer = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/prompts$/));
    await page.getByRole('button', { name: 'Create prompt' }).click();
    return answer;
  }

  await step('prompts: write one with a command and variables, and a second one', async () => {
    await page.goto('c/new');
    await page.getByRole('link', { name: 'Prompts', exact: true }).click();
    await page.waitForURL(/\/prompts$/);
    await page.getByText('No prompts yet.').waitFor();
    const res = await create({ name: NAME, text: FIRST, command: 'tides', category: 'Teach or explain', oneliner: 'Local tides' });
    const made = await res.json();
    if (res.status() !== 200 || made.group.command !== 'tides' || made.prompt.prompt !== FIRST || made.group.category !== 'teach_or_explain') {
      throw new Error(`the prompt was stored as ${JSON.stringify(made)}`);
    }
    groupId = made.group._id;
    await page.waitForURL(new RegExp(`/prompts/${groupId}$`));
    await page.getByRole('heading', { name: NAME }).waitFor();
    // A command already taken is refused with the server's message, and nothing is made.
    await page.getByRole('link', { name: '← All prompts' }).click();
    const taken = await create({ name: 'Moon phases', text: MOON, command: 'tides' });
    if (taken.status() !== 409) throw new Error(`a taken command answered ${taken.status()}`);
    await page.getByText('The command /tides is already used').waitFor();
    await page.getByLabel('Command').fill('moon');
    const answer = page.waitForResponse((r) => isApi(r, 'POST', /^\/api\/prompts$/));
    await page.getByRole('button', { name: 'Create prompt' }).click();
    if ((await answer).status() !== 200) throw new Error('the second prompt was not made');
    await page.getByRole('heading', { name: 'Moon phases' }).waitFor();
  });

  await step('prompts: find one by search and by category', async () => {
    await page.getByRole('link', { name: '← All prompts' }).click();
    await items.nth(1).waitFor();
    const searched = page.waitForResponse((r) => isApi(r, 'GET', /^\/api\/prompts\/groups$/) && new URL(r.url()).searchParams.get('name') === 'tide');
    await page.getByLabel('Search prompts').fill('tide');
    await searched;
    await page.waitForFunction(() => document.querySelectorAll('li.prompt-item').length === 1);
    await items.filter({ hasText: NAME }).getByText('/tides').waitFor();
    await page.getByLabel('Search prompts').fill('');
    await items.nth(1).waitFor();
    await page.getByLabel('Category').selectOption({ label: 'Teach or explain' });
    await page.waitForFunction(() => document.querySelectorAll('li.prompt-item').length === 1);
    await items.filter({ hasText: NAME }).waitFor();
    await shots(page, 'prompts');
    await page.getByLabel('Search prompts').fill('no such prompt');
    await page.getByText('No prompts found.').waitFor();
  });

  await step('prompts: an edit is a new version, made the production one', async () => {
    await page.goto(`prompts/${groupId}`);
    await page.getByLabel('Prompt text').fill(SECOND);
    const added = page.waitForResponse((r) => isApi(r, 'POST', /\/api\/prompts\/groups\/[^/]+\/prompts$/));
    const production = page.waitForResponse((r) => isApi(r, 'PATCH', /\/tags\/production$/));
    await page.getByRole('button', { name: 'Save as new version' }).click();
    if ((await added).status() !== 200 || (await production).status() !== 200) throw new Error('the new version was not kept');
    await page.reload();
    const versions = page.locator('li.version');
    await versions.nth(1).waitFor();
    if (await versions.count() !== 2) throw new Error(`${await versions.count()} versions, not 2`);
    await versions.first().getByText('Version 2').waitFor();
    await versions.first().getByText('Production').waitFor();
    if (await page.getByLabel('Prompt text').inputValue() !== SECOND) throw new Error('the production text is not the new one');
  });

  await step('prompts: shared with a second account, as viewer, through the people picker', async () => {
    // At +05:30, so the special variables' offset and local date are checked too.
    other = await newPage(undefined, { timezoneId: 'Asia/Kolkata' });
    await other.goto('register');
    await register(other, VIEWER);
    await other.getByRole('dialog', { name: 'Terms of Service' }).getByRole('button', { name: 'Accept' }).click();

    await page.getByRole('button', { name: 'Share' }).click();
    const dialog = page.getByRole('dialog', { name: `Share ${NAME}` });
    await dialog.getByLabel('Add people or groups').fill('cy@exa');
    await dialog.getByRole('button', { name: `Add ${VIEWER.name}` }).click();
    if (await dialog.getByLabel(`Access of ${VIEWER.name}`).inputValue() !== 'promptGroup_viewer') throw new Error('a new person is not a viewer');
    // The owner may share with everyone (ADMIN has PROMPTS.SHARE_PUBLIC); not done here.
    await dialog.getByLabel('Everyone can use it').waitFor();
    await shots(page, 'prompts-share');
    const saved = page.waitForResponse((r) => isApi(r, 'PUT', /^\/api\/permissions\/promptGroup\//));
    await dialog.getByRole('button', { name: 'Save' }).click();
    const res = await saved;
    const sent = res.request().postDataJSON();
    if (res.status() !== 200 || !sent.updated.some((p) => p.type === 'user' && p.accessRoleId === 'promptGroup_viewer')) {
      throw new Error(`sharing answered ${res.status()} to ${JSON.stringify(sent)}`);
    }
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Share' }).click();
    if (await dialog.getByLabel(`Access of ${VIEWER.name}`).inputValue() !== 'promptGroup_viewer') throw new Error('the share was not kept');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  await step('prompts: the viewer sees it and cannot change it', async () => {
    await other.getByRole('link', { name: 'Prompts', exact: true }).click();
    await other.getByLabel('Category').selectOption({ label: 'Shared with me' });
    await other.locator('li.prompt-item', { hasText: NAME }).getByRole('link').click();
    await other.getByRole('heading', { name: NAME }).waitFor();
    await other.getByRole('document', { name: 'Prompt text' }).getByText('(marker 6160)').waitFor();
    for (const name of ['Save as new version', 'Save details', 'Share', 'Delete prompt', 'Make production']) {
      if (await other.getByRole('button', { name }).count()) throw new Error(`a viewer is offered "${name}"`);
    }
    if (await other.getByRole('textbox', { name: 'Prompt text' }).count()) throw new Error('a viewer can edit the text');
    // Moon phases was not shared.
    await other.getByRole('link', { name: '← All prompts' }).click();
    await other.locator('li.prompt-item').first().waitFor();
    if (await other.locator('li.prompt-item').count() !== 1) throw new Error('the viewer sees a prompt not shared with them');
  });

  await step('prompts: what the role does not allow is not offered', async () => {
    await other.getByRole('link', { name: 'New prompt' }).waitFor();
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Users: Write prompts').uncheck();
    await page.getByText('Saved').first().waitFor();
    await other.reload();
    await other.getByRole('heading', { name: 'Prompts' }).waitFor();
    await other.locator('li.prompt-item').first().waitFor();
    if (await other.getByRole('link', { name: 'New prompt' }).count()) throw new Error('New prompt is offered without PROMPTS.CREATE');
    await page.getByLabel('Users: Write prompts').check();
    await page.getByText('Saved').first().waitFor();
  });

  await step('prompts: the / picker lists them, keys move and Escape closes', async () => {
    await page.goto('c/new');
    const box = page.getByLabel('Message', { exact: true });
    const listbox = page.getByRole('listbox', { name: 'Prompts' });
    await box.pressSequentially('/');
    await listbox.getByRole('option').nth(1).waitFor();
    await box.press('ArrowDown');
    await listbox.locator('[aria-selected="true"]').getByText('/moon').waitFor();
    await box.press('Escape');
    await listbox.waitFor({ state: 'hidden' });
    await box.pressSequentially('mo');
    await listbox.getByRole('option', { name: /\/moon/ }).waitFor();
    if (await listbox.getByRole('option').count() !== 1) throw new Error('"/mo" lists more than Moon phases');
    const used = page.waitForResponse((r) => isApi(r, 'POST', /\/use$/));
    await listbox.getByRole('option', { name: /\/moon/ }).click();
    if ((await used).status() !== 200) throw new Error('the use was not counted');
    if (await box.inputValue() !== MOON) throw new Error(`the message is "${await box.inputValue()}"`);
    await box.fill('');
  });

  await step('prompts: the viewer uses it with /tides and fills the variables dialog', async () => {
    await other.goto('c/new');
    await pickModel(other, 'gpt-4o');
    const box = other.getByLabel('Message', { exact: true });
    await box.pressSequentially('/tid');
    await other.getByRole('listbox', { name: 'Prompts' }).getByRole('option', { name: /\/tides/ }).waitFor();
    await box.press('Enter');
    const dialog = other.getByRole('dialog', { name: NAME });
    await dialog.getByLabel('place').fill('Brest');
    const tone = dialog.getByLabel('tone');
    if (JSON.stringify(await tone.locator('option').allTextContents()) !== JSON.stringify(['Choose tone…', 'formal', 'playful'])) {
      throw new Error('the choice does not offer formal and playful');
    }
    await tone.selectOption('playful');
    // The special variables are filled before the dialog; the preview shows the values.
    await dialog.getByRole('region', { name: 'Preview' }).getByText(`For ${VIEWER.name} on `).waitFor();
    await dialog.getByRole('region', { name: 'Preview' }).locator('strong', { hasText: 'Brest' }).waitFor();
    await shots(other, 'prompts-variables');
    const used = other.waitForResponse((r) => isApi(r, 'POST', /\/use$/));
    await dialog.getByRole('button', { name: 'Use prompt' }).click();
    const counted = await used;
    if (counted.status() !== 200 || (await counted.json()).numberOfGenerations !== 1) throw new Error('the use was not counted once');
    const text = await box.inputValue();
    if (!new RegExp(`^For ${VIEWER.name} on \\d{4}-\\d{2}-\\d{2} \\(\\w+day\\): ${FILLED_MARKER.replace(/[.()]/g, '\\$&')}$`).test(text)) {
      throw new Error(`the message is "${text}"`);
    }
    await box.press('Enter');
    await lastAnswer(other).getByText('(marker 6160)').waitFor();
    await other.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('prompts: the special variables, in LibreChat\'s formats', async () => {
    // A fixed instant, in the viewer's browser at +05:30: the next day there, a Monday.
    const filled = await other.evaluate(async () => {
      const { fillSpecial } = await import(new URL('js/variables.js', document.baseURI).href);
      return fillSpecial('{{current_date}}|{{ Current_Datetime }}|{{iso_datetime}}|{{current_user}}', { name: 'A $& B' },
        new Date(Date.UTC(2025, 5, 1, 18, 35, 9)));
    });
    if (filled !== '2025-06-02 (Monday)|2025-06-02 00:05:09 +05:30 (Monday)|2025-06-01T18:35:09.000Z|A $& B') {
      throw new Error(`the special variables read "${filled}"`);
    }
    await other.context().close();
  });
}
