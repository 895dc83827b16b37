// The demo operator site's own script: it only uses the widget's public API (window.Chatserver).
(function () {
  'use strict';

  function withWidget(fn) {
    if (window.Chatserver && window.Chatserver.version) fn(window.Chatserver);
    else document.addEventListener('chatserver:ready', function () { fn(window.Chatserver); }, { once: true });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var support = document.getElementById('contact-support');
    if (support) support.addEventListener('click', function () { withWidget(function (w) { w.open(); }); });

    var buttons = document.querySelectorAll('.lang [data-lang]');
    // the widget follows the visitor's browser language until they pick one here
    var browser = (navigator.languages || [navigator.language]).map(function (l) { return String(l).slice(0, 2).toLowerCase(); });
    var initial = browser.filter(function (l) { return l === 'en' || l === 'ru' || l === 'pl'; })[0] || 'en';
    Array.prototype.forEach.call(buttons, function (b) { b.setAttribute('aria-pressed', String(b.dataset.lang === initial)); });
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener('click', function () {
        Array.prototype.forEach.call(buttons, function (b) { b.setAttribute('aria-pressed', String(b === button)); });
        withWidget(function (w) { w.setLocale(button.dataset.lang); });
      });
    });
  });
})();
