// Following an answer as it is generated: `GET /api/agents/chat/stream/:id`, read with fetch
// (EventSource cannot send the Authorization header). A dropped connection is resumed with
// `Last-Event-ID`, so nothing is missed and nothing comes twice; `resume` asks for the state
// so far first (after a reload).

import { accessToken, refresh, url } from './api.js';

/** Parses SSE text; calls `onFrame({id, data})` for each complete event; returns the rest. */
export function parseSse(buffer, onFrame) {
  let at;
  while ((at = buffer.search(/\r?\n\r?\n/)) !== -1) {
    const raw = buffer.slice(0, at);
    buffer = buffer.slice(at + (buffer[at] === '\r' ? 4 : 2));
    let id = null;
    const data = [];
    for (const line of raw.split(/\r?\n/)) {
      if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('id:')) id = line.slice(3).trim();
    }
    if (data.length) onFrame({ id, data: data.join('\n') });
  }
  return buffer;
}

/**
 * Follows stream `streamId` until its final frame; `onEvent(payload)` gets each parsed frame.
 * Resolves with the final payload. `signal` stops following (the answer goes on on the server).
 */
export async function follow(streamId, { onEvent, resume = false, signal } = {}) {
  let lastId = null;
  let attempts = 0;
  for (;;) {
    const headers = { Accept: 'text/event-stream' };
    if (accessToken()) headers.Authorization = `Bearer ${accessToken()}`;
    if (lastId) headers['Last-Event-ID'] = lastId;
    const q = resume && !lastId ? '?resume=true' : '';
    let res;
    try {
      res = await fetch(url(`api/agents/chat/stream/${encodeURIComponent(streamId)}${q}`), { headers, signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      if (++attempts > 5) throw new Error('The connection to the server was lost.');
      await new Promise((r) => setTimeout(r, 500 * attempts));
      continue;
    }
    if (res.status === 401 && attempts++ < 2 && (await refresh())) continue;
    if (res.status === 404) return null; // the answer is over and gone: reload the messages
    if (!res.ok) throw new Error(`The stream could not be opened (${res.status}).`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let final = null;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseSse(buffer + value, ({ id, data }) => {
          if (id) lastId = id;
          let payload;
          try {
            payload = JSON.parse(data);
          } catch {
            return;
          }
          attempts = 0;
          if (payload.final) final = payload;
          onEvent?.(payload);
        });
        if (final) return final;
      }
    } catch (e) {
      if (signal?.aborted) throw e;
    }
    if (final) return final;
    // The connection ended before the final frame: pick up where it stopped.
    if (++attempts > 5) throw new Error('The connection to the server was lost.');
    await new Promise((r) => setTimeout(r, 300 * attempts));
  }
}
