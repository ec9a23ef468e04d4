"""Secrets sealed at rest: unreadable without the key, readable across a key rotation."""

import pytest
from cryptography.fernet import Fernet

from tend.lib.sealing import CannotUnseal, seal, unseal


def test_a_sealed_value_holds_no_plaintext_and_opens_again(settings):
    settings.TEND_SECRETS_KEYS = "a long passphrase from the environment"
    stored = seal("whsec_c2VjcmV0")
    assert stored.startswith("fernet:") and "c2VjcmV0" not in stored
    assert seal("whsec_c2VjcmV0") != stored  # a fresh IV each time
    assert unseal(stored) == "whsec_c2VjcmV0"


def test_a_rotated_key_list_still_opens_old_values_and_seals_with_the_new_key(settings):
    old = Fernet.generate_key().decode()
    settings.TEND_SECRETS_KEYS = old
    before = seal("one")
    settings.TEND_SECRETS_KEYS = f"new passphrase,{old}"
    assert unseal(before) == "one"
    after = seal("two")
    settings.TEND_SECRETS_KEYS = "new passphrase"
    assert unseal(after) == "two"
    with pytest.raises(CannotUnseal, match="TEND_SECRETS_KEYS"):
        unseal(before)


def test_without_configured_keys_the_secret_key_is_used(settings):
    settings.TEND_SECRETS_KEYS = ""
    stored = seal("x")
    settings.SECRET_KEY = "another install"
    with pytest.raises(CannotUnseal):
        unseal(stored)


def test_a_plain_value_is_not_taken_for_a_sealed_one():
    with pytest.raises(CannotUnseal):
        unseal("whsec_plain")
