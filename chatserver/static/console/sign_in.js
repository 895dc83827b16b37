// The part of an address after "#" (#complaints/C-2026-000001, a link from an e-mail notice) never
// reaches the server, so the sign-in form carries it on: signing in lands where the link pointed.
const next = document.querySelector('form input[name="next"]');
if (next && window.location.hash.length > 1 && !next.value.includes('#')) next.value += window.location.hash;
