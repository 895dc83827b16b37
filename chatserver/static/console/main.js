// The operator console: one /agent socket; every (re)connect resyncs chats, queue and presence.
import { $, h, initials, isolate, setText } from './dom.js';
import {
  state, chatFor, addMessage, contiguousSeq, markRead, unread, customerName, categoryName, duration, uuid,
  keepUnsent, forgetUnsent, unsentFor,
} from './state.js';
import { renderMyChats, renderQueue } from './lists.js';
import { TranscriptView } from './transcript.js';
import { Composer } from './composer.js';
import { renderDetails } from './details.js';
import { setupTransfer, setupClose } from './dialogs.js';
import { setupSound, chime, setTitleCount } from './notify.js';
import { setupSections, setChatsUnread, complaintsHash } from './sections.js';
import { setupComplaints } from './complaints/workspace.js';

const RETRY_CODES = new Set(['timeout', 'unavailable', 'internal', 'rate_limited']);
// why a message did not go out, in the agent's words rather than the server's
const NOT_SENT = {
  not_found: 'the chat had ended',
  conflict: 'the chat had ended',
  forbidden: 'the chat is no longer assigned to you',
  too_large: 'the message is too long',
};
const CUSTOMER_TYPING_TTL_MS = 8000;
const PAGE_WAIT_MS = 1500;
const PAGE_WAITS = 3;
const LANGUAGES = { en: 'English', ru: 'Russian', pl: 'Polish' };
const app = $('app');
state.me = { id: app.dataset.userId, name: app.dataset.userName };
$('me-avatar').textContent = initials(state.me.name);

const socket = io('/agent', { transports: ['websocket', 'polling'], reconnectionDelay: 500, reconnectionDelayMax: 4000 });
const transcript = new TranscriptView();
const composer = new Composer({ socket, send });
const typingTimers = new Map();

function call(event, payload) {
  if (!socket.connected) return Promise.resolve({ ok: false, error: { code: 'offline', message: 'You are offline; it will be sent when the connection is back.' } });
  return socket.timeout(10000).emitWithAck(event, payload)
    .catch(() => ({ ok: false, error: { code: 'timeout', message: 'The server did not answer in time. Try again.' } }));
}

function toast(text, kind = 'info') {
  const el = h('div', { class: `toast toast-${kind}` }, text);
  $('toasts').append(el);
  while ($('toasts').children.length > 3) $('toasts').firstElementChild.remove();
  setTimeout(() => el.classList.add('is-leaving'), 3800);
  setTimeout(() => el.remove(), 4200);
}

const wide = () => window.matchMedia('(min-width: 761px)').matches;
const looking = () => document.visibilityState === 'visible';

// -- connection and resync -----------------------------------------------------------------------

socket.on('connect', () => { $('banner').hidden = true; });
socket.on('disconnect', (reason) => {
  if (reason !== 'io client disconnect') $('banner').hidden = false;
  if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 800); // a logout elsewhere answers unauthorized
});
socket.on('connect_error', (err) => {
  const code = err && err.data && err.data.code;
  if (code === 'unauthorized') window.location.assign('/login?next=/console');
  else $('banner').hidden = false;
  // socket.io-client never retries a refusal by itself; these pass within seconds
  if (['rate_limited', 'unavailable', 'internal'].includes(code)) setTimeout(() => socket.connect(), 2000 + Math.random() * 3000);
});

