// An address that e-mail notices can reach: the server's rule (EMAIL_PATTERN in
// chatserver/domain/complaints.py), checked here first so the field can say what is wrong.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
export const EMAIL = new RegExp('^' + ATOM + '(?:\\.' + ATOM + ')*@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+$');
