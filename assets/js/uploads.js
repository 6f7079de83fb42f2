// Files on the server: the upload limits (`GET /api/files/config`), uploading one file as
// LibreChat's client does (multipart `POST /api/files`, images to `/api/files/images`),
// deleting, and saving a stored file. A stored file is read with the bearer token, which a
// plain link would not carry, so it is fetched and handed to the browser as a blob.

import { ApiError, accessToken, del, get, messageOf, onSession, refresh, request, url } from './api.js';

const MB = 1024 * 1024;

let configCache = null;
onSession(() => { configCache = null; });

/** `GET /api/files/config`, once; `{}` when it cannot be read (the server checks anyway). */
export function fileConfig() {
  configCache ??= get('api/files/config').catch(() => {
    configCache = null;
    return {};
  });
  return configCache;
}

/**
 * The limits for uploads to `endpoint`, sizes in bytes: its own, else its type's (`custom`),
 * else `default`, as the server looks them up. What the config leaves out is unlimited.
 */
export function limitsFor(cfg, endpoint, endpointType) {
  const all = cfg?.endpoints || {};
  const e = all[endpoint] || (endpointType && all[endpointType]) || all.default || {};
  const bytes = (mb) => (typeof mb === 'number' && mb >= 0 ? mb * MB : Infinity);
  return {
    disabled: e.disabled === true,
    fileLimit: typeof e.fileLimit === 'number' ? e.fileLimit : Infinity,
    fileSizeLimit: Math.min(bytes(e.fileSizeLimit), bytes(cfg?.serverFileSizeLimit)),
    totalSizeLimit: bytes(e.totalSizeLimit),
  };
}

/** Why `file` may not join the files already `kept` (`{count, bytes}`) under `limits`, or null. */
export function refusal(file, limits, kept) {
  if (limits.disabled) return 'Files cannot be attached for this model.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > limits.fileSizeLimit) {
    return `This file is ${sizeLabel(file.size)}; the limit is ${sizeLabel(limits.fileSizeLimit)} per file.`;
  }
  if (kept.count >= limits.fileLimit) return `At most ${limits.fileLimit} files can be sent with a message.`;
  if (kept.bytes + file.size > limits.totalSizeLimit) {
    return `All files of a message may take at most ${sizeLabel(limits.totalSizeLimit)}.`;
  }
  return null;
}

/** "812 B", "4.2 KB", "1.5 MB". */
export function sizeLabel(bytes) {
  const n = Number(bytes) || 0;
  const short = (x) => String(Number(x.toFixed(x < 10 ? 1 : 0)));
  if (n < 1024) return `${n} B`;
  if (n < MB) return `${short(n / 1024)} KB`;
  if (n < 1024 * MB) return `${short(n / MB)} MB`;
  return `${short(n / (1024 * MB))} GB`;
}

const TYPE_NAMES = {
  'text/plain': 'Text', 'text/markdown': 'Markdown', 'text/x-markdown': 'Markdown', 'text/csv': 'CSV',
  'text/html': 'HTML', 'application/json': 'JSON', 'application/pdf': 'PDF', 'text/xml': 'XML',
  'application/xml': 'XML', 'application/yaml': 'YAML', 'application/x-yaml': 'YAML', 'text/x-yaml': 'YAML',
};

/** A short name for a file's type: "Markdown", "Image", else its extension. */
export function typeLabel(type, name = '') {
  if (TYPE_NAMES[type]) return TYPE_NAMES[type];
  if (String(type).startsWith('image/')) return 'Image';
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1];
  return ext ? ext.toUpperCase() : 'File';
}

/** A random (v4) UUID; `crypto.randomUUID` exists only on https and localhost. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `{width, height}` of the image at `src` (an object URL), or null when it cannot be read. */
export async function imageSize(src) {
  try {
    const img = new Image();
    img.src = src;
    await img.decode();
    return { width: img.naturalWidth, height: img.naturalHeight };
  } catch {
    return null;
  }
}

