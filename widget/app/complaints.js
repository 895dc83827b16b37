// The Complaints tab: the customer's complaints with their status, and the complaint form.
import { $, h, clear, icon, ICONS } from './dom.js';
import { t, formatDate } from './i18n.js';
import { errorText } from './chat.js';

const EMAIL = /^[^\s@<>,;]+@[^\s@<>,;]+$/;

export class Complaints {
  constructor({ conn, getConfig, whenSession }) {
    this.conn = conn;
    this.getConfig = getConfig;
    this.whenSession = whenSession;
    this.items = null;
    this.sent = null;
    this.mode = 'list';
    $('complaint-new').addEventListener('click', () => this.showForm());
    $('cf-cancel').addEventListener('click', () => this.showList());
    $('complaint-form').addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    conn.on('complaint:updated', (complaint) => {
      if (!this.items) return;
      const index = this.items.findIndex((c) => c.reference === complaint.reference);
      if (index >= 0) this.items[index] = { ...this.items[index], ...complaint };
      else this.items.unshift(complaint);
      this.renderList();
    });
  }

  async load() {
    $('complaints-status').textContent = this.items ? '' : t('complaints.loading');
    this.conn.start();
    await this.whenSession();
    const ack = await this.conn.call('complaint:list', {});
    if (ack.ok) this.items = ack.complaints;
    $('complaints-status').textContent = ack.ok ? '' : errorText(ack.error);
    this.renderList();
  }

  show({ form = false } = {}) {
    if (form) this.showForm();
    else if (this.mode === 'sent') this.render();
    else this.showList();
  }

  showList() {
    this.mode = 'list';
    this.render();
    this.load();
  }

  showForm() {
    this.mode = 'form';
    this.render();
    $('cf-error').hidden = true;
    $('cf-category').focus();
  }

  render() {
    $('complaints-list-view').hidden = this.mode !== 'list';
    $('complaint-form').hidden = this.mode !== 'form';
    $('complaint-sent').hidden = this.mode !== 'sent';
    this.renderCategories();
    this.renderList();
    this.renderSent();
  }

  renderCategories() {
    const select = $('cf-category');
    const chosen = select.value;
    clear(select).append(h('option', { value: '' }, t('complaints.category_choose')),
      ...this.getConfig().categories.map((c) => h('option', { value: c.slug, selected: c.slug === chosen }, c.name)));
  }

  renderList() {
    const list = clear($('complaints'));
    if (!this.items) return;
    if (!this.items.length) {
      list.append(h('li', { class: 'empty-row' }, icon(ICONS.doc), h('span', {}, t('complaints.empty'))));
      return;
    }
    const names = Object.fromEntries(this.getConfig().categories.map((c) => [c.slug, c.name]));
    list.append(...this.items.map((c) => h('li', { class: 'complaint' },
      h('div', { class: 'complaint-top' },
        h('span', { class: 'complaint-ref' }, c.reference),
        h('span', { class: `pill pill--${c.status}` }, t(`status.${c.status}`) || c.status)),
      h('p', { class: 'complaint-subject' }, c.subject),
      h('p', { class: 'complaint-meta' }, [names[c.category], t('complaints.opened', { date: formatDate(c.created_at) })].filter(Boolean).join(' · ')))));
  }

  renderSent() {
    const box = clear($('complaint-sent'));
    if (this.mode !== 'sent' || !this.sent) return;
    const c = this.sent;
    box.append(h('div', { class: 'end-card end-card--complaint' },
      h('div', { class: 'end-icon', 'aria-hidden': 'true' }, icon(ICONS.shield)),
      h('h3', { class: 'end-title' }, t('complaint.registered')),
      h('div', { class: 'reference' },
        h('span', { class: 'reference-label' }, t('complaint.reference')),
        h('strong', { class: 'reference-value' }, c.reference)),
      c.first_response_due ? h('p', { class: 'end-text' }, t('complaint.due', { date: formatDate(c.first_response_due) })) : null,
      h('p', { class: 'end-text muted' }, t('complaint.follow_hint')),
      h('button', { type: 'button', class: 'btn btn-secondary btn-block', onclick: () => this.showList() }, t('complaints.back'))));
  }

  error(id, text) {
    const field = $(id);
    $(`${id}-error`).textContent = text;
    $(`${id}-error`).hidden = !text;
    field.setAttribute('aria-invalid', String(Boolean(text)));
    return text ? field : null;
  }

  async submit() {
    const category = $('cf-category').value;
    const subject = $('cf-subject').value.trim();
    const body = $('cf-body').value.trim();
    const email = $('cf-email').value.trim();
    const invalid = [
      this.error('cf-category', category ? '' : t('form.required')),
      this.error('cf-subject', subject ? '' : t('form.required')),
      this.error('cf-body', body ? '' : t('form.required')),
      this.error('cf-email', !email || EMAIL.test(email) ? '' : t('form.email')),
    ].filter(Boolean);
    if (invalid.length) {
      invalid[0].focus();
      return;
    }
    const button = $('cf-submit');
    button.disabled = true;
    $('cf-error').hidden = true;
    try {
      this.conn.start();
      await this.whenSession();
      const ack = await this.conn.call('complaint:submit', { category, subject, body, email: email || undefined });
      if (!ack.ok) {
        $('cf-error').textContent = errorText(ack.error);
        $('cf-error').hidden = false;
        return;
      }
      this.sent = ack.complaint;
      this.items = [ack.complaint, ...(this.items || []).filter((c) => c.reference !== ack.complaint.reference)];
      for (const id of ['cf-subject', 'cf-body']) $(id).value = '';
      this.mode = 'sent';
      this.render();
      $('complaint-sent').querySelector('button').focus();
    } finally {
      button.disabled = false;
    }
  }
}
