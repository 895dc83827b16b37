"""One rule for an address that e-mail notices can reach, the same wherever an address is typed.

The intake (widget payloads, the JSON API), the outbox's decision to send, and the mail transport's
last check must agree: an address taken in that the transport then refuses would fail in the
outbox, after the customer was told to expect e-mail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chatserver.domain.complaints import EMAIL_PATTERN, plausible_email
from chatserver.mail.render import clean_recipient
from tests.machine import cannot_run_here

ROOT = Path(__file__).resolve().parents[2]
FRONT_ENDS = [ROOT / "widget/app/email.js", ROOT / "chatserver/static/console/complaints/log.js"]

REFUSED = [
    "", "a@b", "@example.test", "anna@", "anna@example.test.", "anna@.example.test", "anna..b@example.test",
    ".anna@example.test", "a b@example.test", "a@b@c.test", "a@example.test,b@example.test", "<a@b.test>",
    "Anna <anna@example.test>", '"quoted"@example.test', "a(comment)@example.test", "javascript:x@x.test",
    "jürgen@example.de", "anna@exämple.de", "a\x85b@example.test", "a\u202eb@example.test", "a\x00@example.test",
    "x@example.test\r\nBcc: y@z.test", "a@[127.0.0.1]", "a@example.test?cc=b@c.test",
]
ACCEPTED = [
    "anna@example.test", "a.b+c@mail.example.co.uk", "x@y.z", "victim?cc=thief&subject=x@x.test",
    "{{7*7}}@x.test", "o'brien@example.ie", "1@2.3",
]


@pytest.mark.parametrize("address", REFUSED)
def test_addresses_mail_cannot_reach_are_refused(address):
    assert not plausible_email(address)


@pytest.mark.parametrize("address", ACCEPTED)
def test_plain_addresses_are_accepted_as_written(address):
    assert plausible_email(address)
    assert clean_recipient(address) == address


@settings(max_examples=1000, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(re.compile(EMAIL_PATTERN), fullmatch=True).filter(lambda a: len(a) <= 254))
def test_every_address_the_intake_accepts_the_mail_transport_accepts_too(address):
    assert plausible_email(address)
    assert clean_recipient(address) == address


@pytest.mark.parametrize("script", FRONT_ENDS, ids=lambda p: p.name)
def test_the_front_ends_check_addresses_by_the_same_rule(script):
    """The widget's and the console's forms say "not an e-mail address" exactly when the server would."""
    if shutil.which("node") is None:
        cannot_run_here("Node.js is needed to run the front ends' copy of the rule")
    source = script.read_text(encoding="utf-8")
    rule = "\n".join(line for line in source.splitlines() if line.startswith(("const ATOM", "const EMAIL", "export const EMAIL")))
    samples = REFUSED + ACCEPTED
    program = rule.replace("export const", "const") + f"\nprocess.stdout.write(JSON.stringify({json.dumps(samples)}.map((a) => EMAIL.test(a))));"
    verdicts = json.loads(subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True, timeout=30).stdout)
    assert dict(zip(samples, verdicts)) == {a: plausible_email(a) for a in samples}
