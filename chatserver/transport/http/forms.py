"""Reading a posted form, whatever a client sends: its text fields, or a clear refusal.

Our pages post UTF-8, urlencoded; multipart is read too (`curl -F`), text fields only. Anything else
(bytes that are not UTF-8, an unknown charset, a charset such as UTF-7 that decodes to lone surrogates,
a NUL character, broken multipart, a file, a header that is not one) is answered `400` with the reason
instead of reaching a handler as an exception, and a body over the application's size cap `413`.
Multipart is read here, part by part, rather than by `request.post()`, which spools file parts to
temporary files and leaves them open when a later part turns out bad.
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict, MultiDictProxy

from chatserver.transport.http.security import NO_STORE

PLAIN_TRANSFER = {"7bit", "8bit", "binary"}


def _refused(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f"This form could not be read: {reason}.", headers=NO_STORE)


async def read_form(request: web.Request) -> MultiDictProxy[str]:
    try:
        if request.content_type == "multipart/form-data":
            fields = await _multipart(request)
        else:
            posted = await request.post()
            fields = MultiDict((name, value) for name, value in posted.items() if isinstance(value, str))
    except web.HTTPException:
        raise  # too large (413): aiohttp's answer, or ours below, says so
    except UnicodeError:
        raise _refused("it is not UTF-8") from None
    except LookupError:
        raise _refused("its charset is unknown") from None
    except (ValueError, HttpProcessingError):
        raise _refused("it is not a well-formed form") from None
    if not all(_is_unicode(name) and _is_unicode(value) for name, value in fields.items()):
        raise _refused("it is not Unicode text")
    if any("\x00" in name or "\x00" in value for name, value in fields.items()):
        # refused as in every socket payload: a canned answer holding one could never be sent in a chat
        raise _refused("it holds a NUL character")
    return MultiDictProxy(fields)


def _is_unicode(text: str) -> bool:
    # the form's own charset may be UTF-7 or an escape codec, whose lone surrogates no store, page or
    # answer can hold: every later write or render would fail on them
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _multipart(request: web.Request) -> MultiDict[str]:
    fields: MultiDict[str] = MultiDict()
    limit = request.client_max_size
    total = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.filename is not None:
            raise _refused("it carries a file, and this form takes text only")
        if not part.name:
            raise _refused("a field has no name")
        if part.headers.get("Content-Encoding", "identity").lower() != "identity" or (
            part.headers.get("Content-Transfer-Encoding", "8bit").lower() not in PLAIN_TRANSFER
        ):
            raise _refused("a field is compressed or encoded")  # browsers never do this; a zip bomb would
        data = bytearray()
        while chunk := await part.read_chunk():
            total += len(chunk)
            if total > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=total, headers=NO_STORE)
            data.extend(chunk)
        fields.add(part.name, data.decode(part.get_charset(default="utf-8")))
    return fields