socket.on('session', async (session) => {
  state.agent = session.agent;
  state.colleagues = session.colleagues || [];
  setQueue(session.queue || [], session.queued);
  const assigned = new Set(session.conversations.map((c) => c.id));
  for (const chat of state.chats.values()) {
    if (!assigned.has(chat.id) && !chat.closed) {
      chat.closed = true;
      chat.note = 'This chat is no longer assigned to you.';
      chat.noteIsGuess = true; // until history says how it closed (a chat moved away is not ours to read)
      settle(chat);
    }
  }
  for (const conversation of session.conversations) {
    const chat = chatFor(conversation);
    chat.closed = false;
    chat.note = null;
    chat.noteIsGuess = false;
  }
  // what was written before a reload and never acknowledged goes out with the rest
  for (const pending of unsentFor(assigned)) {
    const chat = state.chats.get(pending.conversation_id);
    if (!chat.pending.has(pending.client_id)) chat.pending.set(pending.client_id, { ...pending });
  }
  composer.keepDraftsOf(assigned);
  if (!state.selected && wide() && session.conversations.length) {
    state.selected = session.conversations[0].id;
    composer.switchTo(state.chats.get(state.selected));
  }
  renderAll();
  await Promise.all(session.conversations.map((c) => resync(state.chats.get(c.id))));
});

/** Resend what we had not got acked, then fetch what we missed and who the customer is. */
async function resync(chat) {
  for (const pending of chat.pending.values()) deliver(chat, pending);
  const [, info] = await Promise.all([
    catchUp(chat),
    call('customer:history', { conversation_id: chat.id }),
  ]);
  if (info.ok) {
    chat.customer = info.customer;
    chat.history = { conversations: info.conversations, complaints: info.complaints };
  }
  if (chat.id === state.selected && looking()) markRead(chat);
  renderAll();
}

/** A chat that ended or moved on while we were away: what was said up to then (history answers only
 *  while the chat was last ours), and what we still had unsent: a resend gets the stored message back,
 *  and one that never got there is marked not sent. */
function settle(chat) {
  for (const pending of chat.pending.values()) deliver(chat, pending);
  catchUp(chat);
}

/** Fetch what the chat is missing, page after page, until nothing more follows or a page fails.
 *  One run per chat at a time: asked again meanwhile (a live gap, a reconnect), it goes once more. */
async function catchUp(chat) {
  if (chat.catchingUp) {
    chat.catchUpAgain = true;
    return;
  }
  chat.catchingUp = true;
  try {
    do {
      chat.catchUpAgain = false;
      await fetchPages(chat, contiguousSeq(chat));
    } while (chat.catchUpAgain);
  } finally {
    chat.catchingUp = false;
  }
}

/** Each `history` answer is bounded and says whether more follow: ask again after its last seq. */
async function fetchPages(chat, afterSeq) {
  let after = afterSeq;
  let waits = 0;
  for (;;) {
    const ack = await call('history', { conversation_id: chat.id, after_seq: after });
    if (!ack.ok) {
      // several long chats at once can outrun the event limit: wait for it to refill, a few times at most
      if (ack.error.code !== 'rate_limited' || waits === PAGE_WAITS) return;
      waits += 1;
      await new Promise((resolve) => setTimeout(resolve, PAGE_WAIT_MS));
      continue;
    }
    waits = 0;
    if (ack.conversation && chat.noteIsGuess) {
      chat.noteIsGuess = false;
      chat.conversation = { ...chat.conversation, ...ack.conversation };
      chat.note = closedNote(ack.conversation);
      if (ack.conversation.outcome === 'complaint') reloadHistory(chat);
    }
    ack.messages.forEach((m) => addMessage(chat, m));
    renderAll();
    if (!ack.more || !ack.messages.length) return;
    after = ack.messages[ack.messages.length - 1].seq;
  }
}

// -- live events ----------------------------------------------------------------------------------

socket.on('chat:assigned', (event) => {
  const chat = chatFor(event.conversation);
  chat.customer = event.customer;
  chat.closed = false;
  chat.note = null;
  chat.arrivedAt = Date.now();
  event.messages.forEach((m) => addMessage(chat, m));
  if (event.more) catchUp(chat); // the frame holds the first page only
  chime('chat');
  toast(['New chat: ', isolate(customerName(chat)), chat.conversation.topic ? [' · ', isolate(categoryName(chat.conversation.topic))] : '']);
  if (!state.selected && wide()) select(chat.id);
  else renderAll();
  call('customer:history', { conversation_id: chat.id }).then((info) => {
    if (!info.ok) return;
    chat.customer = info.customer;
    chat.history = { conversations: info.conversations, complaints: info.complaints };
    if (chat.id === state.selected) renderDetails(chat);
  });
});

