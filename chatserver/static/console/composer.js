// The reply box: replies or internal notes, canned answers on "/", typing signals (replies only).
// What is typed is a draft of that chat, with its mode, until it is sent (drafts.js).
import { $, h, clear } from './dom.js';
import { state, customerName } from './state.js';
import { draftStore } from './drafts.js';

const TYPING_REPEAT_MS = 2500;
const TYPING_IDLE_MS = 3000;

export class Composer {
  constructor({ socket, send }) {
    this.socket = socket;
    this.sendMessage = send;
    this.input = $('composer-input');
    this.mode = 'reply';
    this.results = [];
    this.active = -1;
    this.typingSentAt = 0;
    this.typingChat = null;
    this.typingTimer = null;
    this.searchTimer = null;
    this.searchSeq = 0;
    this.drafts = draftStore('chat-draft', state.me.id);

    for (const button of document.querySelectorAll('.composer-modes [data-mode]')) {
      button.addEventListener('click', () => this.setMode(button.dataset.mode));
    }
    $('composer').addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.input.addEventListener('input', () => this.changed());
    this.input.addEventListener('keydown', (e) => this.keydown(e));
    this.input.addEventListener('blur', () => setTimeout(() => this.closeCanned(), 150));
  }

  chat() {
    return state.selected ? state.chats.get(state.selected) : null;
  }

  setMode(mode) {
    this.showMode(mode);
    this.saveDraft();
    this.input.focus();
  }

  showMode(mode) {
    if (mode === 'note') this.stopTyping();
    this.mode = mode;
    $('composer').dataset.mode = mode;
    for (const button of document.querySelectorAll('.composer-modes [data-mode]')) {
      button.setAttribute('aria-checked', String(button.dataset.mode === mode));
    }
    this.input.placeholder = mode === 'note'
      ? 'Write an internal note… only your team sees it'
      : 'Write a reply… type / for canned answers';
  }

  /** Each chat has its own draft, in the mode it was written in: a note begun in one chat never goes
   *  to the customer of another, or to the same one after a reload. A chat without one starts as a reply. */
  switchTo(next) {
    this.stopTyping();
    const draft = next ? this.drafts.get(next.id) : null;
    this.input.value = draft ? draft.body : '';
    this.showMode(draft && draft.mode === 'note' ? 'note' : 'reply');
    this.closeCanned();
    this.autosize();
  }

  saveDraft() {
    const chat = this.chat();
    if (!chat) return;
    if (this.input.value) this.drafts.put(chat.id, { body: this.input.value, mode: this.mode });
    else this.drafts.remove(chat.id);
  }

  /** Drafts of chats that are no longer ours cannot be sent. */
  keepDraftsOf(conversationIds) {
    this.drafts.prune((id) => conversationIds.has(id));
  }

  changed() {
    this.saveDraft();
    this.autosize();
    const value = this.input.value;
    if (value.startsWith('/')) this.searchCanned(value.slice(1));
    else this.closeCanned();
    if (this.mode === 'reply' && value.trim() && !value.startsWith('/')) this.typing();
  }

