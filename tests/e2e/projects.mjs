// Projects in the bundled app's sidebar, as a person uses them: create one, move a chat into
// it from the chat's menu, see the list show only that project's chats and the count follow,
// rename it, and delete it, the chat staying (in no project). Called by app.test.mjs.

export async function projectSteps({ page, step, shots, chatTitle }) {
  const panel = page.getByRole('region', { name: 'Projects' });
  const project = (name) => panel.locator('li.project', { hasText: name });
  const chat = page.locator('li.convo .convo-link', { hasText: chatTitle });

  await step('projects: create one in the sidebar', async () => {
    page.once('dialog', (d) => d.accept('  Tides  '));
    await panel.getByRole('button', { name: 'New project' }).click();
    await project('Tides').getByText('0 chats').waitFor();
    await project('Tides').locator('.project-pick[aria-pressed="true"]').waitFor();
    await page.getByText('No chats in this project yet.').waitFor();
  });

  await step('projects: move a chat into one, and the list shows only its chats', async () => {
    await panel.getByRole('button', { name: 'All conversations' }).click();
    await chat.waitFor();
    await page.getByRole('button', { name: `Actions for ${chatTitle}` }).click();
    await page.getByRole('menuitem', { name: 'Move to project…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move to project' });
    await dialog.getByLabel('Project').selectOption({ label: 'Tides' });
    await dialog.getByRole('button', { name: 'Move' }).click();
    await project('Tides').getByText('1 chat', { exact: true }).waitFor();
    await project('Tides').locator('.project-pick').click();
    await chat.waitFor();
    const shown = await page.locator('li.convo').count();
    if (shown !== 1) throw new Error(`the project shows ${shown} chats, not 1`);
    await shots(page, 'projects');
    await page.reload();
    await project('Tides').getByText('1 chat', { exact: true }).waitFor();
  });

  await step('projects: rename one', async () => {
    await panel.getByRole('button', { name: 'Actions for project Tides' }).click();
    page.once('dialog', (d) => d.accept('Ocean tides'));
    await page.getByRole('menuitem', { name: 'Rename project' }).click();
    await project('Ocean tides').waitFor();
    await page.reload();
    await project('Ocean tides').getByText('1 chat', { exact: true }).waitFor();
  });

  await step('projects: delete one, its chats stay', async () => {
    await project('Ocean tides').locator('.project-pick').click();
    await chat.waitFor();
    await panel.getByRole('button', { name: 'Actions for project Ocean tides' }).click();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('menuitem', { name: 'Delete project' }).click();
    await panel.getByText('No projects yet.').waitFor();
    await chat.waitFor();
    if (await project('Ocean tides').count()) throw new Error('the deleted project is still listed');
  });
}