// the customer's last widget closed (away_since), or one opened again (null)
socket.on('chat:customer', (event) => {
  const chat = state.chats.get(event.conversation_id);
  if (!chat) return;
  chat.conversation = { ...chat.conversation, customer_away_since: event.away_since };
  if (event.away_since) setTyping(chat, false);
  renderAll();
});

socket.on('message:new', (message) => {
  const chat = state.chats.get(message.conversation_id);
  if (!chat) return;
  const before = chat.maxSeq;
  if (!addMessage(chat, message)) return;
  if (message.sender === 'customer') {
    setTyping(chat, false);
    if (!(chat.id === state.selected && looking())) chime();
  }
  if (message.seq > before + 1) catchUp(chat);
  if (chat.id === state.selected && looking()) markRead(chat);
  renderAll();
});

socket.on('typing', (event) => {
  const chat = state.chats.get(event.conversation_id);
  if (chat) setTyping(chat, event.typing);
});

function setTyping(chat, typing) {
  clearTimeout(typingTimers.get(chat.id));
  chat.typing = typing;
  if (typing) typingTimers.set(chat.id, setTimeout(() => setTyping(chat, false), CUSTOMER_TYPING_TTL_MS));
  renderLists();
  if (chat.id === state.selected) renderTyping(chat);
}

/** The chat is someone else's now. What the agent wrote that was still on its way goes no further,
 *  here or after a reload; if any of it did not get there, the agent is told how much, and the chat
 *  stays in the list, closed, with those messages marked not sent so that the text is not lost. */
socket.on('chat:unassigned', async (event) => {
  const chat = state.chats.get(event.conversation_id);
  if (!chat) return;
  const why = event.reason === 'transferred' ? 'was transferred' : 'went back to the queue';
  const unsent = [...chat.pending.values()];
  for (const pending of unsent) {
    pending.stopped = true;
    forgetUnsent(pending.client_id);
  }
  setTyping(chat, false);
  chat.closed = true;
  chat.note = `This chat ${why}.`;
  renderAll();
  await Promise.all(unsent.map((pending) => pending.flight)); // the one on its way may have got there
  const lost = unsent.filter((pending) => chat.pending.has(pending.client_id));
  const name = isolate(customerName(chat));
  if (!lost.length) {
    if (chat.closed) dismiss(chat.id);
    toast(['Chat with ', name, ` ${why}.`]);
    return;
  }
  for (const pending of lost) {
    pending.failed = true;
    pending.reason = `the chat ${why}`;
  }
  const messages = lost.length === 1 ? '1 message' : `${lost.length} messages`;
  if (chat.closed) chat.note = `This chat ${why}. ${messages} you wrote did not go out; ${lost.length === 1 ? 'it stays' : 'they stay'} here for you to copy.`;
  toast(['Chat with ', name, ` ${why}. ${messages} you wrote did not go out.`], 'error');
  renderAll();
});

socket.on('chat:updated', (conversation) => {
  const chat = state.chats.get(conversation.id);
  if (!chat) return;
  const outcomeBefore = chat.conversation.outcome;
  chat.conversation = { ...chat.conversation, ...conversation };
  if (conversation.status === 'closed' && !chat.closed) {
    chat.closed = true;
    setTyping(chat, false);
    chat.note = closedNote(conversation);
    if (chat.id !== state.selected) toast(closedToast(chat, conversation.closed_by));
    if (conversation.outcome === 'complaint') reloadHistory(chat);
  } else if (chat.closed && conversation.outcome === 'complaint' && outcomeBefore !== 'complaint') {
    // the customer answered "not solved" after the close: that same chat is now a complaint
    const reference = conversation.complaint_reference;
    chat.note = ['The customer said the problem was not solved. A complaint was created', complaintRef(reference), '.'];
    toast([isolate(customerName(chat)), ` said the problem was not solved. A complaint was created${reference ? `: ${reference}` : ''}.`]);
    reloadHistory(chat);
  }
  renderAll();
});

