// An answer as it streams, built as LibreChat's client builds it: content parts at the index
// of the run step that made them. `on_run_step` opens a step (text, reasoning or one tool
// call), `on_message_delta` / `on_reasoning_delta` add text or reasoning to a step,
// `on_run_step_delta` adds to a call's arguments (or gives it a sign-in link, or says how far
// it got) and `on_run_step_completed` gives a call its output. The answer's `text` is its text
// parts, a blank line between those a step apart, as the server saves it.

/** The text of an answer's parts, joined as the server joins them. */
export function textOfParts(parts) {
  let out = '';
  for (const p of parts) {
    if (p?.type !== 'text') continue;
    const t = typeof p.text === 'string' ? p.text : p.text?.value || '';
    if (out && t) out += '\n\n';
    out += t;
  }
  return out;
}

/** A part's agent and parallel group, to keep when the part is replaced. */
function author(p) {
  const who = {};
  if (p?.agentId) who.agentId = p.agentId;
  if (p?.groupId != null) who.groupId = p.groupId;
  return who;
}

/** Whether message `m` holds tool calls. */
export const hasToolCalls = (m) => Array.isArray(m.content) && m.content.some((p) => p?.type === 'tool_call');

/** Starts from what a joining client is told: `aggregatedContent` and `runSteps` (a sync frame). */
export function resumeParts(m, steps, resumeState) {
  steps.clear();
  for (const s of resumeState.runSteps || []) if (s?.id) steps.set(s.id, s.index);
  m.content = [...(resumeState.aggregatedContent || [])];
  m.text = textOfParts(m.content);
}

/**
 * Applies stream frame `ev` to message `m` (its `content`), `steps` mapping step ids to
 * indexes. Answers whether it changed the message.
 */
export function applyFrame(m, steps, ev) {
  const d = ev.data || {};
  if (!Array.isArray(m.content)) m.content = m.text ? [{ type: 'text', text: m.text }] : [];
  const parts = m.content;
  switch (ev.event) {
    case 'on_run_step': {
      const at = Number.isInteger(d.index) ? d.index : parts.length;
      if (d.id) steps.set(d.id, at);
      // Which agent wrote the step, and its parallel group, for columns (see columns.js).
      const who = {};
      if (d.agentId) who.agentId = d.agentId;
      if (d.groupId != null) who.groupId = d.groupId;
      const call = d.stepDetails?.type === 'tool_calls' ? d.stepDetails.tool_calls?.[0] : null;
      if (call) parts[at] = { type: 'tool_call', tool_call: { id: call.id, name: call.name, args: call.args || '', type: 'tool_call' }, ...who };
      else if (!parts[at]) parts[at] = { type: 'text', text: '', ...who };
      break;
    }
    case 'on_message_delta':
    case 'on_reasoning_delta':
      for (const piece of d.delta?.content || []) {
        const kind = piece.type === 'think' ? 'think' : 'text';
        const add = (kind === 'think' ? piece.think : piece.text) || '';
        let at = steps.get(d.id);
        if (at === undefined) {
          // A step never announced: more of the last part of its kind, or a new one.
          const last = parts.length - 1;
          at = parts[last]?.type === kind ? last : parts.length;
        }
        const p = parts[at];
        if (p?.type === kind) p[kind] = (p[kind] || '') + add;
        // A step opens as text; its first delta says whether it is reasoning.
        else if (!p || (p.type === 'text' && !p.text)) parts[at] = { ...author(p), type: kind, [kind]: add };
      }
      break;
    case 'on_run_step_delta': {
      const p = parts[steps.get(d.id)];
      if (p?.type !== 'tool_call') return false;
      // How far a running call got (an MCP server's progress): shown, never saved; the
      // server keeps none of it, and the call's end replaces the part.
      if (d.delta?.progress && !d.delta.tool_calls) {
        if (p.tool_call.output != null) return false;
        const { progress, total, message } = d.delta.progress;
        p.tool_call.liveProgress = { progress, total, message };
        break;
      }
      for (const chunk of d.delta?.tool_calls || []) p.tool_call.args = (p.tool_call.args || '') + (chunk.args || '');
      // A call that waits for the person to sign in (an OAuth action) carries the link; the
      // server sends the call again without it once the sign-in is done.
      if (d.delta?.auth) Object.assign(p.tool_call, { auth: d.delta.auth, expires_at: d.delta.expires_at });
      else if (d.delta?.tool_calls?.some((c) => c.name)) delete p.tool_call.auth;
      break;
    }
    case 'on_run_step_completed': {
      const r = d.result || {};
      const at = Number.isInteger(r.index) ? r.index : steps.get(r.id);
      if (at === undefined || !r.tool_call) return false;
      parts[at] = { ...author(parts[at]), type: 'tool_call', tool_call: r.tool_call };
      break;
    }
    default:
      return false;
  }
  m.text = textOfParts(parts);
  return true;
}
