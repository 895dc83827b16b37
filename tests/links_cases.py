"""Text with web addresses, cut into the pieces both link finders must make: chatserver/domain/links.py on
the server and widget/app/links.js in the browsers. A piece is plain text, or L(text) for a link."""

from __future__ import annotations


def L(text: str) -> tuple[str, bool]:
    return (text, True)


def T(text: str) -> tuple[str, bool]:
    return (text, False)


MANY = [f"https://x.test/{n}" for n in range(22)]
LONG = "https://payments.example.test/withdrawals/status/" + "a1b2c3d4e5f6" * 12 + "?session=" + "z" * 60

CASES: list[tuple[str, list[tuple[str, bool]]]] = [
    ("see https://example.test/a?b=1#c.", [T("see "), L("https://example.test/a?b=1#c"), T(".")]),
    ("www.example.test, then", [L("www.example.test"), T(", then")]),
    ("HTTP://EXAMPLE.TEST/Up", [L("HTTP://EXAMPLE.TEST/Up")]),
    ("http://x.test:8080/p", [L("http://x.test:8080/p")]),
    ("two https://a.test and https://b.test;", [T("two "), L("https://a.test"), T(" and "), L("https://b.test"), T(";")]),
    ("line\nhttps://x.test\nline", [T("line\n"), L("https://x.test"), T("\nline")]),
    # sentence punctuation and brackets or quotes opened before the address stay outside
    ("is it https://x.test?!", [T("is it "), L("https://x.test"), T("?!")]),
    ("https://x.test/path/...", [L("https://x.test/path/"), T("...")]),
    ("https://x.test/x:", [L("https://x.test/x"), T(":")]),
    ("(https://en.wikipedia.test/wiki/Foo_(bar))", [T("("), L("https://en.wikipedia.test/wiki/Foo_(bar)"), T(")")]),
    ("(see https://x.test/a).", [T("(see "), L("https://x.test/a"), T(").")]),
    ("https://x.test/a_(b)_c!", [L("https://x.test/a_(b)_c"), T("!")]),
    ("[https://x.test/a]", [T("["), L("https://x.test/a"), T("]")]),
    ("'https://x.test/q'", [T("'"), L("https://x.test/q"), T("'")]),
    ("https://x.test/it's", [L("https://x.test/it's")]),
    ("\u201chttps://x.test/\u201d", [T("\u201c"), L("https://x.test/"), T("\u201d")]),
    ("<https://x.test>", [T("<"), L("https://x.test"), T(">")]),
    ("https://x.test/@user", [L("https://x.test/@user")]),
    ("https://x.test/?a=1&b=<2>", [L("https://x.test/?a=1&b="), T("<2>")]),
    # markup after an address is text, never part of the link
    ("https://x.test/\"><img src=x onerror=alert(1)>", [L("https://x.test/"), T("\"><img src=x onerror=alert(1)>")]),
    ("https://x.test/'onmouseover='alert(1)", [L("https://x.test/'onmouseover='alert(1)")]),
    # other schemes are text, and so is an address glued to one, a word or a path
    ("javascript:alert(1)", [T("javascript:alert(1)")]),
    ("javascript:https://x.test", [T("javascript:https://x.test")]),
    ("javascript:alert(1)//https://x.test", [T("javascript:alert(1)//https://x.test")]),
    ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", [T("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")]),
    ("vbscript:msgbox(1) file:///etc/passwd ftp://x.test", [T("vbscript:msgbox(1) file:///etc/passwd ftp://x.test")]),
    ("nothttps://x.test xwww.a.test foo.www.a.test", [T("nothttps://x.test xwww.a.test foo.www.a.test")]),
    ("https:// www. https://x.test:99999", [T("https:// www. https://x.test:99999")]),
    # credentials: the text before @ is what a phisher wants read as the site
    ("https://user:pass@x.test/", [T("https://user:pass@x.test/")]),
    ("https://bank.test@evil.test/login", [T("https://bank.test@evil.test/login")]),
    ("www.bank.test@evil.test", [T("www.bank.test@evil.test")]),
    # right-to-left text, and invisible marks that would disguise the address, stay outside it
    ("\u0645\u0631\u062d\u0628\u0627 https://x.test/\u0645\u0633\u0627\u0631 \u0634\u0643\u0631\u0627",
     [T("\u0645\u0631\u062d\u0628\u0627 "), L("https://x.test/\u0645\u0633\u0627\u0631"), T(" \u0634\u0643\u0631\u0627")]),
    ("\u202ehttps://x.test/evil\u202c", [T("\u202e"), L("https://x.test/evil"), T("\u202c")]),
    ("https://x.test/a\u202egnp.exe", [L("https://x.test/a"), T("\u202egnp.exe")]),
    ("https://x.test\u200b.evil.test", [L("https://x.test"), T("\u200b.evil.test")]),
    ("https://a.test\u200dhttps://b.test", [L("https://a.test"), T("\u200d"), L("https://b.test")]),
    ("https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0438\u0441\u043f\u044b\u0442\u0430\u043d\u0438\u0435/",
     [L("https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0438\u0441\u043f\u044b\u0442\u0430\u043d\u0438\u0435/")]),
    (f"long: {LONG}.", [T("long: "), L(LONG), T(".")]),
    # a tail of thousands of brackets and stops is trimmed in one pass back, and kept as text
    ("(https://x.test/a" + ")" * 4000, [T("("), L("https://x.test/a"), T(")" * 4000)]),
    ("https://x.test/a_(b" + ")." * 2000, [L("https://x.test/a_(b)"), T("." + ")." * 1999)]),
    ("[https://x.test/a]" + "]!" * 2000, [T("["), L("https://x.test/a"), T("]" + "]!" * 2000)]),
    # the first twenty places an address may start are looked at; the text after them stays plain
    (" ".join(MANY), [*(piece for url in MANY[:20] for piece in (L(url), T(" ")))][:-1] + [T(" " + " ".join(MANY[20:]))]),
    ("https://@ " * 20 + "https://x.test", [T("https://@ " * 20 + "https://x.test")]),
    ("no address here", [T("no address here")]),
    ("", []),
]
