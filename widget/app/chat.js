// The Chat tab: the start form, then the live conversation (queue, agent, typing, delivery states),
// then the ending (solved? → rating, not solved → complaint reference).
import { $, h, clear, icon, ICONS, initials, isolate, patchChildren } from './dom.js';
import { t, formatEta, formatDate, formatTime } from './i18n.js';
import { storage, uuid } from './storage.js';
import { Transcript } from './transcript.js';
import { endingCard } from './ending.js';
import { EMAIL } from './email.js';

const RETRY_CODES = new Set(['offline', 'timeout', 'unavailable', 'internal', 'rate_limited']);
const TYPING_IDLE_MS = 3000;
const TYPING_REPEAT_MS = 2500;
const AGENT_TYPING_TTL_MS = 8000;
const PAGE_WAIT_MS = 1500;
const PAGE_WAITS = 3;
export class Chat {
  constructor({ conn, getConfig, whenSession, onAgentMessage, showTab, openArticle }) {
    this.conn = conn;
    this.getConfig = getConfig;
    this.whenSession = whenSession;
    this.onAgentMessage = onAgentMessage;
    this.showTab = showTab;
    this.openArticle = openArticle;
    this.conversation = null;
    this.queue = null;
    this.ending = null;
    this.endRequest = null;
    this.inFlight = new Set();
    this.starting = false;
    // until the next session, which brings whatever chat is open: no reason to ask for another
    this.awaitingSession = true;
    this.catchingUp = false;
    this.catchUpAgain = false;
    this.typingSentAt = 0;
    this.typingTimer = null;
    this.agentTypingTimer = null;
    this.transcript = new Transcript($('log'));
    this.pinned = true;
    this.bind();
    this.subscribe();
    storage.onLastChatElsewhere(() => this.followOtherTab());
  }

  // -- wiring ---------------------------------------------------------------------------------

  bind() {
    $('start-form').addEventListener('submit', (e) => { e.preventDefault(); this.start(); });
    $('all-answers').addEventListener('click', () => this.showTab('help'));
    $('home-complaint').addEventListener('click', () => this.showTab('complaints', { form: true }));
    const input = $('composer-input');
    input.addEventListener('input', () => { this.autosize(); this.typed(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submitComposer(); }
    });
    $('composer').addEventListener('submit', (e) => { e.preventDefault(); this.submitComposer(); });
    // a reader at the end stays at the end when the view shrinks (a phone keyboard, a rotated screen)
    const scroller = $('scroller');
    scroller.addEventListener('scroll', () => { this.pinned = this.nearBottom(); }, { passive: true });
    new ResizeObserver(() => { if (this.pinned) scroller.scrollTop = scroller.scrollHeight; }).observe(scroller);
  }

  subscribe() {
    this.conn.on('disconnect', () => { this.awaitingSession = true; });
    this.conn.on('message:new', (m) => this.onMessage(m, true));
    this.conn.on('queue:update', (q) => {
      if (this.isCurrent(q.conversation_id)) {
        this.queue = { position: q.position, eta_seconds: q.eta_seconds, deadline_at: q.deadline_at };
        this.renderStatus();
      } else {
        this.startedElsewhere();
      }
    });
    this.conn.on('chat:assigned', (a) => {
      if (!this.isCurrent(a.conversation_id)) return this.startedElsewhere();
      Object.assign(this.conversation, { status: 'active', agent: { name: a.agent && a.agent.name } });
      this.queue = null;
      this.showAgentTyping(false);  // whoever typed before (taken over, transferred) will not send it now
      this.renderStatus();
    });
    this.conn.on('chat:requeued', (r) => {
      if (!this.isCurrent(r.conversation_id)) return;
      Object.assign(this.conversation, { status: 'queued', agent: null, requeued: true });
      this.queue = null;
      this.showAgentTyping(false);
      this.renderStatus();
    });
    this.conn.on('typing', (e) => {
      if (this.isCurrent(e.conversation_id)) this.showAgentTyping(e.typing, e.author);
    });
    this.conn.on('chat:closed', (c) => this.closed(c));
  }

  isCurrent(conversationId) {
    return Boolean(this.conversation && this.conversation.id === conversationId);
  }

