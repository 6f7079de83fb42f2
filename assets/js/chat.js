// The conversation view: the shown branch of messages (rendered lazily, newest first on
// screen), the picker and the composer; sending (with files), streaming, stopping,
// regenerating, continuing, editing, switching versions, forking and feedback.

import { config, get, post, put } from './api.js';
import { artifactPanel } from './artifacts.js';
import { dropZone } from './attach.js';
import { compare } from './compare.js';
import { composer } from './composer.js';
import { h, iconButton, mount, throttle, toast } from './dom.js';
import { messageElement, updateStreaming } from './message.js';
import { agentAvatar, agentName } from './agentcatalog.js';
import { AGENTS, loadCatalog, picker } from './picker.js';
import { follow } from './stream.js';
import { NO_PARENT, Tree, textOf } from './tree.js';
import { navigate } from './router.js';
import { requestFiles } from './uploads.js';
import { applyFrame, resumeParts } from './runsteps.js';
import { addAttachment } from './memoryupdates.js';
import { toolToggles } from './tooltoggles.js';
import { mcpMenu } from './mcpmenu.js';

/** How many messages of the branch are put on screen at a time. */
const WINDOW = 40;
/** The run id of LibreChat's steps that come before the answer has one. */
const PRELIM = 'USE_PRELIM_RESPONSE_MESSAGE_ID';

export const convoEvents = new EventTarget();
/** Tells the sidebar a conversation changed (or appeared). */
export function announce(conversation) {
  convoEvents.dispatchEvent(new CustomEvent('convo', { detail: conversation }));
}

let current = null;

/**
 * The view for conversation `id` (`new` for a new one); `focus` names a message to show;
 * `agent` is the agent a new one is with.
 */
export async function chatScreen(root, id, { focus, agent } = {}) {
  current?.leave();
  const view = new ChatView(root);
  current = view;
  if (id === 'new' && agent) {
    view.settings.endpoint = AGENTS;
    view.settings.params.agent_id = agent;
  }
  await view.open(id === 'new' ? null : id, focus);
  return view;
}

export const activeChat = () => current;