  typing() {
    const chat = this.chat();
    if (!chat || chat.closed) return;
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_REPEAT_MS || this.typingChat !== chat.id) {
      this.typingSentAt = now;
      this.typingChat = chat.id;
      this.socket.emit('typing', { conversation_id: chat.id, typing: true });
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingChat && this.socket.connected) {
      this.socket.emit('typing', { conversation_id: this.typingChat, typing: false });
    }
    this.typingChat = null;
    this.typingSentAt = 0;
  }

  async submit() {
    const chat = this.chat();
    const body = this.input.value.trim();
    if (!chat || chat.closed || !body) return;
    if (!this.canned().hidden && this.active >= 0) {
      this.insert(this.results[this.active]);
      return;
    }
    if (this.mode === 'reply' && /^\/\S+$/.test(body)) {
      // Enter came before the suggestions did: a shortcut is never sent to the customer as text
      const match = await this.firstCanned(body.slice(1), chat);
      if (this.input.value.trim() !== body) return;
      if (match) {
        this.insert(match);
        return;
      }
    }
    this.stopTyping();
    this.input.value = '';
    this.drafts.remove(chat.id);
    this.autosize();
    this.sendMessage(chat, body, this.mode === 'note');
  }

  keydown(event) {
    const open = !this.canned().hidden && this.results.length;
    if (open && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.highlight((this.active + step + this.results.length) % this.results.length);
    } else if (open && (event.key === 'Enter' || event.key === 'Tab') && this.active >= 0) {
      event.preventDefault();
      this.insert(this.results[this.active]);
    } else if (open && event.key === 'Escape') {
      event.preventDefault();
      this.closeCanned();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  }

  // -- canned answers ---------------------------------------------------------------------------

  canned() {
    return $('canned');
  }

  /** Canned answers first, then FAQ articles: both in the conversation's language first. */
  searchCanned(query) {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(async () => {
      const chat = this.chat();
      const seq = ++this.searchSeq;
      const payload = { query, locale: chat ? chat.conversation.locale : null };
      const ask = (event) => this.socket.timeout(5000).emitWithAck(event, payload).catch(() => null);
      const [canned, faq] = await Promise.all([ask('canned:search'), ask('faq:search')]);
      if (seq !== this.searchSeq || !this.input.value.startsWith('/')) return;
      const answers = canned && canned.ok ? canned.answers.map((a) => ({ ...a, kind: 'canned' })) : [];
      const articles = faq && faq.ok && query.trim()
        ? faq.articles.slice(0, 3).map((a) => ({ kind: 'faq', title: a.question, body: a.answer, locale: a.locale }))
        : [];
      this.results = [...answers, ...articles];
      this.renderCanned();
    }, 120);
  }

  async firstCanned(query, chat) {
    const found = await this.socket.timeout(5000)
      .emitWithAck('canned:search', { query, locale: chat.conversation.locale }).catch(() => null);
    return found && found.ok && found.answers.length ? { ...found.answers[0], kind: 'canned' } : null;
  }

  renderCanned() {
    const list = clear($('canned-list'));
    this.canned().hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    if (!this.results.length) {
      list.append(h('li', { class: 'canned-empty' }, 'No canned answer or FAQ article matches. Keep typing to send it as a message.'));
      this.active = -1;
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    this.results.forEach((answer, index) => {
      list.append(h('li', {
        id: `canned-${index}`, role: 'option', class: 'canned-item', 'aria-selected': 'false',
        onmousedown: (e) => { e.preventDefault(); this.insert(answer); },
      },
      h('span', { class: 'canned-top' },
        answer.kind === 'faq' ? h('span', { class: 'tag' }, 'FAQ') : h('code', {}, `/${answer.shortcut}`),
        h('strong', {}, answer.title), h('span', { class: 'locale' }, answer.locale.toUpperCase())),
      h('span', { class: 'canned-body' }, answer.body)));
    });
    this.highlight(0);
  }

  highlight(index) {
    this.active = index;
    [...$('canned-list').children].forEach((el, i) => el.setAttribute('aria-selected', String(i === index)));
    const el = document.getElementById(`canned-${index}`);
    if (el) {
      this.input.setAttribute('aria-activedescendant', el.id);
      el.scrollIntoView({ block: 'nearest' });
    }
  }

  insert(answer) {
    const chat = this.chat();
    const first = chat ? customerName(chat).split(/\s+/)[0] : '';
    this.input.value = answer.body
      .replaceAll('{name}', chat && chat.customer && chat.customer.name ? first : '')
      .replaceAll('{agent}', state.me.name.split(/\s+/)[0])
      .replace(/ ,/g, ',').replace(/\s{2,}/g, ' ');
    this.saveDraft();
    this.closeCanned();
    this.autosize();
    this.input.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  closeCanned() {
    this.canned().hidden = true;
    this.results = [];
    this.active = -1;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(Math.max(this.input.scrollHeight, 52), 180)}px`;
  }
}
