// The bundled app's avatar, as a person sets it: Settings → Account → "Change picture", the
// browser's file picker, then the new picture in the settings and in the sidebar, loaded by
// the browser from the server's `/images/...` with the session's cookie alone (an <img> sends
// no bearer token), square and 150 pixels wide as the server makes it; it stays after a
// reload, and a file that is no picture is refused with the avatar unchanged.

/** A PNG of `w` × `h` pixels drawn in the page: a sea under a moon. */
export async function picture(page, w, h) {
  const b64 = await page.evaluate(([w, h]) => {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d');
    g.fillStyle = '#1d6fa5';
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#f4d35e';
    g.beginPath();
    g.arc(w / 2, h / 2, h / 4, 0, Math.PI * 2);
    g.fill();
    return canvas.toDataURL('image/png').split(',')[1];
  }, [w, h]);
  return Buffer.from(b64, 'base64');
}

/** The natural size of the loaded image `locator` shows, once it has loaded. */
export async function loadedSize(locator) {
  await locator.waitFor();
  await locator.evaluate((img) => (img.complete && img.naturalWidth ? null : new Promise((ok, fail) => {
    img.addEventListener('load', ok, { once: true });
    img.addEventListener('error', () => fail(new Error(`${img.src} did not load`)), { once: true });
  })));
  return locator.evaluate((img) => ({ width: img.naturalWidth, height: img.naturalHeight, src: img.getAttribute('src') }));
}

export async function avatarSteps({ page, step, shot }) {
  const settings = page.getByRole('dialog', { name: 'Settings' });
  const inSettings = settings.getByRole('img', { name: 'Your profile picture' });
  const inSidebar = page.locator('.side-bottom img.avatar');
  const choose = async (file) => {
    const chooser = page.waitForEvent('filechooser');
    await settings.getByRole('button', { name: 'Change picture' }).click();
    await (await chooser).setFiles(file);
  };

  let first;
  await step('avatar: upload a picture in settings; it shows there and in the sidebar', async () => {
    await page.goto('c/new');
    // No picture yet: the initial stands in for it.
    await page.locator('.side-bottom .avatar.initial').waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Account' }).click();
    await settings.getByRole('heading', { name: 'Profile picture' }).waitFor();
    await choose({ name: 'moon.png', mimeType: 'image/png', buffer: await picture(page, 320, 200) });
    await settings.getByText('Profile picture updated.').waitFor();
    first = await loadedSize(inSettings);
    if (first.width !== 150 || first.height !== 150) throw new Error(`the avatar is ${first.width} × ${first.height}`);
    if (!/\/images\/[0-9a-f]+\/[0-9a-f-]+\.png\?manual=true$/.test(first.src)) throw new Error(`the avatar loads from ${first.src}`);
    // The sidebar changed without a reload.
    const side = await loadedSize(inSidebar);
    if (side.src !== first.src) throw new Error(`the sidebar shows ${side.src}`);
    await shot(page, 'settings-avatar');
  });

  await step('avatar: a file that is no picture is refused, and the avatar stays', async () => {
    await choose({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture at all') });
    await page.locator('.toast.error', { hasText: 'is not a image/png file' }).waitFor();
    if ((await inSettings.getAttribute('src')) !== first.src) throw new Error('the avatar changed');
    await page.getByRole('button', { name: 'Close settings' }).click();
  });

  await step('avatar: after a reload the sidebar still shows it', async () => {
    await page.reload();
    const side = await loadedSize(inSidebar);
    if (side.src !== first.src || side.width !== 150) throw new Error(`the sidebar shows ${JSON.stringify(side)}`);
  });

  await step('avatar: the person\'s own messages carry it', async () => {
    await page.locator('li.convo .convo-link', { hasText: 'Tides research' }).click();
    const mine = page.locator('.msg-author img.avatar').first();
    await mine.waitFor();
    const src = await mine.getAttribute('src');
    if (!first.src.endsWith(src)) throw new Error(`a message shows ${src}, not ${first.src}`);
  });
}
