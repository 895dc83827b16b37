// The complaints workspace: list and detail side by side (one at a time on a phone), kept live by
// the /agent socket's complaint:updated and complaint:sla events.
import { $ } from '../dom.js';
import { get } from './api.js';
import { cx, replaceRow } from './store.js';
import { ComplaintList } from './list.js';
import { ComplaintDetail } from './detail.js';
import { setupLog } from './log.js';
import { slaToast, countNotice, clearNotices } from './notices.js';

const REFRESH_DELAY_MS = 120;
const TICK_MS = 30_000;

export function setupComplaints({ socket, navigate }) {
  const list = new ComplaintList({ open: (reference) => navigate(reference) });
  const detail = new ComplaintDetail({
    changed: (row) => { if (replaceRow(row)) list.render(); },
    back: () => navigate(null),
  });
  const openLog = setupLog({ created: (complaint) => { list.load(); navigate(complaint.reference); } });
  $('cx-log').addEventListener('click', openLog);
  let booted = null;
  let refreshTimer = null;

  /** Categories and staff for filters and pickers, once; the list does not wait for them. */
  function boot() {
    booted = booted || Promise.allSettled([
      // retired ones too: older complaints keep their category's name, and the filter can find them
      get('/api/categories?retired=true').then((a) => { cx.categories = a.categories; }),
      get('/api/users').then((a) => { cx.users = a.users; }),
    ]).then((results) => {
      const failed = results.find((r) => r.status === 'rejected');
      list.setSetupError(failed ? `Categories or colleagues could not be loaded: ${failed.reason.message}` : null);
      if (failed) booted = null; // the next visit tries again
      list.fillOptions();
      list.render();
      if (cx.detail) detail.render();
    });
    return booted;
  }

  /** Shown (again): `reference` is the complaint to open, or null for the list alone. */
  async function enter(reference) {
    boot();
    clearNotices();
    $('complaints').dataset.view = reference ? 'detail' : 'list';
    if (!cx.loaded) list.load();
    if (reference !== cx.selected || (reference && !cx.detail)) {
      const opening = detail.open(reference);
      list.render();
      await opening;
      if (reference && !window.matchMedia('(min-width: 761px)').matches) detail.focusHeading();
    }
  }

  socket.on('complaint:updated', (event) => {
    const complaint = event && event.complaint;
    if (!complaint || !cx.loaded) return;
    list.update(complaint);
    if (complaint.reference === cx.selected && detail.isStale(complaint)) {
      clearTimeout(refreshTimer); // a burst of changes costs one fetch
      refreshTimer = setTimeout(() => detail.refresh(), REFRESH_DELAY_MS);
    }
  });

  socket.on('complaint:sla', (notice) => {
    if (!notice || !notice.reference) return;
    slaToast(notice, (reference) => navigate(reference));
    countNotice();
  });

  // events missed while disconnected: fetch what is on screen again
  socket.on('connect', () => {
    if (!cx.loaded) return;
    list.load();
    if (cx.selected) detail.refresh();
  });

  setInterval(() => {
    if ($('complaints').hidden) return;
    list.render();
    detail.tick();
  }, TICK_MS);
  return { enter };
}
