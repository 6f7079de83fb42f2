// LibreChat's own client attaching files, as a person does it: the composer's "Attach File
// Options" menu ("Upload to Provider" for an image and a PDF, "Upload as Text" for a document), each
// opening the browser's file picker; then the message goes with them, shows the image (loaded
// from its `filepath`, which the browser fetches with the session's cookie alone) and the
// document as a chip that opens LibreChat's preview, keeps them after a reload, and the Files
// panel lists them. tests/librechat_client.rs checks, after the suite, that the document's text
// and the image reached the model (DOC_MARKER and an `image_url` part in the provider's
// requests).

import { crc32, deflateSync } from 'node:zlib';

/** A line of the document that must reach the model (tests/librechat_client.rs looks for it). */
export const DOC_MARKER = 'Neap tides come at the quarter moons (marker 7413)';

/** A line of the PDF that must reach the model as text (tests/librechat_client.rs looks for it). */
export const PDF_MARKER = 'Spring tides follow the full moon (marker 8291)';

/** A one-page PDF showing `line` in Helvetica, as a minimal writer makes one. */
function pdf(line) {
  const content = `BT /F1 14 Tf 72 720 Td (${line.replace(/[\\()]/g, '\\$&')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A PNG of `w` × `h` pixels: a blue sea under a yellow moon. */
function png(w, h) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const moon = (x - 0.6 * w) ** 2 + (y - 0.4 * h) ** 2 < (0.15 * h) ** 2;
      rows.set(moon ? [0xf4, 0xd3, 0x5e] : [0x1d, 0x6f, 0xa5], y * (w * 3 + 1) + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * What the message carries. Each: the menu item LibreChat's client offers for it, the route it
 * uploads to, the `tool_resource` the client sends with it, how the sent message shows it
 * (`image`: an <img> of its `filepath`; `chip`: a button named after the file, which opens
 * LibreChat's preview of its text), and the file. A PDF given "to the provider" is read as
 * text by this server (see README) and shows as a chip.
 */
const ATTACHMENTS = [
  {
    menu: 'Upload to Provider', route: '/api/files/images', toolResource: null, shows: 'image',
    file: { name: 'moon.png', mimeType: 'image/png', buffer: png(96, 64) },
  },
  {
    menu: 'Upload as Text', route: '/api/files', toolResource: 'context', shows: 'chip',
    file: { name: 'tides.md', mimeType: 'text/markdown', buffer: Buffer.from(`# Tides\n\n${DOC_MARKER}.\n`) },
  },
  {
    menu: 'Upload to Provider', route: '/api/files', toolResource: null, shows: 'chip',
    file: { name: 'almanac.pdf', mimeType: 'application/pdf', buffer: pdf(PDF_MARKER) },
  },
];

/**
 * Keeps the text fields of each form the page uploads (`window.uploadForms`), until it
 * reloads: the browser does not show a body that holds a file to the test.
 */
const recordForms = (page) => page.evaluate(() => {
  window.uploadForms = [];
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function sendRecorded(body) {
    if (body instanceof FormData) {
      window.uploadForms.push(Object.fromEntries([...body].filter(([, v]) => typeof v === 'string')));
    }
    return send.call(this, body);
  };
});

/** Waits until `img` has loaded its picture (a broken one fails). */
async function loaded(img) {
  await img.waitFor();
  const width = await img.evaluate((el) => (el.complete ? el.naturalWidth : new Promise((ok, fail) => {
    el.addEventListener('load', () => ok(el.naturalWidth), { once: true });
    el.addEventListener('error', () => fail(new Error(`${el.src} did not load`)), { once: true });
  })));
  if (!(width > 0)) throw new Error(`the image ${await img.getAttribute('src')} is empty`);
}

export async function fileSteps({ page, step, shot, send, message, fromMenu }) {
  // Every stored image the page fetched: the <img> requests, which carry no bearer token.
  const images = [];
  page.on('response', (r) => {
    if (!new URL(r.url()).pathname.startsWith('/images/')) return;
    images.push({ status: r.status(), bearer: 'authorization' in r.request().headers() });
  });
  const composer = page.locator('form').filter({ has: page.getByRole('textbox', { name: 'Message input' }) });

  await step('files: attach an image and a document from the attach menu', async () => {
    await page.getByRole('link', { name: 'New chat' }).first().click();
    await page.waitForURL(/\/c\/new$/);
    await recordForms(page);
    for (const a of ATTACHMENTS) {
      const uploaded = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === a.route);
      const chooser = page.waitForEvent('filechooser');
      await fromMenu(page.getByRole('button', { name: 'Attach File Options' }), page.getByRole('menuitem', { name: a.menu }));
      await (await chooser).setFiles(a.file);
      const res = await uploaded;
      if (res.status() !== 200) throw new Error(`${a.file.name}: the upload answered ${res.status()}`);
      const form = await page.evaluate(() => window.uploadForms.at(-1));
      if ((form.tool_resource ?? null) !== a.toolResource) {
        throw new Error(`${a.file.name} went with ${JSON.stringify(form)}`);
      }
      a.stored = await res.json();
      if (a.stored.filename !== a.file.name) throw new Error(`stored as ${a.stored.filename}`);
      // The composer shows an image by the browser's own copy, a document as a chip.
      const name = a.shows === 'chip' ? a.file.name : 'View Preview image in full size';
      await composer.getByRole('button', { name }).waitFor();
    }
    await composer.getByRole('button', { name: 'Remove file' }).nth(ATTACHMENTS.length - 1).waitFor();
    await shot(page, 'files-composer');
  });

  /** The question shows each file: the image loaded from its filepath, the document a chip. */
  const shown = async () => {
    const question = message(page, 1);
    for (const a of ATTACHMENTS) {
      if (a.shows === 'image') await loaded(question.locator(`img[src$="${a.stored.filepath}"]`));
      else await question.getByRole('button', { name: a.file.name }).waitFor();
    }
  };

  await step('files: the message goes with them and shows them', async () => {
    await send(page, 'What do these notes say about the moon?');
    await shown();
    // The fake provider echoes what the model was given: the document, then the question.
    await message(page, 2).getByText('(marker 7413)').waitFor();
    await message(page, 2).getByText('What do these notes say about the moon?').waitFor();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await shot(page, 'files-message');
  });

  await step('files: the document opens in LibreChat\'s preview', async () => {
    const doc = ATTACHMENTS.find((a) => a.shows === 'chip');
    await message(page, 1).getByRole('button', { name: doc.file.name }).click();
    const preview = page.getByRole('dialog').filter({ hasText: doc.file.name });
    await preview.getByText(DOC_MARKER).waitFor();
    await shot(page, 'files-preview');
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
  });

  await step('files: after a reload the message still shows them', async () => {
    await page.reload();
    await shown();
    const refused = images.filter((i) => i.status !== 200);
    if (refused.length) throw new Error(`image requests answered ${refused.map((i) => i.status)}`);
    if (!images.some((i) => !i.bearer)) throw new Error('no image was fetched with the cookie alone');
  });

  await step('files: the Files panel lists them', async () => {
    await page.getByRole('button', { name: 'Attach Files' }).click();
    const table = page.getByRole('region', { name: 'Files Table' });
    for (const a of ATTACHMENTS) await table.getByText(a.file.name, { exact: true }).waitFor();
    await shot(page, 'files-panel');
    await page.getByRole('button', { name: 'Chat History' }).click();
  });
}
