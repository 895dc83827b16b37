// The cards shown when a chat ends: solved?, leave the queue?, rating, thanks, complaint reference.
import { h, icon, ICONS } from './dom.js';
import { t, formatDate } from './i18n.js';

export function endingCard(ending, conversation, actions) {
  const error = ending.error ? h('p', { class: 'form-error', role: 'alert' }, ending.error) : null;
  const newChat = h('button', { type: 'button', class: 'btn btn-secondary btn-block', onclick: actions.newChat }, t('closed.new_chat'));
  // the chat is over but a step is still open: moving on stays one quiet click away
  const newChatLink = h('button', { type: 'button', class: 'link', onclick: actions.newChat }, t('closed.new_chat'));
  switch (ending.kind) {
    case 'ask':
      return card('ask', null, t('end.question'), null, [
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'btn btn-primary', onclick: once(actions.solved) }, t('end.yes')),
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: once(actions.notSolved) }, t('end.no'))),
        ending.closed ? newChatLink : h('button', { type: 'button', class: 'link', onclick: actions.cancel }, t('end.continue')),
        error,
      ]);
    case 'leave':
      return card('leave', null, t('end.leave_question'), t('end.leave_hint'), [
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: actions.cancel }, t('end.stay')),
          h('button', { type: 'button', class: 'btn btn-danger', onclick: once(actions.leave) }, t('end.leave_confirm'))),
        error,
      ]);
    case 'rate':
      return ratingCard(actions, error, newChatLink);
    case 'thanks':
      return card('thanks', ICONS.check, t('rate.thanks'), t('rate.thanks_hint'), [newChat]);
    case 'complaint':
      return complaintCard(ending, actions, newChat);
    case 'abandoned':
      return card('ended', null, t('closed.abandoned'), null, [newChat]);
    default:
      return card('ended', null, t('closed.ended'), null, [newChat]);
  }
}

function card(kind, iconPath, title, text, children) {
  return h('div', { class: `end-card end-card--${kind}` },
    iconPath ? h('div', { class: 'end-icon', 'aria-hidden': 'true' }, icon(iconPath)) : null,
    h('h3', { class: 'end-title' }, title),
    text ? h('p', { class: 'end-text' }, text) : null,
    ...children);
}

/** A button that cannot be pressed twice while its request is on the way. */
function once(action) {
  return (event) => {
    event.currentTarget.disabled = true;
    action();
  };
}

function ratingCard(actions, error, newChatLink) {
  let score = 0;
  const stars = [];
  const send = h('button', { type: 'button', class: 'btn btn-primary', disabled: true }, t('rate.send'));
  const comment = h('textarea', { id: 'rate-comment', rows: 2, maxlength: 2000, placeholder: t('rate.comment_placeholder') });
  const paint = (upTo) => stars.forEach((star, i) => star.classList.toggle('is-on', i < upTo));
  const group = h('div', { class: 'stars', role: 'radiogroup', 'aria-label': t('rate.stars') });
  for (let value = 1; value <= 5; value += 1) {
    const input = h('input', { type: 'radio', name: 'score', value: String(value), class: 'sr-only', 'aria-label': t('rate.star', { count: value }) });
    input.addEventListener('change', () => { score = value; send.disabled = false; paint(score); });
    const label = h('label', { class: 'star' }, input, icon(ICONS.star, { fill: true }));
    label.addEventListener('mouseenter', () => paint(value));
    label.addEventListener('mouseleave', () => paint(score));
    stars.push(label);
    group.append(label);
  }
  send.addEventListener('click', () => {
    send.disabled = true;
    actions.rate(score, comment.value.trim());
  });
  return card('rate', null, t('rate.title'), null, [
    group,
    h('label', { class: 'field' }, h('span', {}, t('rate.comment')), comment),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: actions.skip }, t('rate.skip')),
      send),
    newChatLink,
    error,
  ]);
}

function complaintCard(ending, actions, newChat) {
  const complaint = ending.complaint || {};
  const reference = ending.reference || complaint.reference || '';
  const follow = complaint.tracking_key
    ? h('a', {
      class: 'btn btn-primary btn-block', target: '_blank', rel: 'noopener',
      href: `/track/${encodeURIComponent(reference)}?key=${encodeURIComponent(complaint.tracking_key)}`,
    }, t('complaint.follow'), icon(ICONS.external))
    : null;
  return card('complaint', ICONS.shield, t('complaint.registered'), null, [
    h('div', { class: 'reference' },
      h('span', { class: 'reference-label' }, t('complaint.reference')),
      h('strong', { class: 'reference-value', id: 'complaint-reference' }, reference)),
    complaint.first_response_due ? h('p', { class: 'end-text' }, t('complaint.due', { date: formatDate(complaint.first_response_due) })) : null,
    h('p', { class: 'end-text muted' }, t('complaint.follow_hint')),
    follow,
    h('button', { type: 'button', class: 'btn btn-secondary btn-block', onclick: actions.complaints }, t('complaint.view_all')),
    newChat,
  ]);
}