socket.on('queue:snapshot', (event) => {
  if (event.colleagues) state.colleagues = event.colleagues.filter((c) => c.id !== state.agent?.id);
  setQueue(event.queue, event.queued);
});
socket.on('agent:updated', (agent) => {
  state.agent = { ...state.agent, ...agent };
  renderPresence();
  renderLists();
});

/** Who closed it, as `chat:updated` says: this agent (in another window), a colleague or supervisor,
 *  or the customer. The console that closed it says the same from its own answer. */
function closedNote(conversation) {
  const by = conversation.closed_by;
  const reference = conversation.complaint_reference;
  if (by && by.side === 'agent') {
    const who = by.id === state.me.id ? 'You' : isolate(by.name || 'A colleague');
    const how = conversation.outcome === 'complaint' ? [' closed this chat as a complaint', complaintRef(reference)] : ' closed this chat as resolved';
    return [who, how, '.'];
  }
  const who = by && by.side === 'customer' ? 'The customer ended the chat' : 'The chat was closed';
  if (conversation.outcome === 'complaint') return [`${who}. A complaint was created`, complaintRef(reference), '.'];
  if (conversation.outcome === 'abandoned') return `${who} before it was answered.`;
  return `${who} — resolved.`;
}

/** ": C-2026-000123" in a note, the reference a link that opens the complaint in the complaints view. */
function complaintRef(reference) {
  return reference ? [': ', h('a', { href: complaintsHash(reference), class: 'note-link' }, reference)] : '';
}

/** The customer panel read its complaints when the chat opened: read them again once the chat is one. */
function reloadHistory(chat) {
  call('customer:history', { conversation_id: chat.id }).then((info) => {
    if (!info.ok) return;
    chat.history = { conversations: info.conversations, complaints: info.complaints };
    if (chat.id === state.selected) renderDetails(chat);
  });
}

function closedToast(chat, by) {
  const name = isolate(customerName(chat));
  if (by && by.side === 'agent') {
    return by.id === state.me.id ? ['You closed the chat with ', name, '.'] : [isolate(by.name || 'A colleague'), ' closed the chat with ', name, '.'];
  }
  if (by && by.side === 'customer') return [name, ' ended the chat.'];
  return ['The chat with ', name, ' was closed.'];
}

function setQueue(queue, queued) {
  state.queue = queue;
  state.queued = queued ?? queue.length; // the snapshot lists the front of the queue; this counts all of it
  state.queueAt = Date.now();
  renderLists();
}

// -- sending -----------------------------------------------------------------------------------------

function send(chat, body, internal) {
  const pending = { client_id: uuid(), conversation_id: chat.id, body, internal, created_at: new Date().toISOString() };
  chat.pending.set(pending.client_id, pending);
  keepUnsent(pending);
  renderChat();
  deliver(chat, pending);
}

/** One try at a time per message (`flight`); none once the chat is no longer ours (`stopped`). */
function deliver(chat, pending) {
  if (pending.stopped) return Promise.resolve();
  if (!pending.flight) pending.flight = attempt(chat, pending).finally(() => { pending.flight = null; });
  return pending.flight;
}

async function attempt(chat, pending) {
  pending.failed = false;
  pending.reason = null;
  const ack = await call('message:send', {
    conversation_id: pending.conversation_id, client_id: pending.client_id, body: pending.body, internal: Boolean(pending.internal),
  });
  if (ack.ok) {
    addMessage(chat, ack.message);
    if (chat.id === state.selected) markRead(chat);
  } else if (ack.error.code === 'offline') {
    // the next session resends it with the same client_id
  } else if (RETRY_CODES.has(ack.error.code)) {
    setTimeout(() => deliver(chat, pending), 1500);
  } else {
    // the refusal belongs to this message, in its own chat, whichever chat is open now
    pending.failed = true;
    pending.reason = NOT_SENT[ack.error.code] || 'the server refused it';
    forgetUnsent(pending.client_id);
  }
  renderAll();
}

