// The Complaints tab: the customer's complaints with their status, one complaint opened, and the form.
import { $, h, clear, icon, ICONS } from './dom.js';
import { t, formatDate } from './i18n.js';
import { errorText } from './chat.js';
import { ComplaintDetail } from './complaint_detail.js';
import { EMAIL } from './email.js';
import { uuid } from './ids.js';

export class Complaints {
  constructor({ conn, getConfig, whenSession }) {
    this.conn = conn;
    this.getConfig = getConfig;
    this.whenSession = whenSession;
    this.items = null;
    this.sent = null;
    // the form's own id for what it files, kept until the server has it: a retry after a lost answer
    // (a timeout, a dropped connection) then finds the complaint already filed instead of a second one
    this.requestId = null;
    this.mode = 'list';
    this.detail = new ComplaintDetail({
      conn,
      whenSession,
      getConfig,
      onBack: (reference) => this.showList({ focus: reference }),
      onChange: (complaint) => this.remember(complaint),
    });
    $('complaint-new').addEventListener('click', () => this.showForm());
    $('cf-cancel').addEventListener('click', () => {
      this.showList();
      $('complaint-new').focus();
    });
    $('complaint-form').addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    conn.on('complaint:updated', (update) => {
      const complaint = update && update.complaint ? update.complaint : update;
      if (!complaint || !complaint.reference) return;
      this.remember(complaint);
      this.detail.updated(complaint);
    });
  }

  /** Keep the list in step with what the server said about one complaint. */
  remember(complaint) {
    if (!this.items) return;
    const { entries, compensations, ...fields } = complaint;
    const index = this.items.findIndex((c) => c.reference === complaint.reference);
    if (index >= 0) this.items[index] = { ...this.items[index], ...fields };
    else this.items.unshift(fields);
    this.renderList();
  }

  /** Every (re)connect: what changed while we were away. */
  onSession() {
    if (this.mode === 'detail') this.detail.refresh();
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
    else if (this.mode === 'detail') this.detail.refresh();
    else this.showList();
  }

  async showList({ focus = null } = {}) {
    this.mode = 'list';
    this.render();
    if (focus) this.focusItem(focus);
    await this.load();
    if (focus) this.focusItem(focus);
  }

  focusItem(reference) {
    const item = [...$('complaints').querySelectorAll('.complaint-open')].find((b) => b.dataset.reference === reference);
    if (item && document.activeElement !== item) item.focus();
  }

  openDetail(complaint) {
    this.mode = 'detail';
    this.render();
    this.detail.open(complaint);
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
    $('view-complaints').classList.toggle('is-detail', this.mode === 'detail');
    if (this.mode !== 'detail') this.detail.hide();
    this.renderCategories();
    this.renderList();
    this.renderSent();
  }

  /** The language changed: everything drawn in code is drawn again. */
  retranslate() {
    this.render();
    if (this.mode === 'detail') this.detail.retranslate();
  }

  renderCategories() {
    const select = $('cf-category');
    const chosen = select.value;
    clear(select).append(h('option', { value: '' }, t('complaints.category_choose')),
      ...this.getConfig().categories.map((c) => h('option', { value: c.slug, selected: c.slug === chosen }, c.name)));
  }

  renderList() {
    // a live update redraws the list: the item that had the focus keeps it
    const focused = document.activeElement && document.activeElement.closest('.complaint-open');
    const list = clear($('complaints'));
    if (!this.items) return;
    if (!this.items.length) {
      list.append(h('li', { class: 'empty-row' }, icon(ICONS.doc), h('span', {}, t('complaints.empty'))));
      return;
    }
    const names = Object.fromEntries(this.getConfig().categories.map((c) => [c.slug, c.name]));
    // phrasing content only inside a button: spans laid out as blocks by the stylesheet
    list.append(...this.items.map((c) => h('li', { class: 'complaint' },
      h('button', { type: 'button', class: 'complaint-open', dataset: { reference: c.reference }, onclick: () => this.openDetail(c) },
        h('span', { class: 'complaint-main' },
          h('span', { class: 'complaint-top' },
            h('span', { class: 'complaint-ref' }, c.reference),
            h('span', { class: `pill pill--${c.status}` }, t(`status.${c.status}`) || c.status)),
          h('span', { class: 'complaint-subject' }, c.subject),
          h('span', { class: 'complaint-meta' }, [names[c.category], t('complaints.opened', { date: formatDate(c.created_at) })].filter(Boolean).join(' · '))),
        icon(ICONS.chevron)))));
    if (focused) this.focusItem(focused.dataset.reference);
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
      h('button', { type: 'button', class: 'btn btn-secondary btn-block', onclick: () => this.showList({ focus: c.reference }) }, t('complaints.back'))));
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
      this.requestId = this.requestId || uuid();
      const ack = await this.conn.call('complaint:submit', {
        category, subject, body, email: email || undefined, client_id: this.requestId,
      });
      if (!ack.ok) {
        $('cf-error').textContent = errorText(ack.error);
        $('cf-error').hidden = false;
        return;
      }
      this.sent = ack.complaint;
      this.requestId = null;
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