  /** News of a chat this tab does not show, while it shows none open: the customer started it in
   *  another tab. A fresh session takes it up, as after a reload. */
  startedElsewhere() {
    if (this.starting || this.awaitingSession || (this.conversation && this.conversation.status !== 'closed')) return;
    this.awaitingSession = true;
    this.conn.restart();
  }

  // -- session and catching up ---------------------------------------------------------------

  /** Every (re)connect: adopt the open conversation, resend unsent messages, fetch what we missed. */
  async onSession(session) {
    this.awaitingSession = false;
    const serverTime = Date.parse(session.server_time);
    this.clockSkew = Number.isNaN(serverTime) ? 0 : Date.now() - serverTime;
    const open = session.conversation;
    if (!open) {
      storage.keepPendingFor(null);
      const ended = this.conversation && this.conversation.status !== 'closed';
      if (ended && !this.ending) {
        // it ended while we were away: "ended" until the history answer says how
        this.conversation.status = 'closed';
        this.ending = { kind: 'ended', away: true };
      }
      const last = !this.conversation && storage.lastChat();
      if (last) this.resume(last);
      this.render();
      if (ended || last) {
        // what was said before it ended, our own messages that got there among it; the rest never will
        await this.catchUp();
        this.transcript.failPending();
      }
      return;
    }
    if (!this.isCurrent(open.id)) {
      this.transcript.reset();
      this.ending = null;
    }
    this.conversation = open;
    this.queue = session.queue;
    storage.keepPendingFor(open.id);
    storage.rememberChat(open.id);
    this.render();
    await Promise.all(storage.pending().map((p) => { this.transcript.addPending(p); return this.deliver(p); }));
    await this.catchUp();
  }

  /** A reload (or a new visit) with no chat open: the customer's last chat, closed, shown as one that
   *  closed while we were away. What the customer did at its end stands, unless it became a complaint. */
  resume(last) {
    this.conversation = { id: last.id, status: 'closed', agent: null, outcome: null };
    this.ending = { kind: last.step || 'ended', away: true, answered: Boolean(last.step) };
  }

  /** Fetch what we missed, page after page, until nothing more follows or a page fails. One run at
   *  a time: asked again meanwhile (a live gap, a reconnect), it goes once more. */
  async catchUp() {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    try {
      do {
        this.catchUpAgain = false;
        await this.fetchPages();
      } while (this.catchUpAgain);
    } finally {
      this.catchingUp = false;
    }
  }

  /** Each `history` answer is bounded and says whether more follow: ask again after its last seq. */
  async fetchPages() {
    if (!this.conversation) return;
    const conversationId = this.conversation.id;
    let after = this.transcript.contiguousSeq();
    let waits = 0;
    for (;;) {
      const ack = await this.conn.call('history', { conversation_id: conversationId, after_seq: after });
      if (!this.isCurrent(conversationId)) return;
      if (!ack.ok) {
        const code = ack.error && ack.error.code;
        // a remembered chat that is no longer there (or no longer this customer's): start afresh
        if (code === 'not_found') return this.newChat({ focus: false });
        // a long chat can outrun the event limit: wait for it to refill, a few times at most
        if (code !== 'rate_limited' || waits === PAGE_WAITS) return;
        waits += 1;
        await new Promise((resolve) => setTimeout(resolve, PAGE_WAIT_MS));
        continue;
      }
      waits = 0;
      for (const message of ack.messages) this.onMessage(message, false, true);
      if (ack.conversation) this.closedWhileAway(ack.conversation, ack.complaint || null);
      if (!ack.more || !ack.messages.length) return;
      after = ack.messages[ack.messages.length - 1].seq;
    }
  }

  /** `fromHistory`: part of a history page, which has everything after what was asked, so a page
   *  is never a reason to ask again. */
  onMessage(message, live, fromHistory = false) {
    if (!this.isCurrent(message.conversation_id)) {
      if (live) this.startedElsewhere();
      return;
    }
    const stick = this.nearBottom();
    const { known, gapAfter } = this.transcript.add(message);
    if (message.sender === 'customer' && message.client_id) storage.removePending(message.client_id);
    if (!known && message.sender === 'agent') {
      this.showAgentTyping(false);
      if (live) this.onAgentMessage(message);
      if (this.conversation.status !== 'closed' && (this.conversation.agent === null || this.conversation.status === 'queued')) {
        // an agent wrote, so someone has the chat even if we missed chat:assigned
        Object.assign(this.conversation, { status: 'active', agent: { name: message.author } });
        this.renderStatus();
      }
    }
    if (gapAfter !== null && !fromHistory) this.catchUp();
    if (stick || message.sender === 'customer') this.scrollToEnd();
  }

