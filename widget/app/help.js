// The Help tab: FAQ articles in the customer's language, searchable as they type.
import { $, h, clear } from './dom.js';
import { t } from './i18n.js';

const words = (text) => String(text).toLocaleLowerCase().match(/[\p{L}\p{N}]+/gu) || [];

/** Every query word must start some word of the article; matches in the question rank first. */
export function search(articles, query) {
  const wanted = words(query);
  if (!wanted.length) return articles;
  const scored = [];
  articles.forEach((article, index) => {
    const question = words(article.question);
    const answer = words(article.answer);
    let score = 0;
    for (const word of wanted) {
      if (question.some((w) => w.startsWith(word))) score += 3;
      else if (answer.some((w) => w.startsWith(word))) score += 1;
      else return;
    }
    scored.push({ article, score, index });
  });
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map((s) => s.article);
}

export class Help {
  constructor({ getConfig, askInChat }) {
    this.getConfig = getConfig;
    $('help-search').addEventListener('input', () => this.render());
    $('help-ask').addEventListener('click', askInChat);
  }

  render(openId = null) {
    const query = $('help-search').value.trim();
    const found = search(this.getConfig().faq, query);
    clear($('faq')).append(...found.map((article) => h('details', { class: 'faq', id: `faq-${article.id}`, open: article.id === openId },
      h('summary', {}, h('span', {}, article.question)),
      h('p', { class: 'faq-answer' }, article.answer))));
    $('help-count').textContent = query ? t('help.results', { count: found.length }) : '';
    $('help-empty').hidden = found.length > 0;
    $('help-empty-text').textContent = t('help.empty', { query });
  }

  open(articleId) {
    $('help-search').value = '';
    this.render(articleId);
    const article = document.getElementById(`faq-${articleId}`);
    if (article) {
      article.scrollIntoView({ block: 'nearest' });
      article.querySelector('summary').focus();
    }
  }
}