class ChatView {
  constructor(root) {
    this.root = root;
    this.tree = new Tree();
    this.convo = null;
    this.settings = { endpoint: null, model: null, params: {}, ephemeral: {} };
    this.stream = null;
    this.shownFrom = 0;
    this.left = false;
    this.atBottom = true;
    this.list = h('div', { class: 'messages', role: 'log', 'aria-live': 'off', 'aria-label': 'Messages' });
    this.scroller = h('div', { class: 'scroller' }, this.list);
    this.scroller.addEventListener('scroll', () => {
      this.atBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 48;
      this.downBtn.hidden = this.atBottom;
    });
    this.downBtn = iconButton('down', 'Scroll to the newest message', () => this.scrollDown(true), { class: 'icon-btn to-bottom', hidden: true });
    this.toggles = toolToggles(this.settings);
    this.mcp = mcpMenu(this.settings, () => this.convo?.conversationId);
    this.composer = composer({
      onSend: (text, files) => this.send({ text, files, fromComposer: true }),
      onStop: () => this.stop(),
      target: () => this.uploadTarget(),
      below: h('div', { class: 'composer-tools' }, this.toggles.el, this.mcp.el),
    });
    // Another endpoint may take no files, or other limits; an agent has its own tools and
    // conversation starters.
    this.picker = picker(this.settings, () => {
      this.composer.files.refresh();
      this.toggles.sync();
      this.mcp.sync();
      if (!this.convo && !this.stream && !this.tree.branch().length) this.showEmpty();
    });
    this.compare = compare();
    this.temporary = h('input', { type: 'checkbox', id: 'temporary-chat' });
    this.temporaryToggle = h('label', { class: 'radio temporary', for: 'temporary-chat', hidden: true }, this.temporary, 'Temporary chat');
    this.renderThrottled = throttle(() => this.renderStreaming(), 120);
    this.topSentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && this.shownFrom > 0) this.showEarlier();
    }, { root: this.scroller, rootMargin: '400px 0px 0px 0px' });
  }

  leave() {
    this.left = true;
    this.observer.disconnect();
    this.stream?.controller.abort();
    this.composer.files.discard();
  }

  /**
   * Where an upload goes: the endpoint (and its type) of the next message, this conversation;
   * to file search while its switch is on.
   */
  async uploadTarget() {
    // The catalog first: a new chat's endpoint is chosen once it is loaded.
    const catalog = await loadCatalog().catch(() => ({ endpoints: [] }));
    const endpoint = this.settings.endpoint;
    const info = catalog.endpoints.find(([name]) => name === endpoint)?.[1];
    const toolResource = this.toggles.fileSearch() ? 'file_search' : undefined;
    return { endpoint, endpointType: info?.type || '', conversationId: this.convo?.conversationId, toolResource };
  }

  async open(id, focus) {
    const chat = h('div', { class: 'chat' },
      h('div', { class: 'chat-top' }, this.picker.el, this.compare.el, this.temporaryToggle),
      this.picker.panel,
      this.scroller,
      this.downBtn,
      h('div', { class: 'composer-wrap' }, this.composer.el,
        h('p', { class: 'hint' }, 'Enter to send · Shift+Enter for a new line · Esc to stop')),
      artifactPanel().el);
    mount(this.root, chat);
    const files = this.composer.files;
    dropZone(chat, (list) => files.add(list), () => files.enabled());
    if (!id) {
      files.refresh();
      config().then((c) => { this.temporaryToggle.hidden = c.interface?.temporaryChat === false; }).catch(() => {});
      this.showEmpty();
      this.composer.focus();
      return;
    }
    try {
      const [convo, messages] = await Promise.all([get(`api/convos/${encodeURIComponent(id)}`), get(`api/messages/${encodeURIComponent(id)}`)]);
      if (this.left) return;
      this.convo = convo;
      this.settings.endpoint = convo.endpoint;
      this.settings.model = convo.model;
      for (const k of ['promptPrefix', 'temperature', 'max_tokens', 'artifacts', 'tools', 'agent_id']) {
        if (convo[k] !== undefined && convo[k] !== null) this.settings.params[k] = convo[k];
      }
      this.picker.sync();
      this.toggles.sync();
      this.mcp.restore(convo.conversationId);
      files.refresh();
      document.title = convo.title || 'Chat';
      for (const m of messages) this.tree.put(m);
      if (focus && this.tree.get(focus)) this.tree.reveal(focus);
      this.renderAll(focus);
      this.resumeIfRunning(id);
    } catch (e) {
      mount(this.list, h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'This conversation does not exist or was deleted.' : e.message));
    }
  }

  /** A new chat: a greeting, or the chosen agent with its conversation starters. */
  showEmpty() {
    const agent = this.picker.agent();
    if (!agent) return mount(this.list, h('div', { class: 'empty' }, h('h1', {}, 'How can I help you today?')));
    const starters = (agent.conversation_starters || []).filter((t) => typeof t === 'string' && t.trim());
    mount(this.list, h('div', { class: 'empty agent-intro' },
      agentAvatar(agent, { large: true }),
      h('h1', {}, agentName(agent)),
      agent.description ? h('p', { class: 'agent-description' }, agent.description) : null,
      starters.length ? h('div', { class: 'starters', role: 'group', 'aria-label': 'Conversation starters' },
        starters.map((t) => h('button', { type: 'button', class: 'starter', onclick: () => this.send({ text: t }) }, t))) : null));
  }

  /** Puts the shown branch on screen: its last WINDOW messages, earlier ones on demand. */
  renderAll(focus) {
    const branch = this.tree.branch();
    if (!branch.length) return this.showEmpty();
    let from = Math.max(0, branch.length - WINDOW);
    const at = focus ? branch.findIndex((m) => m.messageId === focus) : -1;
    if (at >= 0 && at < from) from = Math.max(0, at - 5);
    this.shownFrom = from;
    const streamingId = this.stream?.responseId;
    mount(this.list, this.topSentinel, branch.slice(from).map((m, i) => this.element(m, from + i === branch.length - 1, streamingId)));
    this.observer.observe(this.topSentinel);
    if (at >= 0) {
      const el = this.list.querySelector(`[data-id="${CSS.escape(focus)}"]`);
      el?.scrollIntoView({ block: 'center' });
      el?.classList.add('highlight');
    } else this.scrollDown(true);
  }

  element(m, isLast, streamingId) {
    // The chosen agent's picture beside the answers it wrote (LibreChat's agent answers).
    const agent = this.picker.agent();
    return messageElement(m, {
      tree: this.tree,
      agent: !m.isCreatedByUser && m.endpoint === AGENTS && agent && m.sender === agentName(agent) ? agent : null,
      isLast,
      streaming: !!this.stream && (m.messageId === streamingId || isLast),
      onSibling: (msg, step) => this.sibling(msg, step),
      onEdit: (msg, text, resubmit) => this.edit(msg, text, resubmit),
      onRegenerate: (msg) => this.regenerate(msg),
      onContinue: (msg) => this.continueAnswer(msg),
      onFork: (msg) => this.fork(msg),
      onFeedback: (msg, rating) => this.feedback(msg, rating),
      onRetry: (msg) => this.regenerate(msg),
    });
  }

  showEarlier() {
    const branch = this.tree.branch();
    const to = this.shownFrom;
    const from = Math.max(0, to - WINDOW);
    const before = this.scroller.scrollHeight;
    this.topSentinel.after(...branch.slice(from, to).map((m) => this.element(m, false)));
    this.shownFrom = from;
    this.scroller.scrollTop += this.scroller.scrollHeight - before;
  }

  scrollDown(force = false) {
    if (force || this.atBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  sibling(m, step) {
    const sibs = this.tree.siblings(m);
    const i = sibs.indexOf(m.messageId) + step;
    if (i < 0 || i >= sibs.length) return;
    this.tree.choose(sibs[i]);
    this.renderAll();
  }

  /**
   * Starts an answer. `opts`: {text, files?, parentMessageId?, isRegenerate?, isContinued?,
   * responseMessageId?, fromComposer?}; `files` are stored files (TFile), sent as LibreChat's
   * client sends them; what came `fromComposer` goes back there if the server refuses it.
   */
  async send(opts) {
    if (this.stream) return;
    // Sent before the models have loaded (a quick Enter after opening the page): wait for the
    // list, whose first callback is the picker's choice.
    if (!this.settings.endpoint) {
      await loadCatalog().catch(() => {});
      if (this.stream) return;
    }
    const leaf = this.tree.leaf();
    const body = {
      text: opts.text ?? '',
      conversationId: this.convo?.conversationId ?? null,
      parentMessageId: opts.parentMessageId ?? leaf?.messageId ?? NO_PARENT,
      endpoint: this.settings.endpoint,
      model: this.settings.model,
      ...this.settings.params,
    };
    for (const k of ['isRegenerate', 'isContinued', 'responseMessageId']) if (opts[k]) body[k] = opts[k];
    if (this.settings.endpoint === AGENTS) delete body.model;
    else {
      delete body.agent_id;
      const ephemeral = this.toggles.ephemeral();
      if (ephemeral) body.ephemeralAgent = ephemeral;
      // The MCP servers chosen in the composer (LibreChat's `ephemeralAgent.mcp`).
      const mcp = this.mcp.chosen();
      if (mcp.length) body.ephemeralAgent = { ...(body.ephemeralAgent || {}), mcp };
    }
    // The server goes on from the text alone: the continued answer starts over from it.
    const continued = opts.isContinued && this.tree.get(opts.responseMessageId);
    if (continued) continued.content = [{ type: 'text', text: textOf(continued) }];
    const files = requestFiles(opts.files);
    if (files.length) body.files = files;
    // A second model answering beside the first (compare.js).
    const added = this.compare.added();
    if (added) body.addedConvo = added;
    if (!this.convo && this.temporary.checked) body.isTemporary = true;
    if (!this.settings.endpoint) {
      if (opts.fromComposer) this.composer.restore(opts.text, opts.files);
      return toast('No model is available. Ask your administrator to configure one.', 'error');
    }
    const controller = new AbortController();
    this.stream = { controller, steps: new Map(), streamId: null, responseId: opts.responseMessageId || null, userId: opts.isRegenerate || opts.isContinued ? body.parentMessageId : null };
    this.composer.setBusy(true);
    try {
      const started = await post(`api/agents/chat/${encodeURIComponent(this.settings.endpoint)}`, body);
      this.stream.streamId = started.streamId;
      if (!this.convo) {
        this.convo = { conversationId: started.conversationId, title: 'New Chat', endpoint: this.settings.endpoint, model: this.settings.model };
        this.temporaryToggle.hidden = true;
        this.mcp.remember();
        history.replaceState(null, '', new URL(`c/${started.conversationId}`, document.baseURI).pathname);
        announce({ ...this.convo, updatedAt: new Date().toISOString() });
      }
      await this.followStream(started.streamId, false);
    } catch (e) {
      if (!controller.signal.aborted) {
        toast(e.message, 'error');
        // Refused before it started (a file no longer there, a limit): nothing typed is lost.
        if (opts.fromComposer && !this.stream?.streamId) this.composer.restore(opts.text, opts.files);
      }
      this.endStream();
    }
  }

  async followStream(streamId, resume) {
    const controller = this.stream.controller;
    const final = await follow(streamId, { resume, signal: controller.signal, onEvent: (ev) => this.onEvent(ev) });
    if (this.left) return;
    if (!final) {
      // The answer ended and was cleaned up meanwhile: the stored messages tell the rest.
      this.endStream();
      const messages = await get(`api/messages/${encodeURIComponent(this.convo.conversationId)}`);
      for (const m of messages) this.tree.put(m);
      this.renderAll();
      return;
    }
    if (final.requestMessage) this.tree.put(final.requestMessage);
    if (final.responseMessage) {
      this.tree.put(final.responseMessage);
      this.tree.choose(final.responseMessage.messageId);
    }
    if (final.conversation) {
      this.convo = { ...this.convo, ...final.conversation };
      announce(final.conversation);
    }
    if (final.error && !final.responseMessage) toast(final.error.message || 'The answer failed.', 'error');
    this.endStream();
    this.renderAll();
    if (this.convo?.title === 'New Chat' || !this.convo?.title) this.pollTitle();
  }

  endStream() {
    this.stream = null;
    this.composer.setBusy(false);
  }

  onEvent(ev) {
    if (this.left || !this.stream) return;
    if (ev.created && ev.message) {
      this.tree.put(ev.message);
      this.tree.choose(ev.message.messageId);
      this.stream.userId = ev.message.messageId;
      this.renderAll();
      return;
    }
    if (ev.sync) {
      const rs = ev.resumeState || {};
      if (rs.userMessage?.messageId) {
        this.tree.put(rs.userMessage);
        this.stream.userId = rs.userMessage.messageId;
      }
      this.stream.responseId = rs.responseMessageId || this.stream.responseId;
      resumeParts(this.ensureResponse(), this.stream.steps, rs);
      this.renderAll();
      return;
    }
    if (ev.event === 'attachment' && ev.data) {
      // What the memory agent did, a search's sources (LibreChat's `attachment` event): shown
      // with the answer it names, which may not have streamed a word yet.
      if (!this.stream.responseId && ev.data.messageId) this.stream.responseId = ev.data.messageId;
      const m = this.tree.get(ev.data.messageId) || this.ensureResponse();
      if (!addAttachment(m, ev.data)) return;
      if (m.messageId === (this.stream.responseId || 'pending-response')) this.renderStreaming();
      else this.renderAll();
      return;
    }
    if (ev.event === 'on_run_step') this.takeRunId(ev.data?.runId);
    const fresh = !this.tree.get(this.stream.responseId || 'pending-response');
    if (!applyFrame(this.ensureResponse(), this.stream.steps, ev)) return;
    // A new answer, or a step that changes the answer's layout, is put on screen at once.
    if (fresh) this.renderAll();
    else this.renderThrottled();
  }

  /**
   * The answer a step belongs to. LibreChat's sign-in step before the model runs (an MCP
   * server that wants the person's OAuth) names none yet (`USE_PRELIM_RESPONSE_MESSAGE_ID`):
   * it shows in a placeholder answer, which the real one replaces when its first step comes.
   */
  takeRunId(runId) {
    if (!runId) return;
    if (runId === PRELIM) {
      this.stream.responseId = null;
      this.stream.prelim = true;
      return;
    }
    if (this.stream.prelim) {
      this.stream.prelim = false;
      this.tree.drop('pending-response');
      this.stream.steps.clear();
    }
    this.stream.responseId = runId;
  }

  /** The answer being streamed, made on first sight. */
  ensureResponse() {
    const id = this.stream.responseId || 'pending-response';
    let m = this.tree.get(id);
    if (!m) {
      m = this.tree.put({
        messageId: id,
        parentMessageId: this.stream.userId || this.tree.leaf()?.messageId || NO_PARENT,
        conversationId: this.convo?.conversationId,
        endpoint: this.settings.endpoint,
        text: '',
        sender: this.settings.endpoint === AGENTS ? agentName(this.picker.agent() || { name: 'Agent' }) : this.settings.model || 'Assistant',
        isCreatedByUser: false,
        unfinished: true,
        createdAt: new Date().toISOString(),
      });
      this.tree.choose(id);
    }
    return m;
  }

  renderStreaming() {
    if (!this.stream) return;
    const m = this.tree.get(this.stream.responseId || 'pending-response');
    const el = m && this.list.querySelector(`[data-id="${CSS.escape(m.messageId)}"]`);
    if (!el) return this.renderAll();
    updateStreaming(el, m);
    this.scrollDown();
  }

  async stop() {
    if (!this.stream) return;
    const id = this.stream.streamId || this.convo?.conversationId;
    if (!id) return;
    try {
      await post('api/agents/chat/abort', { streamId: id, conversationId: this.convo?.conversationId });
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async resumeIfRunning(id) {
    try {
      const status = await get(`api/agents/chat/status/${encodeURIComponent(id)}`);
      if (!status?.active || this.left || this.stream) return;
      this.stream = { controller: new AbortController(), steps: new Map(), streamId: status.streamId || id, responseId: null, userId: null };
      this.composer.setBusy(true);
      await this.followStream(this.stream.streamId, true);
    } catch {
      this.endStream();
    }
  }

  regenerate(m) {
    const question = m.isCreatedByUser ? m : this.tree.get(m.parentMessageId);
    if (!question) return;
    this.send({ text: textOf(question), parentMessageId: question.messageId, isRegenerate: true });
  }

  continueAnswer(m) {
    this.send({ parentMessageId: m.parentMessageId, isContinued: true, responseMessageId: m.messageId });
  }

  async edit(m, text, resubmit) {
    if (!text.trim() && !(resubmit && m.files?.length)) return;
    if (resubmit) {
      // A new version of the question, with the same files: a sibling of the old one, answered anew.
      return this.send({ text, files: m.files, parentMessageId: m.parentMessageId || NO_PARENT });
    }
    try {
      await put(`api/messages/${encodeURIComponent(m.conversationId)}/${encodeURIComponent(m.messageId)}`, { text });
      this.tree.put({ ...m, text });
      this.renderAll();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async fork(m) {
    try {
      const out = await post('api/convos/fork', { conversationId: m.conversationId, messageId: m.messageId, option: 'directPath', splitAtTarget: false });
      announce(out.conversation);
      navigate(`c/${out.conversation.conversationId}`);
      toast('Forked into a new conversation');
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async feedback(m, rating) {
    try {
      await put(`api/messages/${encodeURIComponent(m.conversationId)}/${encodeURIComponent(m.messageId)}/feedback`, { feedback: rating ? { rating } : null });
      this.tree.put({ ...m, feedback: rating ? { rating } : undefined });
      this.renderAll();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async pollTitle() {
    const id = this.convo?.conversationId;
    if (!id) return;
    try {
      const { title } = await get(`api/convos/gen_title/${encodeURIComponent(id)}`);
      if (title && !this.left) {
        this.convo.title = title;
        document.title = title;
        announce({ ...this.convo, title });
      }
    } catch {
      // No title (titles off, or not ready): the conversation keeps "New Chat".
    }
  }
}