  // -- starting --------------------------------------------------------------------------------

  async start() {
    const body = $('start-body').value.trim();
    const name = $('start-name').value.trim();
    const email = $('start-email').value.trim();
    const bodyError = !body ? t('form.required') : '';
    const emailError = email && !EMAIL.test(email) ? t('form.email') : '';
    this.fieldError('start-body', bodyError);
    this.fieldError('start-email', emailError);
    if (bodyError || emailError) {
      (bodyError ? $('start-body') : $('start-email')).focus();
      return;
    }
    const button = $('start-submit');
    button.disabled = true;
    this.formError('start-error', '');
    try {
      this.conn.start();
      await this.whenSession();
      const topic = document.querySelector('input[name="topic"]:checked');
      const payload = { topic: topic ? topic.value : undefined, name: name || undefined, email: email || undefined };
      // what the server says about the new chat before this answer is about ours, not another tab's
      this.starting = true;
      const ack = await this.conn.call('chat:start', payload).finally(() => { this.starting = false; });
      if (!ack.ok) {
        this.formError('start-error', errorText(ack.error));
        return;
      }
      this.transcript.reset();
      this.conversation = ack.conversation;
      this.queue = ack.queue;
      this.ending = null;
      storage.rememberChat(ack.conversation.id);
      $('start-body').value = '';
      this.render();
      this.send(body);
      $('composer-input').focus();
    } finally {
      button.disabled = false;
    }
  }

  fieldError(id, text) {
    const field = $(id);
    const error = $(`${id}-error`);
    error.textContent = text;
    error.hidden = !text;
    field.setAttribute('aria-invalid', String(Boolean(text)));
    if (text) field.setAttribute('aria-describedby', `${id}-error`);
    else field.removeAttribute('aria-describedby');
  }

  formError(id, text) {
    $(id).textContent = text;
    $(id).hidden = !text;
  }

  // -- sending ---------------------------------------------------------------------------------

  submitComposer() {
    const input = $('composer-input');
    const body = input.value.trim();
    if (!body || !this.conversation || this.conversation.status === 'closed') return;
    input.value = '';
    this.autosize();
    this.stopTyping();
    this.send(body);
  }

  /** Keep the message before the first try; it leaves storage only when the server has it. */
  send(body) {
    const pending = { client_id: uuid(), conversation_id: this.conversation.id, body, created_at: new Date().toISOString() };
    storage.addPending(pending);
    this.transcript.addPending(pending);
    this.scrollToEnd();
    this.deliver(pending);
  }

  async deliver(pending) {
    if (this.inFlight.has(pending.client_id)) return;
    this.inFlight.add(pending.client_id);
    const ack = await this.conn.call('message:send', {
      conversation_id: pending.conversation_id, client_id: pending.client_id, body: pending.body,
    });
    this.inFlight.delete(pending.client_id);
    if (ack.ok) {
      storage.removePending(pending.client_id);
      this.onMessage(ack.message, false);
      this.formError('composer-error', '');
      return;
    }
    const code = ack.error && ack.error.code;
    if (RETRY_CODES.has(code)) {
      // offline: the next session resends it; otherwise try again shortly with the same client_id
      if (code !== 'offline') setTimeout(() => this.conn.connected && this.deliver(pending), code === 'rate_limited' ? 3000 : 1500);
      return;
    }
    storage.removePending(pending.client_id);
    this.transcript.pendingEls.get(pending.client_id)?.classList.add('is-failed');
    this.formError('composer-error', errorText(ack.error));
  }

  // -- typing ----------------------------------------------------------------------------------

  typed() {
    $('composer-send').disabled = !$('composer-input').value.trim();
    if (!this.conversation || this.conversation.status === 'closed') return;
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_REPEAT_MS) {
      this.typingSentAt = now;
      this.conn.send('typing', { conversation_id: this.conversation.id, typing: true });
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    $('composer-send').disabled = !$('composer-input').value.trim();
    if (this.typingSentAt && this.conversation) {
      this.conn.send('typing', { conversation_id: this.conversation.id, typing: false });
    }
    this.typingSentAt = 0;
  }

