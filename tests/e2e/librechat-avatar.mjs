// LibreChat's own client setting the avatar, as a person does it: Account Settings → Settings
// → Account → "Change picture", the dialog's file picker, its preview, "Upload"; then the new
// picture in the navigation's account corner, loaded by the browser from the server's `/images/...` with
// the session's cookie alone, 150 × 150 as the server makes it, and still there after a reload.

import { loadedSize, picture as drawn } from './avatar.mjs';

export async function avatarSteps({ page, step, shot, openSettings }) {
  // The user's avatar where the client shows it (the account corner of the navigation): an
  // <img> of the avatar's URL, as the client renders `user.avatar`.
  const picture = () => page.locator(`img[src="${url}"]`).filter({ visible: true }).first();
  let url;
  await step('avatar: Settings → Account → Change picture, then the navigation shows it', async () => {
    await openSettings(page, 'Account');
    await page.getByRole('button', { name: 'Change picture' }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Select a file' }).click();
    await (await chooser).setFiles({ name: 'moon.png', mimeType: 'image/png', buffer: await drawn(page, 320, 200) });
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/files/images/avatar');
    await page.getByRole('dialog').last().getByRole('button', { name: 'Upload', exact: true }).click();
    const res = await answered;
    if (res.status() !== 200) throw new Error(`the upload answered ${res.status()}`);
    ({ url } = await res.json());
    if (!/^\/images\/[0-9a-f]+\/[0-9a-f-]+\.png\?manual=true$/.test(url)) throw new Error(`the avatar is at ${url}`);
    await page.getByText('Successfully uploaded file').first().waitFor();
    await shot(page, 'settings-avatar');
    // The preview stays open after the upload; Cancel closes it (and the settings with it).
    const preview = page.getByRole('dialog').filter({ has: page.getByRole('heading', { name: 'Preview' }) });
    await preview.getByRole('button', { name: 'Cancel' }).click();
    await preview.waitFor({ state: 'hidden' });
    const shown = await loadedSize(picture());
    if (shown.src !== url || shown.width !== 150 || shown.height !== 150) throw new Error(`the page shows ${JSON.stringify(shown)}`);
  });

  await step('avatar: after a reload the navigation still shows it', async () => {
    await page.reload();
    const shown = await loadedSize(picture());
    if (shown.src !== url) throw new Error(`the page shows ${JSON.stringify(shown)}`);
  });
}
