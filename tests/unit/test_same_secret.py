"""A presented secret matches only when it is exactly the expected one, and nothing it holds can crash the check."""

from chatserver.domain.same_secret import same_secret


def test_only_the_exact_secret_matches():
    assert same_secret("s3cret-token", "s3cret-token")
    for other in ["s3cret-toke", "s3cret-token ", "S3CRET-TOKEN", "", "s3cret-token\x00"]:
        assert not same_secret("s3cret-token", other), other


def test_text_that_compare_digest_refuses_is_simply_no_match():
    # hmac.compare_digest raises TypeError on non-ASCII text; a header, cookie or form may carry any
    for given in ["é", "я-token", "\ud800", "\U0001f642", "s3cret-token\u202e"]:
        assert not same_secret("s3cret-token", given)


def test_no_expectation_and_things_that_are_not_text_never_match():
    assert not same_secret("", "")
    for given in [None, b"s3cret-token", 0, ["s3cret-token"], {"$ne": None}]:
        assert not same_secret("s3cret-token", given)
