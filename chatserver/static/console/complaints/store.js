// What the complaints workspace knows: who is signed in, categories and staff, the list page
// (filters, rows, total), and the open complaint. Drafts are kept apart (../drafts.js).
const app = document.getElementById('app');

export const cx = {
  me: { id: app.dataset.userId, name: app.dataset.userName, role: app.dataset.userRole || 'agent' },
  categories: [],
  users: [],
  filters: { status: '', category: '', level: '', assignee: '', q: '', sort: 'due' },
  rows: [],
  total: 0,
  loaded: false,
  selected: null, // reference of the open complaint
  detail: null, // its detail view, once fetched
};

export const PAGE_SIZE = 50;
// the highest level each role acts on (agents 1, supervisors 2, admins all)
export const ROLE_MAX_LEVEL = { agent: 1, supervisor: 2, admin: 3 };

export const isSupervisor = () => cx.me.role === 'supervisor' || cx.me.role === 'admin';

/** The categories a complaint may be filed under or moved to now. */
export const activeCategories = () => cx.categories.filter((c) => c.active);

export function categoryName(slug) {
  const found = cx.categories.find((c) => c.slug === slug);
  return found ? (found.names && found.names.en) || found.name || slug : slug;
}

export function userName(id) {
  if (id === cx.me.id) return cx.me.name;
  const found = cx.users.find((u) => u.id === id);
  return found ? found.name : null;
}

/** Put a fresh staff view into the list where its row is; true when it was there. */
export function replaceRow(complaint) {
  const index = cx.rows.findIndex((r) => r.reference === complaint.reference);
  if (index < 0) return false;
  cx.rows[index] = { ...cx.rows[index], ...complaint };
  return true;
}

/** Whether a complaint would be listed under the current filters (search text aside: the server decides that). */
export function matchesFilters(complaint) {
  const f = cx.filters;
  if (f.status && complaint.status !== f.status) return false;
  if (f.category && complaint.category !== f.category) return false;
  if (f.level && String(complaint.level) !== f.level) return false;
  const owner = complaint.assignee ? complaint.assignee.id : null;
  if (f.assignee === 'none' && owner) return false;
  if (f.assignee === 'me' && owner !== cx.me.id) return false;
  if (f.assignee && !['me', 'none'].includes(f.assignee) && owner !== f.assignee) return false;
  return true;
}
