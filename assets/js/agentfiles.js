// The agent builder's Files: documents whose text the agent reads in every chat (LibreChat's
// "File Context", the agent's `tool_resources.context`). Listed from `GET /api/files/agent/:id`;
// uploaded one at a time through `POST /api/files` with `agent_id` and `tool_resource`
// (each upload makes a version of the agent); taken out with `DELETE /api/files` naming the
// agent, which leaves the file its owner's and the agent's version as it is. Each change is
// saved at once, apart from the agent's form. The server reads each document and says why
// it will not (an image has no text here); what it says is shown.

import { del, get } from './api.js';
import { h, mount, toast } from './dom.js';
import { fileConfig, limitsFor, refusal, sizeLabel, typeLabel, upload, uuid } from './uploads.js';

const RESOURCE = 'context';

/**
 * The section for `agent` (the builder's copy, whose `tools`, `tool_resources` and `version`
 * it keeps up to date: an upload adds `context` to its tools, which a save of the form then
 * keeps); `onChange()` runs after uploads.
 */
export function filesSection(agent, onChange) {
  let files = [];
  const list = h('ul', { class: 'plain-list agent-file-list', 'aria-label': 'The agent\'s files' }, h('li', { class: 'muted' }, 'Loading…'));
  const status = h('div', { class: 'agent-file-status' });
  const input = h('input', { type: 'file', multiple: true, 'aria-label': 'Choose documents for the agent', hidden: true });
  const choose = h('button', { type: 'button', onclick: () => input.click() }, 'Upload documents');

  input.addEventListener('change', () => {
    const picked = [...input.files];
    input.value = '';
    if (picked.length) uploadAll(picked);
  });

  async function uploadAll(picked) {
    choose.disabled = true;
    mount(status);
    const limits = limitsFor(await fileConfig(), 'agents');
    let added = 0;
    for (const file of picked) {
      const name = file.name || 'file';
      const refused = refusal(file, { ...limits, fileLimit: Infinity }, { count: 0, bytes: 0 });
      if (refused) {
        status.append(problem(name, refused));
        continue;
      }
      const progress = h('progress', { class: 'chip-progress', max: 1, 'aria-label': `Uploading ${name}` });
      const line = h('p', { class: 'muted', role: 'status' }, `Uploading ${name}… `, progress);
      status.append(line);
      try {
        const stored = await upload(file, uuid(), { endpoint: 'agents', agentId: agent.id, toolResource: RESOURCE }, {
          onProgress: (p) => { progress.value = p; },
        });
        line.remove();
        files = [...files.filter((f) => f.file_id !== stored.file_id), stored];
        added += 1;
        draw();
        toast(`"${stored.filename || name}" added: the agent reads it in every chat`);
      } catch (e) {
        line.replaceWith(problem(name, e.message));
      }
    }
    choose.disabled = false;
    if (added && await reread()) onChange();
  }

  /** Takes the agent's tools and resources as the server has them now; false on failure. */
  async function reread() {
    try {
      const fresh = await get(`api/agents/${encodeURIComponent(agent.id)}/expanded`);
      Object.assign(agent, { tools: fresh.tools, tool_resources: fresh.tool_resources, version: fresh.version });
      return true;
    } catch (e) {
      toast(e.message, 'error');
      return false;
    }
  }

  async function remove(f) {
    const name = f.filename || 'file';
    try {
      await del('api/files', { files: [{ file_id: f.file_id, filepath: f.filepath }], agent_id: agent.id, tool_resource: RESOURCE });
      files = files.filter((x) => x.file_id !== f.file_id);
      draw();
      toast(`"${name}" removed from the agent`);
      await reread();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  function draw() {
    mount(list, files.length ? files.map((f) => {
      const name = f.filename || 'file';
      return h('li', { class: 'agent-file', 'data-file-id': f.file_id },
        h('div', { class: 'action-text' }, h('strong', {}, name),
          h('span', { class: 'muted small-print' }, `${typeLabel(f.type, name)} · ${sizeLabel(f.bytes)}`)),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${name}`, onclick: () => remove(f) }, 'Remove'));
    }) : h('li', { class: 'muted' }, 'No files yet.'));
  }

  get(`api/files/agent/${encodeURIComponent(agent.id)}`).then((all) => {
    // An upload that ended first is kept.
    const listed = Array.isArray(all) ? all : [];
    files = [...listed, ...files.filter((f) => !listed.some((l) => l.file_id === f.file_id))];
    draw();
  }).catch((e) => mount(list, h('li', { class: 'form-error', role: 'alert' }, e.message)));

  return h('section', { class: 'agent-files', 'aria-label': 'Files' }, h('h2', {}, 'Files'),
    h('p', { class: 'muted small-print' }, 'Documents whose text the agent reads in every chat (File Context). Saved at once, apart from the form above.'),
    list, status, h('div', { class: 'row' }, choose, input));
}

/** Why `name` was not added, as an alert. */
const problem = (name, why) => h('p', { class: 'form-error', role: 'alert' }, `${name}: ${why}`);
