// The complaints JSON API, called with the console's session cookie. Writes carry the page's CSRF
// token; every failure becomes an ApiError whose message can be shown to the agent as it is.
const TOKEN = document.querySelector('meta[name="csrf-token"]')?.content || '';

const FALLBACK = {
  400: 'The server did not accept this request.',
  401: 'Your session has ended. Reload the page and sign in again; what you typed here is kept.',
  403: 'You are not allowed to do this.',
  404: 'This complaint no longer exists.',
  409: 'This was changed meanwhile; the view shows the latest state.',
  413: 'That is too long.',
  429: 'Too many requests. Wait a moment and try again.',
};

// The server words these for integrations (an API token, a header); to an agent they mean that this
// page's sign-in ended, or was replaced by signing in again elsewhere.
const SIGNED_IN_AGAIN = 'You signed in again since this page opened. Reload the page; what you typed here is kept.';

function forTheConsole(status, error) {
  if (status === 401) return FALLBACK[401];
  if (status === 403 && /X-CSRF-Token/.test(error?.message || '')) return SIGNED_IN_AGAIN;
  return null;
}

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** "cannot resolve a complaint that is closed" reads better as a sentence. */
function sentence(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return trimmed;
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = TOKEN;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('offline', 'The server cannot be reached. Check your connection and try again.', 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // an HTML error page or an empty body: the status alone has to explain it
  }
  if (response.ok && data) return data;
  const error = data && data.error;
  const message = forTheConsole(response.status, error) || (error && error.message ? sentence(error.message)
    : FALLBACK[response.status] || `The server failed (${response.status}). Try again in a moment.`);
  throw new ApiError(error?.code || `http_${response.status}`, message, response.status);
}

/** A query string from the values that are set. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== '' && value !== null && value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const complaintPath = (reference) => `/api/complaints/${encodeURIComponent(reference)}`;