// -- selection and rendering -----------------------------------------------------------------------

function select(id) {
  const previous = state.selected ? state.chats.get(state.selected) : null;
  const next = state.chats.get(id) || null;
  composer.switchTo(next);
  if (previous && previous.closed && previous.id !== id) state.chats.delete(previous.id);
  state.selected = next ? id : null;
  if (next) markRead(next);
  app.dataset.view = next ? 'chat' : 'list';
  renderAll();
  if (next && !next.closed && wide()) $('composer-input').focus();
}

function dismiss(id) {
  state.chats.delete(id);
  if (state.selected === id) {
    state.selected = null;
    app.dataset.view = 'list';
  }
  renderAll();
}

function renderLists() {
  renderMyChats({ select, dismiss });
  renderQueue({ take });
  let count = 0;
  for (const chat of state.chats.values()) if (!chat.closed && !(chat.id === state.selected && looking())) count += unread(chat);
  setTitleCount(count);
  setChatsUnread(count);
}

function renderPresence() {
  const agent = state.agent;
  if (!agent) return;
  for (const button of $('presence').querySelectorAll('[data-status]')) {
    button.setAttribute('aria-checked', String(button.dataset.status === agent.status));
  }
  setText($('capacity'), `${agent.active ?? 0} of ${agent.max_chats} chats`);
  $('capacity').classList.toggle('is-full', (agent.active ?? 0) >= agent.max_chats);
}

function renderTyping(chat) {
  $('typing').hidden = !chat.typing || chat.closed;
  drawOnChange($('typing-text'), customerName(chat), () => [isolate(customerName(chat)), ' is typing…']);
}

/** Fills a live region only when what it says changes: every change to the console draws the chat
 *  again, and each refill would be read out again (and take the focus from a button inside it). */
function drawOnChange(el, says, content) {
  if (el.dataset.says === says) return;
  el.dataset.says = says;
  el.replaceChildren(...content().filter(Boolean));
}

function renderChat() {
  const chat = state.selected ? state.chats.get(state.selected) : null;
  $('no-chat').hidden = Boolean(chat);
  $('chat').hidden = !chat;
  renderDetails(chat);
  if (!chat) return;
  const conversation = chat.conversation;
  $('chat-avatar').textContent = initials(customerName(chat));
  $('chat-name').textContent = customerName(chat);
  const meta = [categoryName(conversation.topic) || 'General question', LANGUAGES[conversation.locale] || conversation.locale];
  if (conversation.created_at) meta.push(`started ${duration(Date.now() - Date.parse(conversation.created_at))} ago`);
  if (chat.customer && chat.customer.verified) meta.push('site account verified');
  $('chat-meta').textContent = meta.join(' · ');
  const away = !chat.closed && conversation.customer_away_since;
  $('chat-presence').hidden = !away;
  $('chat-presence').textContent = away ? `Left ${duration(Date.now() - Date.parse(away))} ago` : '';
  transcript.show(chat);
  renderTyping(chat);
  $('closed-note').hidden = !chat.note;
  drawOnChange($('closed-note'), `${chat.id}\n${chat.closed}\n${chat.note || ''}`, () => [h('span', {}, chat.note || ''),
    chat.closed ? h('button', { type: 'button', class: 'button-quiet', onclick: () => dismiss(chat.id) }, 'Remove from list') : null]);
  $('composer').hidden = chat.closed;
  $('transfer').hidden = chat.closed;
  $('close-chat').hidden = chat.closed;
}

function renderAll() {
  const before = document.activeElement;
  const inChats = before && before !== document.body && $('chats-section').contains(before);
  renderPresence();
  renderLists();
  renderChat();
  if (inChats && focusLost(before) && focusLost(document.activeElement)) focusSomewhere();
}

/** A control that went away under the focus (a closed chat's buttons, a chat taken off the list). */
function focusLost(el) {
  return !el || el === document.body || !el.isConnected || !el.checkVisibility();
}

