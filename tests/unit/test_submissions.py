"""fileflare_admin.submissions: a form's one-time token is claimed once; a second claim says when the
form was first sent; a token given back may be claimed again; an empty token claims nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fileflare_admin import clock
from fileflare_admin.submissions import (
    AlreadySubmitted,
    new_submission_token,
    submission_claim,
    submission_release,
)


def test_a_token_is_claimed_once_and_the_second_claim_says_when_it_was_sent() -> None:
    token = new_submission_token()
    first = submission_claim(token, purpose="download_record_create")
    assert first is not None
    with pytest.raises(AlreadySubmitted) as again:
        submission_claim(token, purpose="download_record_create")
    assert again.value.sent_at is not None
    assert abs(again.value.sent_at - first.claimed_at) < timedelta(seconds=1)
    sentence = f"This form was already sent at {clock.clock(first.claimed_at)}, so it was not sent again."
    assert again.value.user_message == sentence


def test_tokens_of_different_purposes_and_forms_do_not_meet() -> None:
    token = new_submission_token()
    assert submission_claim(token, purpose="download_record_create") is not None
    assert submission_claim(token, purpose="order_resend") is not None
    assert submission_claim(new_submission_token(), purpose="download_record_create") is not None


def test_a_token_given_back_may_be_claimed_again() -> None:
    token = new_submission_token()
    submission_release(submission_claim(token, purpose="order_resend"))
    assert submission_claim(token, purpose="order_resend") is not None


def test_an_empty_token_claims_nothing() -> None:
    assert submission_claim("", purpose="order_resend") is None
    assert submission_claim("  ", purpose="order_resend") is None
    submission_release(None)


def test_a_claim_on_another_day_names_the_date() -> None:
    yesterday = timezone.now() - timedelta(days=1)
    sentence = AlreadySubmitted.sentence(yesterday)
    assert clock.date_time(yesterday, seconds=True) in sentence
