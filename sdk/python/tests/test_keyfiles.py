"""Every entry of testdata/vectors/keyfiles.json: how .rai files (1.x ones included) load."""

from __future__ import annotations

import json
import warnings

import pytest

from conftest import VECTORS_DIR, aes_rai
from relayapi import RaiFileError, RelayAPI, RelayAPIClient

ENTRIES = json.loads((VECTORS_DIR / "keyfiles.json").read_text(encoding="utf-8"))["key_files"]
EXAMPLE_KEY_ERROR = (
    "crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens "
    "with it. Make a real key with: relayapi keygen --method aes --out default.rai"
)


def test_the_vector_file_covers_loading_and_refusing():
    assert any("base_url" in e for e in ENTRIES)
    assert any("error_contains" in e for e in ENTRIES)
    for entry in ENTRIES:
        assert (VECTORS_DIR / entry["file"]).is_file(), entry["file"]


def _load(entry: dict, make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = make(VECTORS_DIR / entry["file"])
    return result, [w for w in caught if not issubclass(w.category, DeprecationWarning)]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_key_file(entry):
    if "error_contains" in entry:
        with pytest.raises(RaiFileError) as info:
            _load(entry, RelayAPI)
        for text in entry["error_contains"]:
            assert text in str(info.value)
        assert entry["file"] in str(info.value)  # says which file
        return
    relay, caught = _load(entry, RelayAPI)
    assert relay.relay_url == entry["base_url"]
    assert relay.base_url("TOKEN") == entry["openai_url"]
    assert len(caught) == len(entry["warnings"]), [str(w.message) for w in caught]
    for warning, field in zip(caught, entry["warnings"]):
        assert field in str(warning.message)
        assert warning.filename == __file__  # points at the caller


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_key_file_through_the_1x_client(entry):
    if "error_contains" in entry:
        with pytest.raises(RaiFileError) as info:
            _load(entry, RelayAPIClient)
        for text in entry["error_contains"]:
            assert text in str(info.value)
        return
    client, caught = _load(entry, RelayAPIClient)
    assert len(caught) == len(entry["warnings"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert client.generate_api_url_with_token("TOKEN") == entry["openai_url"]
        assert client.token_generator.get_server_url() == entry["base_url"]


def test_example_key_message_is_the_shared_wording():
    data = aes_rai("0123456789ABCDEF" * 4)  # case-insensitive
    with pytest.raises(RaiFileError) as info:
        RelayAPI(data)
    assert str(info.value) == f".rai: {EXAMPLE_KEY_ERROR}"


def _server(**server) -> RelayAPI:
    data = aes_rai()
    data["server"] = server
    return RelayAPI(data)


@pytest.mark.parametrize(
    ("server", "url"),
    [
        (
            {"host": "http://localhost", "port": 8840, "base_path": "/relayapi/"},
            "http://localhost:8840/relayapi",
        ),
        ({"host": "HTTPS://Relay.example.com", "port": 443}, "https://Relay.example.com"),
        ({"host": "http://relay.example.com", "port": 443}, "http://relay.example.com:443"),
        ({"host": "https://relay.example.com", "port": 80}, "https://relay.example.com:80"),
        ({"host": "http://relay.example.com:9000"}, "http://relay.example.com:9000"),
        ({"host": "http://relay.example.com:9000", "port": 9000}, "http://relay.example.com:9000"),
        ({"host": "https://relay.example.com"}, "https://relay.example.com:8840"),
        ({"host": "http://[::1]:8840", "base_path": "/"}, "http://[::1]:8840"),
        ({"host": "http://h", "scheme": "http", "base_path": "/a/b/"}, "http://h:8840/a/b"),
    ],
)
def test_1x_server_sections(server, url):
    assert _server(**server).relay_url == url


@pytest.mark.parametrize(
    ("server", "match"),
    [
        ({"host": "ftp://relay.example.com"}, "server.host"),
        ({"host": "http://"}, "server.host"),
        ({"host": "http://user@relay.example.com"}, "server.host"),
        ({"host": "http://relay.example.com?x=1"}, "server.host"),
        ({"host": "http://relay.example.com#x"}, "server.host"),
        ({"host": "http://relay.example.com/"}, "server.host"),
        ({"host": "http://relay.example.com:"}, "server.host"),
        ({"host": "http://relay.example.com:9000", "port": 9001}, "server.host"),
        ({"host": "http://relay.example.com:99999"}, "server.host"),
        ({"host": "https://relay.example.com", "scheme": "http"}, "server.host"),
        ({"host": "relay.example.com/api"}, "server.host"),
        ({"base_path": "relayapi/"}, "base_path"),
        ({"base_path": "//"}, "base_path"),
        ({"base_path": "/relayapi//"}, "base_path"),
        ({"base_path": "/a//b"}, "base_path"),
        ({"base_path": "/a b"}, "base_path"),
        ({"base_path": "/a?b"}, "base_path"),
    ],
)
def test_bad_1x_server_sections(server, match):
    with pytest.raises(RaiFileError, match=match):
        _server(**server)
