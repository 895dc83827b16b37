// "Log complaint": a complaint that came by e-mail or phone, recorded by the agent.
import { h } from '../dom.js';
import { post } from './api.js';
import { formDialog, refuse } from './dialog.js';
import { activeCategories, categoryName } from './store.js';
import { uuid } from '../state.js';

// the server's rule for an address that mail can reach (EMAIL_PATTERN in chatserver/domain/complaints.py)
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const EMAIL = new RegExp('^' + ATOM + '(?:\\.' + ATOM + ')*@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+$');

export function setupLog({ created }) {
  // one id per complaint being logged, kept across retries of it: one whose answer was lost (a
  // timeout, a dropped connection) is then found on the server instead of logged, and e-mailed, twice
  let requestId = null;
  return formDialog('cx-log-dialog', {
    prepare(form) {
      form.reset();
      requestId = uuid();
      const select = form.querySelector('select[name="category"]');
      select.replaceChildren(...activeCategories().map((c) => h('option', { value: c.slug }, categoryName(c.slug))));
      select.value = activeCategories().some((c) => c.slug === 'other') ? 'other' : select.value;
    },
    async submit(form) {
      const value = (name) => form.elements[name].value.trim();
      const missing = ['subject', 'body'].find((name) => !value(name));
      if (missing) return refuse(form.elements[missing], missing === 'subject' ? 'Give the complaint a short subject.' : 'Describe what happened.');
      if (!form.elements.category.value) return 'Categories are still loading; try again in a moment.';
      const email = value('customer_email');
      if (email && !EMAIL.test(email)) return refuse(form.elements.customer_email, 'That e-mail address does not look right.');
      const payload = {
        category: form.elements.category.value,
        subject: value('subject'),
        body: value('body'),
        channel: form.querySelector('input[name="channel"]:checked').value,
        client_id: requestId,
      };
      if (email) payload.customer_email = email;
      if (value('customer_name')) payload.customer_name = value('customer_name');
      const answer = await post('/api/complaints', payload);
      created(answer.complaint);
      return null;
    },
  });
}
