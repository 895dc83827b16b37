// What the console knows: the agent, their chats (keyed by conversation id), the queue, colleagues.
// Messages are keyed by id, so the ack, the live event and a resync's history never show one twice.

import { keyedEntries, read, write } from '/widget/assets/app/local.js';

const READ_KEY = 'chatserver.console.read';

export const state = {
  me: { id: '', name: '' },
  agent: null,
  colleagues: [],
  queue: [],
  queued: 0, // all who wait; `queue` lists the front of them
  queueAt: Date.now(),
  categories: [],
  chats: new Map(),
  selected: null,
};

export function chatFor(conversation) {
  let chat = state.chats.get(conversation.id);
  if (!chat) {
    chat = {
      id: conversation.id,
      conversation,
      customer: null,
      history: null,
      messages: new Map(),
      pending: new Map(),
      maxSeq: 0,
      catchingUp: false,
      catchUpAgain: false,
      typing: false,
      closed: false,
      note: null,
      arrivedAt: Date.now(),
    };
    state.chats.set(conversation.id, chat);
  } else {
    chat.conversation = { ...chat.conversation, ...conversation };
  }
  return chat;
}

/** Store a message; true when it is new. */
export function addMessage(chat, message) {
  if (message.client_id && chat.pending.delete(message.client_id)) forgetUnsent(message.client_id);
  if (chat.messages.has(message.id)) return false;
  chat.messages.set(message.id, message);
  chat.maxSeq = Math.max(chat.maxSeq, message.seq);
  return true;
}

/** The highest seq up to which the chat has every message (consoles see every seq, notes included):
 *  history is asked from there, so a page a lost connection cut short is asked for again. */
export function contiguousSeq(chat) {
  const seqs = new Set([...chat.messages.values()].map((m) => m.seq));
  let seq = 0;
  while (seqs.has(seq + 1)) seq += 1;
  return seq;
}

export function ordered(chat) {
  return [...chat.messages.values()].sort((a, b) => a.seq - b.seq);
}

// -- read markers survive a reload, so unread counts do too --------------------------------------

function readMarks() {
  try {
    return JSON.parse(localStorage.getItem(READ_KEY) || '{}');
  } catch {
    return {};
  }
}

export function markRead(chat) {
  const marks = readMarks();
  marks[chat.id] = chat.maxSeq;
  for (const id of Object.keys(marks)) if (!state.chats.has(id)) delete marks[id];
  try {
    localStorage.setItem(READ_KEY, JSON.stringify(marks));
  } catch {
    // unread counts just restart after a reload
  }
}

export function unread(chat) {
  const seen = readMarks()[chat.id] || 0;
  let count = 0;
  for (const m of chat.messages.values()) if (m.sender === 'customer' && m.seq > seen) count += 1;
  return count;
}

/** Since when the customer has been waiting for our answer, or null when it is their turn. */
export function waitingSince(chat) {
  const list = ordered(chat).filter((m) => !m.internal && m.sender !== 'system');
  const last = list[list.length - 1];
  if (!last) return chat.conversation.created_at ? Date.parse(chat.conversation.created_at) : null;
  if (last.sender !== 'customer') return null;
  return Date.parse(last.created_at);
}

// -- what is not yet acknowledged survives a reload too, as in the widget ------------------------
// One key per client_id, so that two consoles of one agent writing at once keep both.

const unsent = keyedEntries('console.unsent.');

// what a console from before kept in one object
const legacy = read('console.unsent', null);
if (legacy && typeof legacy === 'object') {
  for (const pending of Object.values(legacy)) if (pending && pending.client_id) unsent.put(pending.client_id, pending);
  write('console.unsent', null);
}

export function keepUnsent(pending) {
  const { client_id, conversation_id, body, internal, created_at } = pending;
  unsent.put(client_id, { client_id, conversation_id, body, internal, created_at, user: state.me.id });
}

export function forgetUnsent(clientId) {
  unsent.remove(clientId);
}

/** This agent's unsent messages for the chats they have; those for any other chat can no longer go. */
export function unsentFor(conversationIds) {
  const mine = unsent.all().filter((p) => p.user === state.me.id);
  for (const p of mine) if (!conversationIds.has(p.conversation_id)) unsent.remove(p.client_id);
  return mine.filter((p) => conversationIds.has(p.conversation_id));
}

export function customerName(chat) {
  return (chat.customer && chat.customer.name) || 'Customer';
}

export function categoryName(slug) {
  if (!slug) return null;
  const category = state.categories.find((c) => c.slug === slug);
  return category ? category.name : slug;
}

export function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export { uuid } from '/widget/assets/app/ids.js';