/**
 * Uploads `file` as `fileId` (a UUID of ours; the server answers with its own `file_id` and
 * ours as `temp_file_id`). `to` is `{endpoint, endpointType, conversationId, image, width,
 * height, toolResource?}` (`file_search` for file search), or `{endpoint: 'agents', agentId,
 * toolResource}` for an agent's own file. Resolves with the stored file (TFile); rejects with the server's message.
 * `onProgress(fraction)` follows the upload; `signal` cancels it.
 */
export async function upload(file, fileId, to, { onProgress, signal } = {}) {
  const form = new FormData();
  // The fields of LibreChat's client, the file's name percent-encoded as it encodes it.
  form.append('endpoint', to.endpoint);
  form.append('endpointType', to.endpointType || '');
  form.append('file', file, encodeURIComponent(file.name || 'file'));
  form.append('file_id', fileId);
  // An agent's own file (`agentId`, `toolResource`) is no message's: LibreChat's client
  // sends `message_file` only for a message's.
  if (to.agentId) {
    form.append('agent_id', to.agentId);
    form.append('tool_resource', to.toolResource);
  } else {
    form.append('message_file', 'true');
    // With the file search switch on, a document goes to file search, as LibreChat's client
    // sends it (an image is the model's to see).
    if (to.toolResource && !to.image) form.append('tool_resource', to.toolResource);
  }
  if (to.image && to.width && to.height) {
    form.append('width', String(to.width));
    form.append('height', String(to.height));
  }
  if (to.conversationId) form.append('conversationId', to.conversationId);
  const path = to.image ? 'api/files/images' : 'api/files';
  let res = await post(path, form, onProgress, signal);
  if (res.status === 401 && (await refresh())) res = await post(path, form, onProgress, signal);
  let body = res.text;
  try {
    body = res.text ? JSON.parse(res.text) : null;
  } catch {
    // A proxy's page: its text, if short, is the message.
  }
  if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, messageOf(res.status, body), body);
  return body;
}

/** One multipart POST through XMLHttpRequest, the only way to see an upload's progress. */
function post(path, form, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url(path));
    xhr.setRequestHeader('Accept', 'application/json');
    if (accessToken()) xhr.setRequestHeader('Authorization', `Bearer ${accessToken()}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new ApiError(0, 'The upload failed: the server could not be reached.'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    if (signal?.aborted) return reject(new DOMException('The upload was cancelled.', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** `DELETE /api/files` for the server's `file_id`s. */
export const deleteFiles = (ids) => del('api/files', { files: ids.map((file_id) => ({ file_id })) });

/**
 * A stored file's `filepath` as a URL of this app, or null when it points anywhere else: the
 * token is sent to this server only, and images load from it only. Paths resolve under the
 * app's base, as every API call does.
 */
export function filePath(filepath) {
  if (typeof filepath !== 'string' || !filepath) return null;
  try {
    const u = new URL(filepath.replace(/^\/+/, ''), document.baseURI);
    return u.origin === location.origin ? u.toString() : null;
  } catch {
    return null;
  }
}

/** Downloads a stored file with the session's token and saves it under its name. */
export async function saveFile(f) {
  const path = filePath(f.filepath);
  if (!path) throw new ApiError(0, 'This file cannot be downloaded from here.');
  const res = await request('GET', path, undefined, { raw: true });
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Plain text stays text.
    }
    throw new ApiError(res.status, res.status === 404 ? 'This file is no longer on the server.' : messageOf(res.status, body));
  }
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = f.filename || 'file';
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has started saving by now; the blob can go after a while.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

/** The files of a chat request, as LibreChat's client sends them. */
export function requestFiles(files) {
  return (files || []).filter((f) => f?.file_id).map((f) => {
    const out = { file_id: f.file_id, filename: f.filename, filepath: f.filepath, type: f.type ?? '' };
    if (f.width && f.height) Object.assign(out, { width: f.width, height: f.height });
    return out;
  });
}
