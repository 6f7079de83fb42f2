// The bundled app's file attachments, as a person uses them: the paperclip and its file
// picker, a file dropped on the chat, an image pasted into the message box, chips that upload,
// are refused (too large, too many) and are removed;
// then the message goes with its files, shows them, keeps them after a reload, and a document
// downloads again. tests/e2e.rs gives the server a small `fileConfig` (1 MB a file, 3 files a
// message, images allowed by type, uploads off for the NoFiles endpoint) and checks, after
// this suite, that the document's text reached the model (DOC_MARKER in the provider's
// requests).

/** Whether the server takes images (it does since issue 16, part 4). */
const IMAGES_ACCEPTED = true;
/** What a server that refuses images answers. */
const IMAGE_REFUSAL = 'Images cannot be attached on this server yet';
/** A line of the Markdown document that must reach the model (tests/e2e.rs looks for it). */
export const DOC_MARKER = 'Spring tides follow the new and full moon (marker 5307)';

const api = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  // The app's own module (same URL, same instance): requests go with its session.
  const { request } = await import('/js/api.js');
  return request(m, p, b);
}, [method, path, body]);

const text = (name, content, mimeType = 'text/plain') => ({ name, mimeType, buffer: Buffer.from(content) });

export async function attachmentSteps({ page, step, shot, shots, send, lastAnswer, pickModel }) {
  const composer = page.locator('form.composer');
  const chip = (name) => composer.locator('li.file-chip', { hasText: name });
  const uploaded = (name) => composer.locator('li.file-chip[data-state="done"]', { hasText: name }).waitFor();
  const attach = async (files) => {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles(files);
  };
  const isUpload = (r) => r.method() === 'POST' && /\/api\/files(\/images)?$/.test(new URL(r.url()).pathname);
  // How many uploads the page has sent.
  let uploads = 0;
  page.on('request', (r) => { if (isUpload(r)) uploads += 1; });
  /** The caller's stored file named `name`, as `GET /api/files` lists it. */
  const stored = async (name) => (await api(page, 'GET', 'api/files')).find((f) => f.filename === name);

  await step('files: the attach button is hidden where uploads are off', async () => {
    await page.goto('c/new');
    await pickModel(page, 'no-files-model');
    await page.getByRole('button', { name: 'Attach files' }).waitFor({ state: 'hidden' });
    await pickModel(page, 'gpt-4o');
    await page.getByRole('button', { name: 'Attach files' }).waitFor();
  });

  let tides;
  await step('files: attach with the button; a removed file is deleted on the server', async () => {
    await attach([text('tides.md', `# Tides\n\n${DOC_MARKER}.\n`, 'text/markdown'), text('draft.txt', 'A draft, removed before sending')]);
    await uploaded('tides.md');
    await uploaded('draft.txt');
    await chip('tides.md').getByText(/\d+ B/).waitFor();
    const draft = await stored('draft.txt');
    tides = await stored('tides.md');
    if (!draft || !tides) throw new Error('the uploads are not on the server');
    // With the keyboard: the remove button, then Enter; the focus stays among the chips.
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith('/api/files'));
    await chip('draft.txt').getByRole('button', { name: 'Remove draft.txt' }).focus();
    await page.keyboard.press('Enter');
    const res = await deleted;
    if (res.status() !== 200) throw new Error(`the delete answered ${res.status()}`);
    if (res.request().postDataJSON().files[0].file_id !== draft.file_id) throw new Error('another file was deleted');
    await chip('draft.txt').waitFor({ state: 'detached' });
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    if (focused !== 'Remove tides.md') throw new Error(`the focus went to ${focused}`);
    if (await stored('draft.txt')) throw new Error('the removed file is still on the server');
  });

  await step('files: drop a file on the chat', async () => {
    const dt = await page.evaluateHandle(() => {
      const d = new DataTransfer();
      d.items.add(new File(['day,high water\nMonday,06:12\n'], 'times.csv', { type: 'text/csv' }));
      return d;
    });
    const chat = page.locator('.chat');
    await chat.dispatchEvent('dragenter', { dataTransfer: dt });
    await chat.dispatchEvent('dragover', { dataTransfer: dt });
    await page.getByText('Drop files here to attach them').waitFor();
    await shot(page, 'files-drop-zone');
    await chat.dispatchEvent('drop', { dataTransfer: dt });
    await page.locator('.drop-zone').waitFor({ state: 'hidden' });
    await uploaded('times.csv');
  });

  await step('files: too large, or one too many, is refused in the browser', async () => {
    const before = uploads;
    await attach([text('big.txt', 'x'.repeat(1536 * 1024))]);
    await chip('big.txt').getByRole('alert').getByText('This file is 1.5 MB; the limit is 1 MB per file.').waitFor();
    // Two more: the third file of the message goes up, the fourth is over the limit of 3.
    await attach([text('third.txt', 'three'), text('fourth.txt', 'four')]);
    await uploaded('third.txt');
    await chip('fourth.txt').getByRole('alert').getByText('At most 3 files can be sent with a message.').waitFor();
    if (uploads - before !== 1) throw new Error(`${uploads - before} uploads for one file let through`);
    for (const name of ['big.txt', 'fourth.txt']) await chip(name).getByRole('button', { name: `Remove ${name}` }).click();
    await chip('third.txt').getByRole('button', { name: 'Remove third.txt' }).click();
    await chip('third.txt').waitFor({ state: 'detached' });
  });

  await step('files: a pasted image shows its preview, and the server\'s answer', async () => {
    await page.getByLabel('Message', { exact: true }).focus();
    const answered = page.waitForResponse((r) => isUpload(r.request()));
    await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 96;
      canvas.height = 64;
      const g = canvas.getContext('2d');
      g.fillStyle = '#1d6fa5';
      g.fillRect(0, 0, 96, 64);
      g.fillStyle = '#f4d35e';
      g.beginPath();
      g.arc(62, 26, 16, 0, Math.PI * 2);
      g.fill();
      const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
      const d = new DataTransfer();
      d.items.add(new File([blob], 'image.png', { type: 'image/png' }));
      document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: d, bubbles: true, cancelable: true }));
    });
    await chip('image.png').locator('img.chip-thumb').waitFor();
    const answer = await answered;
    if (!answer.url().endsWith('/api/files/images')) throw new Error(`the image went to ${answer.url()}`);
    if (IMAGES_ACCEPTED) {
      await uploaded('image.png');
    } else {
      await chip('image.png').getByRole('alert').getByText(IMAGE_REFUSAL).waitFor();
      if (answer.status() !== 415) throw new Error(`the image upload answered ${answer.status()}`);
    }
    await shots(page, 'files-composer');
    // Removed before sending (an uploaded one is deleted on the server), so the message below
    // carries the two documents.
    await chip('image.png').getByRole('button', { name: 'Remove image.png' }).click();
  });

  let times;
  await step('files: the message goes with its files and shows them', async () => {
    times = await stored('times.csv');
    await send(page, 'What do these notes say about tides?');
    const question = page.locator('article.msg.user').last();
    await question.getByRole('button', { name: 'Download tides.md (Markdown)' }).waitFor();
    await question.getByRole('button', { name: 'Download times.csv (CSV)' }).waitFor();
    // The fake provider echoes what the model was given: the document, then the question.
    await lastAnswer(page).getByText('(marker 5307)').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    if (await composer.locator('li.file-chip').count()) throw new Error('the chips stayed in the composer');
    await shots(page, 'files-message');
  });

  await step('files: after a reload the message still has them, and they download', async () => {
    await page.reload();
    const question = page.locator('article.msg.user').last();
    const button = question.getByRole('button', { name: 'Download tides.md (Markdown)' });
    const download = page.waitForEvent('download');
    await button.click();
    const saved = await download;
    if (saved.suggestedFilename() !== 'tides.md') throw new Error(`saved as ${saved.suggestedFilename()}`);
    const chunks = [];
    for await (const c of await saved.createReadStream()) chunks.push(c);
    if (!Buffer.concat(chunks).toString().includes(DOC_MARKER)) throw new Error('the download is not the document');
    // The stored message names both files, as the server keeps them.
    const id = new URL(page.url()).pathname.split('/').pop();
    const messages = await api(page, 'GET', `api/messages/${id}`);
    const files = messages.find((m) => m.isCreatedByUser)?.files || [];
    const ids = files.map((f) => f.file_id).sort();
    if (ids.join() !== [tides.file_id, times.file_id].sort().join()) throw new Error(`the message has ${JSON.stringify(files)}`);
  });

  await step('files: edit and resubmit keeps the files', async () => {
    const question = page.locator('article.msg.user').last();
    await question.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Edit message').fill('And what about the times?');
    await page.getByRole('button', { name: 'Save & Submit' }).click();
    const edited = page.locator('article.msg.user').last();
    await edited.getByText('2 / 2').waitFor();
    await edited.getByRole('button', { name: 'Download times.csv (CSV)' }).waitFor();
    await lastAnswer(page).getByText('(marker 5307)').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('files: a message may be a file alone', async () => {
    await attach([text('alone.txt', 'Neap tides come at the quarter moons.')]);
    await uploaded('alone.txt');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    const question = page.locator('article.msg.user').last();
    await question.getByRole('button', { name: 'Download alone.txt (Text)' }).waitFor();
    if (await question.locator('.msg-body').isVisible()) throw new Error('an empty bubble under the file');
    await page.getByRole('button', { name: 'Send message' }).waitFor();
  });

  await step('files: a message the server refuses comes back to the box', async () => {
    await attach([text('gone.txt', 'Deleted in another tab before sending')]);
    await uploaded('gone.txt');
    const gone = await stored('gone.txt');
    await api(page, 'DELETE', 'api/files', { files: [{ file_id: gone.file_id }] });
    await send(page, 'Is anything attached?');
    await page.locator('.toast.error', { hasText: 'File not found' }).waitFor();
    await uploaded('gone.txt');
    const box = page.getByLabel('Message', { exact: true });
    if ((await box.inputValue()) !== 'Is anything attached?') throw new Error('the text was lost');
    await chip('gone.txt').getByRole('button', { name: 'Remove gone.txt' }).click();
    await box.fill('');
  });
}