  showAgentTyping(typing, author) {
    clearTimeout(this.agentTypingTimer);
    const box = $('typing');
    if (typing) {
      $('typing-text').textContent = t('agent.typing', { name: author || t('agent.fallback') });
      const stick = this.nearBottom();
      box.hidden = false;
      if (stick) this.scrollToEnd();
      this.agentTypingTimer = setTimeout(() => this.showAgentTyping(false), AGENT_TYPING_TTL_MS);
    } else {
      box.hidden = true;
    }
  }

  // -- ending ----------------------------------------------------------------------------------

  askToEnd() {
    if (!this.conversation || this.conversation.status === 'closed') return;
    this.ending = { kind: this.conversation.status === 'queued' ? 'leave' : 'ask', closed: false };
    this.renderEnding();
  }

  async endChat(resolved) {
    const conversationId = this.conversation.id;
    this.endRequest = { conversationId, resolved };
    const payload = { conversation_id: conversationId };
    if (resolved !== undefined) payload.resolved = resolved;
    const ack = await this.conn.call('chat:end', payload);
    if (!ack.ok) {
      this.ending.error = errorText(ack.error);
      this.renderEnding();
      return;
    }
    this.closed({
      conversation_id: conversationId, outcome: ack.conversation.outcome,
      complaint_reference: ack.conversation.complaint_reference, complaint: ack.complaint,
    });
  }

  /** chat:closed and the chat:end ack both land here; whichever comes second changes nothing. */
  closed(event) {
    if (!this.isCurrent(event.conversation_id)) return;
    this.conversation.status = 'closed';
    this.conversation.outcome = event.outcome;
    const by = event.closed_by || null;
    if (by) Object.assign(this.conversation, { closedBy: by.side, closedByName: by.name });
    storage.keepPendingFor(null);
    this.showAgentTyping(false);
    const mine = this.endRequest && this.endRequest.conversationId === event.conversation_id ? this.endRequest : null;
    const settled = this.ending && ['rate', 'thanks', 'complaint', 'abandoned', 'ended'].includes(this.ending.kind);
    if (event.outcome === 'complaint') {
      const complaint = event.complaint || (this.ending && this.ending.complaint) || null;
      this.ending = { kind: 'complaint', complaint, reference: event.complaint_reference || (complaint && complaint.reference) };
    } else if (settled) {
      return;
    } else if (event.outcome === 'abandoned') {
      this.ending = { kind: 'abandoned' };
    } else if ((mine && mine.resolved === true) || (by && by.side === 'customer')) {
      // they said it was solved, here or in another tab: what is left is the rating
      this.ending = { kind: 'rate' };
      storage.rememberChat(this.conversation.id, 'rate');
    } else {
      // the agent closed it: still ask, the customer has the last word
      this.ending = { kind: 'ask', closed: true };
    }
    this.render();
    // its history says who closed it, and has any last words sent just before the close
    if (!mine) this.catchUp();
  }

  /** A closed chat's history says how it closed: who closed it, for a line under the transcript, and
   *  for a widget that was away (or reloaded) the ending chat:closed would have shown, unless the
   *  customer took it further here: "was it solved?" while the answer still counts, else the rating. */
  closedWhileAway(conversation, complaint) {
    const by = conversation.closed_by || {};
    Object.assign(this.conversation, { outcome: conversation.outcome, closedBy: by.side, closedByName: by.name });
    if (conversation.agent && conversation.agent.name) this.conversation.agent = conversation.agent;
    this.renderClosedLine();
    if (!this.ending || !this.ending.away) return;
    if (conversation.outcome === 'complaint') {
      this.ending = { kind: 'complaint', complaint, reference: conversation.complaint_reference || (complaint && complaint.reference) };
    } else if (conversation.outcome === 'abandoned') {
      this.ending = { kind: 'abandoned' };
    } else if (this.ending.answered) {
      return;
    } else if (conversation.closed_by && conversation.closed_by.side === 'agent' && conversation.answer_until) {
      this.ending = { kind: 'ask', closed: true };
    } else {
      // solved, and too late to say otherwise: what is left is the rating
      this.ending = { kind: 'rate' };
    }
    this.render();
  }

  /** An ending the customer reached; remembered, since after a reload the server could not tell it. */
  settle(kind) {
    this.ending = { kind };
    storage.rememberChat(this.conversation.id, kind);
    this.renderEnding();
  }