/** Where the focus goes instead of the top of the page: the open chat, else the lists. */
function focusSomewhere() {
  const chat = state.selected ? state.chats.get(state.selected) : null;
  let target;
  // a closed chat: how it ended, not "Remove from list", which an Enter meant for the reply box would press
  if (chat && chat.closed) target = $('closed-note');
  else if (chat) target = wide() ? $('composer-input') : $('back');
  else target = document.querySelector('#my-chats .chat-item-main') || document.querySelector('#queue button:not(:disabled)') || $('no-chat-title');
  if (target) target.focus();
}

// -- controls ----------------------------------------------------------------------------------------

async function take(conversationId, button) {
  button.disabled = true;
  const ack = await call('chat:take', { conversation_id: conversationId });
  if (!ack.ok) {
    button.disabled = false;
    toast(ack.error.message, 'error');
    return;
  }
  // chat:assigned brings the transcript; show it as soon as it is here
  const until = Date.now() + 5000;
  const waitForChat = () => {
    if (state.chats.has(conversationId)) select(conversationId);
    else if (Date.now() < until) setTimeout(waitForChat, 50);
  };
  waitForChat();
}

for (const button of $('presence').querySelectorAll('[data-status]')) {
  button.addEventListener('click', async () => {
    const ack = await call('presence:set', { status: button.dataset.status });
    if (!ack.ok) {
      toast(ack.error.message, 'error');
      return;
    }
    state.agent = { ...state.agent, ...ack.agent };
    renderPresence();
  });
}
$('presence').addEventListener('keydown', (event) => {
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (!step) return;
  event.preventDefault();
  const buttons = [...$('presence').querySelectorAll('[data-status]')];
  const index = buttons.indexOf(document.activeElement);
  buttons[(index + step + buttons.length) % buttons.length].focus();
});

const openTransfer = setupTransfer({
  call,
  done: (to) => {
    // the chat may have left the list while the dialog was open: the focus it gives back has nowhere to go
    if (focusLost(document.activeElement)) focusSomewhere();
    toast(to ? ['Transferred to ', isolate(to.name), '.'] : 'Returned to the queue.');
  },
});
const openClose = setupClose({
  call,
  done: (ack) => {
    const chat = state.chats.get(ack.conversation.id);
    if (!chat) return;
    chat.conversation = { ...chat.conversation, ...ack.conversation };
    chat.closed = true;
    chat.note = ack.complaint
      ? ['You closed this chat as a complaint', complaintRef(ack.complaint.reference), '.']
      : 'You closed this chat as resolved.';
    renderAll();
    // "Close chat", where the dialog gives the focus back, is gone with the chat's close
    if (focusLost(document.activeElement)) focusSomewhere();
    if (ack.complaint) reloadHistory(chat);
  },
});
$('transfer').addEventListener('click', openTransfer);
$('close-chat').addEventListener('click', openClose);
$('back').addEventListener('click', () => { app.dataset.view = 'list'; });
$('show-details').addEventListener('click', () => { app.dataset.view = 'details'; });
$('hide-details').addEventListener('click', () => { app.dataset.view = state.selected ? 'chat' : 'list'; });
document.addEventListener('visibilitychange', () => {
  const chat = state.selected && state.chats.get(state.selected);
  if (chat && looking()) markRead(chat);
  renderLists();
});
setupSound();
setInterval(renderLists, 10000);

const complaints = setupComplaints({ socket, navigate: (reference) => { window.location.hash = complaintsHash(reference); } });
setupSections({ enterComplaints: complaints.enter });

// retired ones too, so an older chat's topic keeps its name; the close dialog offers the active ones
fetch('/api/categories?retired=true', { credentials: 'same-origin' })
  .then((response) => (response.ok ? response.json() : { categories: [] }))
  .then((answer) => {
    state.categories = answer.categories.map((c) => ({ slug: c.slug, name: c.names.en, active: c.active }));
    renderAll();
  })
  .catch(() => {});
renderAll();
