"""Standard Webhooks 1.0 signatures: the spec's test vector, the reference library, a receiver."""

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tend.lib.outgoing import (
    InvalidSignature,
    generate_secret,
    new_message_id,
    send,
    sign,
    signature_headers,
    verify,
)
from tend.lib.outgoing.tests.conftest import LOOPBACK
from tend.lib.outgoing.tests.servers import HttpServer, Reply

# The test vector published with the specification's reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_reproduces_the_specifications_test_vector():
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_test_vector_verifies_and_a_changed_byte_does_not():
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP + 10)
    with pytest.raises(InvalidSignature, match="no v1 signature matches"):
        verify(VECTOR_SECRET, headers, VECTOR_BODY.replace(b"2", b"3"), now=VECTOR_TIMESTAMP)


def test_generated_secrets_are_whsec_base64_of_32_random_bytes():
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_message_ids_are_unique_and_safe_to_sign():
    ids = {new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("msg_") and "." not in i for i in ids)


def test_the_reference_library_accepts_our_signatures():
    secret = generate_secret()
    body = b'{"type":"account.created","data":{"id":"acme"}}'
    headers = signature_headers(secret, new_message_id(), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "account.created",
        "data": {"id": "acme"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_we_accept_the_reference_librarys_signatures():
    from datetime import UTC, datetime

    secret = generate_secret()
    now = int(time.time())
    body = '{"a":1}'
    signature = Webhook(secret).sign("msg_abc", datetime.fromtimestamp(now, UTC), body)
    headers = {
        "Webhook-Id": "msg_abc",
        "Webhook-Timestamp": str(now),
        "Webhook-Signature": signature,
    }
    verify(secret, headers, body.encode())


def test_a_rotation_signs_with_both_secrets_and_either_verifies():
    old, new = generate_secret(), generate_secret()
    headers = signature_headers([new, old], "msg_1", b"{}")
    assert len(headers["webhook-signature"].split()) == 2
    verify(old, headers, b"{}")
    verify(new, headers, b"{}")
    with pytest.raises(InvalidSignature):
        verify(generate_secret(), headers, b"{}")


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_five_minutes_is_rejected_as_a_replay(skew):
    secret = generate_secret()
    now = 1_700_000_000
    headers = signature_headers(secret, "msg_1", b"{}", timestamp=now + skew)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(secret, headers, b"{}", now=now)
    verify(secret, headers, b"{}", now=now + skew)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_header_is_required(missing):
    secret = generate_secret()
    headers = signature_headers(secret, "msg_1", b"{}")
    del headers[missing]
    with pytest.raises(InvalidSignature, match="required"):
        verify(secret, headers, b"{}")


@pytest.mark.parametrize("message_id", ["msg.1", "msg_1\n", ""])
def test_ids_with_dots_or_line_breaks_cannot_be_signed_so_fields_cannot_be_shifted(message_id):
    with pytest.raises(ValueError):
        sign(generate_secret(), message_id, 1, b"{}")


@pytest.mark.parametrize(
    "secret", ["whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_a_malformed_or_short_secret_is_refused(secret):
    with pytest.raises(ValueError):
        sign(secret, "msg_1", 1, b"{}")


def test_a_receiver_verifies_a_signed_delivery_end_to_end():
    secret = generate_secret()
    verdicts = []

    def receiver(request):
        try:
            verify(secret, request.headers, request.body)
            verdicts.append("valid")
            return Reply(204, b"")
        except InvalidSignature as error:
            verdicts.append(str(error))
            return Reply(401, b"bad signature")

    body = b'{"type":"health.rank_changed","data":{"account":"acme","to":"poor"}}'
    message_id = new_message_id()
    with HttpServer(receiver) as server:
        result = send(
            "POST",
            server.url(),
            body=body,
            headers={
                "Content-Type": "application/json",
                **signature_headers(secret, message_id, body),
            },
            allow=LOOPBACK,
        )
    assert result.delivered, result.reason
    assert verdicts == ["valid"]
    assert server.requests[0].headers["webhook-id"] == message_id
