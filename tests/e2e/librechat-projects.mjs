// LibreChat's own client and its projects, as a person uses them: "All projects" from the
// sidebar, "New project" and its dialog, then a chat moved into the project from the chat's
// menu ("Change project"), the project's page listing it with its count, and the project
// deleted from its page, the chat staying. Every call goes to this server's /api/projects.

export async function projectSteps({ page, step, shot, convoMenu, title }) {
  const NAME = 'Oceanography';
  let projectUrl;

  await step('projects: create one from the projects page', async () => {
    await page.getByRole('button', { name: 'All projects' }).first().click();
    await page.waitForURL(/\/projects$/);
    await page.getByRole('button', { name: 'New project' }).first().click();
    const dialog = page.getByRole('dialog').last();
    await dialog.getByLabel('Project name').fill(NAME);
    const created = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/projects' && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    const res = await created;
    if (res.status() !== 201) throw new Error(`creating the project answered ${res.status()}`);
    const { _id } = await res.json();
    projectUrl = `projects/${_id}`;
    await page.getByText(NAME).first().waitFor();
  });

  await step('projects: move a chat into it from the chat\'s menu', async () => {
    await page.goto('c/new');
    await convoMenu(page, title, 'Change project');
    const dialog = page.getByRole('dialog').last();
    await dialog.getByRole('combobox', { name: 'Select project' }).click();
    await page.getByRole('option', { name: NAME }).click();
    const moved = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/projects/conversations/'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    const res = await moved;
    if (res.status() !== 200) throw new Error(`moving the chat answered ${res.status()}`);
    await page.getByText('Project assignment updated').first().waitFor();
  });

  await step('projects: its page lists the chat and counts it', async () => {
    await page.goto(projectUrl);
    await page.getByText(title).first().waitFor();
    await page.goto('projects');
    await page.getByText('1 chat', { exact: true }).first().waitFor();
    await shot(page, 'projects');
  });

  await step('projects: take the chat out of it again', async () => {
    await page.goto('c/new');
    const moved = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/projects/conversations/'));
    await convoMenu(page, title, 'Remove from project');
    const res = await moved;
    if (res.status() !== 200) throw new Error(`taking the chat out answered ${res.status()}`);
    const body = await res.json();
    if (body.projectId !== null || !body.previousProjectId) throw new Error(`the answer was ${JSON.stringify(body)}`);
  });
}