  /** Another tab of this customer took the closed chat's ending further ("solved", rated, skipped):
   *  follow it rather than ask again here. Only forward; a complaint or a new chat comes from the server. */
  followOtherTab() {
    const last = storage.lastChat();
    const here = this.ending && this.ending.kind;
    if (!last || !this.conversation || last.id !== this.conversation.id || this.conversation.status !== 'closed') return;
    const further = { ask: ['rate', 'thanks', 'ended'], rate: ['thanks', 'ended'] }[here] || [];
    if (!further.includes(last.step)) return;
    this.ending = { kind: last.step };
    this.renderEnding();
  }

  /** The agent closed it as resolved and the customer says it was not: that same chat becomes a complaint. */
  async notSolvedAfterClose() {
    const ack = await this.conn.call('chat:end', { conversation_id: this.conversation.id, resolved: false });
    if (!ack.ok) {
      this.ending.error = errorText(ack.error);
      this.renderEnding();
      return;
    }
    this.ending = { kind: 'complaint', complaint: ack.complaint, reference: ack.complaint.reference };
    this.render();
  }

  async rate(score, comment) {
    const ack = await this.conn.call('rating', { conversation_id: this.conversation.id, score, comment: comment || undefined });
    if (!ack.ok) {
      this.ending.error = errorText(ack.error);
      this.renderEnding();
      return;
    }
    this.settle('thanks');
  }

  /** Back to the start form; the last chat is forgotten. */
  newChat({ focus = true } = {}) {
    this.conversation = null;
    this.queue = null;
    this.ending = null;
    this.endRequest = null;
    storage.rememberChat(null);
    this.transcript.reset();
    this.render();
    if (focus) $('start-body').focus();
  }

  // -- rendering -------------------------------------------------------------------------------

  render() {
    const live = Boolean(this.conversation);
    $('home').hidden = live;
    $('live').hidden = !live;
    if (!live) {
      this.renderHome();
      return;
    }
    this.renderStatus();
    this.renderClosedLine();
    this.renderEnding();
  }

  /** "Bob closed the chat" after the last message; nothing when the customer closed it themselves. */
  renderClosedLine() {
    const by = this.conversation.status === 'closed' ? this.conversation.closedBy : null;
    const name = this.conversation.closedByName || (this.conversation.agent && this.conversation.agent.name) || this.transcript.lastAgentName();
    if (by === 'agent' && name) {
      const [before, after] = t('closed.by_agent', { name: '\u0000' }).split('\u0000');
      this.transcript.setNote(before, isolate(name), after);
    } else if (by === 'agent' || by === 'system') {
      this.transcript.setNote(t('closed.by_system'));
    } else {
      this.transcript.setNote();
    }
  }

  renderHome() {
    const config = this.getConfig();
    const chosen = document.querySelector('input[name="topic"]:checked');
    const chosenSlug = chosen ? chosen.value : null;
    clear($('topics')).append(...config.categories.filter((c) => c.slug !== 'other').slice(0, 6).concat(
      config.categories.filter((c) => c.slug === 'other')).map((category) => h('label', { class: 'chip' },
      h('input', { type: 'radio', name: 'topic', value: category.slug, class: 'sr-only', checked: category.slug === chosenSlug }),
      h('span', {}, category.name))));
    clear($('popular')).append(...config.faq.slice(0, 3).map((article) => h('li', {},
      h('button', { type: 'button', class: 'popular-item', onclick: () => this.openArticle(article.id) },
        h('span', {}, article.question), icon(ICONS.chevron)))));
  }

