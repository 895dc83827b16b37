/*! Chatserver widget loader: a launcher button and the chat iframe. No dependencies.
 * <script src="https://chat.example.com/widget.js" async data-locale="ru" data-color="#0a7" data-position="right"></script>
 * API: Chatserver.open(), .close(), .toggle(), .identify({external_id, name, email, expires, signature}), .setLocale('pl')
 */
(function () {
  'use strict';
  // embedded twice: keep the first. An element the page names Chatserver (<form id="Chatserver"><input
  // name="version">) shows up as window.Chatserver too, but its properties are never functions.
  if (window.Chatserver && typeof window.Chatserver.identify === 'function') return;

  // Launcher labels per locale, filled in by the server from the catalogs (widget/i18n/*.json).
  var LABELS = /*LABELS*/{"en": {"open": "Open chat", "close": "Close chat", "unread": "{count} unread", "title": "Chat"}}/*END*/;
  var LOCALES = Object.keys(LABELS);

  // Where this script came from is where the chat server is, and where the identity goes. The host
  // page's own HTML can shadow document.currentScript (<img name="currentScript" src="//evil/">) and
  // even document.querySelector, so both are asked of Document.prototype, and only a <script> counts.
  var script = Object.getOwnPropertyDescriptor(Document.prototype, 'currentScript').get.call(document);
  if (!(script instanceof HTMLScriptElement)) {
    script = Document.prototype.querySelector.call(document, 'script[src*="/widget.js"]');
  }
  if (!(script instanceof HTMLScriptElement)) return;
  // Named elements shadow anything on document (<img name="body">, <img name="createElement">), so the
  // rest of what the loader needs of it is asked of the prototypes too.
  var DOC = Document.prototype;
  var EVENTS = EventTarget.prototype;
  function element(tag) { return DOC.createElement.call(document, tag); }
  function body() { return Object.getOwnPropertyDescriptor(DOC, 'body').get.call(document); }
  function html() { return Object.getOwnPropertyDescriptor(DOC, 'documentElement').get.call(document); }
  var origin = new URL(script.src, location.href).origin;
  var opts = script.dataset || {};
  var color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(opts.color || '') ? opts.color : '#0a7d5a';
  var side = opts.position === 'left' ? 'left' : 'right';
  var locale = pickLocale([opts.locale].concat(navigator.languages || [navigator.language]));

  var state = { open: false, ready: false, unread: 0, identity: null, pending: [] };

  function pickLocale(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var tag = String(candidates[i] || '').toLowerCase().split('-')[0];
      if (LOCALES.indexOf(tag) >= 0) return tag;
    }
    return 'en';
  }

  function label(key) {
    var set = LABELS[locale] || LABELS.en;
    return (set[key] || LABELS.en[key] || '').replace('{count}', String(state.unread));
  }

  // A readable text colour on the brand colour (WCAG relative luminance).
  function inkFor(hex) {
    var h = hex.slice(1);
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    var lum = [0, 2, 4].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2] > 0.45 ? '#111827' : '#ffffff';
  }

  var CSS = [
    ':host{all:initial}',
    '.launcher{position:fixed;bottom:20px;' + side + ':20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;',
    'background:' + color + ';color:' + inkFor(color) + ';cursor:pointer;display:grid;place-items:center;padding:0;',
    'box-shadow:0 6px 20px rgba(15,23,42,.22),0 2px 6px rgba(15,23,42,.12);transition:transform .18s ease,box-shadow .18s ease}',
    '.launcher:hover{transform:translateY(-2px) scale(1.03);box-shadow:0 10px 28px rgba(15,23,42,.26)}',
    '.launcher:focus-visible{outline:3px solid #2563eb;outline-offset:3px}',
    '.launcher svg{width:28px;height:28px;transition:transform .2s ease,opacity .2s ease}',
    '.launcher .close{position:absolute;opacity:0;transform:rotate(-45deg)}',
    '.is-open .launcher .chat{opacity:0;transform:rotate(45deg)}',
    '.is-open .launcher .close{opacity:1;transform:none}',
    '.badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;box-sizing:border-box;',
    'background:#dc2626;color:#fff;font:700 12px/22px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:center;',
    'box-shadow:0 0 0 2px #fff}',
    '.badge[hidden]{display:none}',
    '.frame{position:fixed;bottom:92px;' + side + ':20px;z-index:2147483001;width:384px;height:min(640px,calc(100vh - 120px));',
    'border:0;border-radius:16px;background:#fff;box-shadow:0 18px 50px rgba(15,23,42,.25),0 2px 8px rgba(15,23,42,.1);',
    'opacity:0;visibility:hidden;transform:translateY(14px) scale(.98);transform-origin:bottom ' + side + ';',
    'transition:opacity .2s ease,transform .2s ease,visibility 0s linear .2s}',
    '.is-open .frame{opacity:1;visibility:visible;transform:none;transition:opacity .2s ease,transform .2s ease}',
    '@media (max-width:480px){.frame{inset:0;width:100%;height:100%;border-radius:0;bottom:0;' + side + ':0}',
    '.is-open .launcher{display:none}}',
    '@media (prefers-reduced-motion:reduce){.launcher,.frame,.launcher svg{transition:none}}'
  ].join('');

  var SVG = 'http://www.w3.org/2000/svg';
  function icon(cls, paths) {
    var svg = DOC.createElementNS.call(document, SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', cls);
    paths.forEach(function (d) {
      var p = DOC.createElementNS.call(document, SVG, 'path');
      p.setAttribute('d', d);
      p.setAttribute('fill', 'none');
      p.setAttribute('stroke', 'currentColor');
      p.setAttribute('stroke-width', '2');
      p.setAttribute('stroke-linecap', 'round');
      p.setAttribute('stroke-linejoin', 'round');
      svg.appendChild(p);
    });
    return svg;
  }

  var host = element('div');
  host.setAttribute('data-chatserver', '');
  // the page's own rules (div:empty{display:none}, a transform) lose to this: inline and important
  host.style.setProperty('all', 'initial', 'important');
  var root = host.attachShadow({ mode: 'open' });
  if ('adoptedStyleSheets' in root) {
    // a constructed sheet works under the host page's strict style-src; a <style> element would not
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = element('style');
    style.textContent = CSS;
    root.appendChild(style);
  }
  var wrap = element('div');
  root.appendChild(wrap);

  var frame = element('iframe');
  frame.className = 'frame';
  frame.id = 'chatserver-frame';
  // the chat app needs scripts, its own origin's storage and forms; never the host's top window
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox');
  frame.setAttribute('referrerpolicy', 'origin');
  frame.setAttribute('title', label('title'));
  frame.src = origin + '/widget/frame?' + new URLSearchParams({ locale: locale, color: color, host: location.origin });

  var button = element('button');
  button.type = 'button';
  button.className = 'launcher';
  button.setAttribute('aria-controls', 'chatserver-frame');
  button.setAttribute('aria-haspopup', 'dialog');
  button.appendChild(icon('chat', ['M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z', 'M8.5 12h.01M12 12h.01M15.5 12h.01']));
  button.appendChild(icon('close', ['M6 6l12 12M18 6L6 18']));
  var badge = element('span');
  badge.className = 'badge';
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  button.appendChild(badge);
  button.addEventListener('click', function () { toggle(); });

  wrap.appendChild(frame);
  wrap.appendChild(button);

  function post(message) {
    if (!state.ready) { state.pending.push(message); return; }
    frame.contentWindow.postMessage(Object.assign({ chatserver: 1 }, message), origin);
  }

  function render() {
    wrap.className = state.open ? 'is-open' : '';
    button.setAttribute('aria-expanded', String(state.open));
    var name = state.open ? label('close') : label('open');
    if (!state.open && state.unread > 0) name += ', ' + label('unread');
    button.setAttribute('aria-label', name);
    badge.hidden = state.open || state.unread === 0;
    badge.textContent = state.unread > 9 ? '9+' : String(state.unread);
    frame.setAttribute('title', label('title'));
    frame.setAttribute('aria-hidden', String(!state.open));
    frame.tabIndex = state.open ? 0 : -1;
  }

  function open() {
    if (state.open) return;
    state.open = true;
    render();
    post({ type: 'open' });
    frame.focus();
  }

  function close(fromFrame) {
    if (!state.open) return;
    state.open = false;
    render();
    post({ type: 'close' });
    if (fromFrame) button.focus();
  }

  function toggle() { state.open ? close(true) : open(); }

  window.addEventListener('message', function (event) {
    // only our own iframe speaks to the loader
    if (event.source !== frame.contentWindow || event.origin !== origin) return;
    var data = event.data || {};
    if (data.chatserver !== 1) return;
    if (data.type === 'ready') {
      state.ready = true;
      frame.contentWindow.postMessage({ chatserver: 1, type: 'init', identity: state.identity, open: state.open, locale: locale }, origin);
      var queued = state.pending.splice(0);
      queued.forEach(post);
    } else if (data.type === 'unread') {
      state.unread = Math.max(0, Math.min(999, Number(data.count) || 0));
      render();
    } else if (data.type === 'close') {
      close(true);
    } else if (data.type === 'open') {
      open();
    }
  });

  window.Chatserver = {
    version: '1',
    open: open,
    close: function () { close(false); },
    toggle: toggle,
    identify: function (identity) {
      state.identity = identity && typeof identity === 'object' ? {
        external_id: String(identity.external_id || ''),
        name: identity.name ? String(identity.name) : undefined,
        email: identity.email ? String(identity.email) : undefined,
        expires: Number(identity.expires),
        signature: String(identity.signature || '')
      } : null;
      if (state.ready) post({ type: 'identify', identity: state.identity });
    },
    setLocale: function (wanted) {
      locale = pickLocale([wanted]);
      render();
      post({ type: 'locale', locale: locale });
    }
  };

  function mount() {
    // beside <body>, not in it: a transformed body would hold the launcher at its own bottom, and a
    // single-page site that swaps in a new <body> would take the chat away with the old one
    html().appendChild(host);
    render();
    EVENTS.dispatchEvent.call(document, new CustomEvent('chatserver:ready'));
  }
  if (body()) mount(); else EVENTS.addEventListener.call(document, 'DOMContentLoaded', mount);
})();