  renderStatus() {
    const box = $('status');
    const conversation = this.conversation;
    if (!conversation || conversation.status === 'closed') {
      clear(box);
      box.hidden = true;
      return;
    }
    box.hidden = false;
    // drawn aside, then only what changed is changed in place: a live region, and a queue update that
    // says what it already said is nothing to announce (the focus stays on its buttons, too)
    const fresh = h('div');
    const endLabel = conversation.status === 'queued' ? t('chat.leave') : t('chat.end');
    const endButton = h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: () => this.askToEnd() }, endLabel);
    if (conversation.status === 'queued') {
      const position = this.queue && this.queue.position;
      let title = t('queue.back');
      if (position === 1) title = t('queue.next');
      else if (position) title = t('queue.position', { position });
      else if (!conversation.requeued) title = t('queue.title');
      box.className = 'status status--queued';
      fresh.append(
        h('div', { class: 'status-icon', 'aria-hidden': 'true' }, icon(ICONS.hourglass)),
        h('div', { class: 'status-text' },
          h('strong', { class: 'status-title' }, title),
          h('span', { class: 'status-sub' }, formatEta(this.queue ? this.queue.eta_seconds : null)),
          h('button', { type: 'button', class: 'link', onclick: () => this.showTab('help') }, t('queue.browse'))),
        endButton);
      const note = deadlineNote(this.queue, Date.now() - (this.clockSkew || 0));
      if (note) fresh.append(note);
    } else {
      const name = (conversation.agent && conversation.agent.name) || t('agent.fallback');
      box.className = 'status status--active';
      fresh.append(
        h('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(name), h('span', { class: 'presence' })),
        h('div', { class: 'status-text' },
          h('strong', { class: 'status-title' }, name),
          h('span', { class: 'status-sub' }, t('agent.helping'))),
        endButton);
    }
    patchChildren(box, fresh);
  }

  renderEnding() {
    const box = $('ending');
    const composerHidden = Boolean(this.ending) || !this.conversation || this.conversation.status === 'closed';
    $('composer').hidden = composerHidden;
    if (composerHidden) $('composer-error').hidden = true;
    if (!this.ending) {
      box.hidden = true;
      clear(box);
      return;
    }
    box.hidden = false;
    clear(box).append(endingCard(this.ending, this.conversation, {
      solved: () => (this.ending.closed ? this.settle('rate') : this.endChat(true)),
      notSolved: () => (this.ending.closed ? this.notSolvedAfterClose() : this.endChat(false)),
      leave: () => this.endChat(undefined),
      cancel: () => { this.ending = null; this.renderEnding(); $('composer-input').focus(); },
      rate: (score, comment) => this.rate(score, comment),
      skip: () => this.settle('ended'),
      newChat: () => this.newChat(),
      complaints: () => this.showTab('complaints'),
    }));
    this.scrollToEnd();
    // its first control in order: on the rating card the stars, before the optional comment
    const focusable = box.querySelector('input, button, textarea');
    // only within a frame that has the focus: a card drawn while the widget is closed (a last chat
    // shown again on page load) must not take it from the host page. The composer it replaces gives it up.
    const active = document.activeElement;
    if (!focusable || !document.hasFocus() || !active) return;
    if ($('composer').contains(active)) {
      // closed under the customer's typing: the card itself, so that the Enter meant to send a message
      // answers nothing ("Yes, solved" would end the chat's chance to become a complaint)
      box.focus({ preventScroll: true });
    } else if (active === document.body || box.contains(active) || active.closest('#status')) {
      focusable.focus({ preventScroll: true });
    }
  }

  retranslate() {
    this.transcript.retranslate();
    this.render();
    if (!$('typing').hidden) $('typing-text').textContent = t('agent.typing', { name: this.conversation?.agent?.name || t('agent.fallback') });
  }

  // -- helpers ---------------------------------------------------------------------------------

  autosize() {
    const input = $('composer-input');
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 132)}px`;
  }

  nearBottom() {
    const log = $('scroller');
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  scrollToEnd() {
    const log = $('scroller');
    this.pinned = true;
    requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
  }
}

export function errorText(error) {
  const code = error && error.code;
  if (code === 'rate_limited' && error.reason === 'unanswered') return t('errors.wait_for_answer');
  if (code === 'rate_limited') return t('errors.rate_limited');
  if (code === 'too_large') return t('errors.too_large');
  if (code === 'offline') return t('errors.offline');
  return t('errors.generic');
}

export { formatDate };

/** When nobody may be free before the chat's queue deadline, say what happens then: the question
 * becomes a complaint the customer can follow here, rather than an estimate that is no promise.
 * `serverNow` is the visitor's clock corrected by the server's, so a clock set wrong cannot flip it. */
function deadlineNote(queue, serverNow) {
  if (!queue || !queue.deadline_at) return null;
  const left = (Date.parse(queue.deadline_at) - serverNow) / 1000;
  if (queue.eta_seconds !== null && queue.eta_seconds !== undefined && queue.eta_seconds < left) return null;
  return h('p', { class: 'status-note', id: 'queue-deadline' }, t('queue.deadline', { time: formatTime(queue.deadline_at) }));
}
