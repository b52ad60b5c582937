"""The relay serving HTTPS itself (`tls.*`, `http2.*`): certificate files
from a test CA, reloaded on SIGHUP without dropping streams; the plain
redirect listener and HSTS; and certificates from a real ACME server,
pebble (built from the pinned Go module in e2e/acme), over HTTP-01 and
TLS-ALPN-01, then from the cache with the CA gone, and shared by two
relays through Redis (`tls.cache: "store"`).

Environment: PEBBLE_BIN, CHALLTESTSRV_BIN use these binaries instead of
`go build` in e2e/acme.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import httpx
import openai
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from relaytest import (
    Proc,
    Relay,
    assert_forwarded_safely,
    expected_completion,
    free_port,
    openai_client,
    relay_error,
    wait_until,
)
from services import RedisServer

PROMPT = "Say hello over TLS"
MESSAGES = [{"role": "user", "content": PROMPT}]
HSTS = "max-age=63072000"
ACME_DOMAIN = "relay.test"  # autocert and tls.domains want a dotted name
ACME_MODULE = Path(__file__).resolve().parent / "acme"


# ---------------------------------------------------------------------------
# A test CA (cryptography), and what a TLS client sees


@dataclass
class Leaf:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def serial(self) -> int:
        return self.cert.serial_number

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def write(self, cert_file: Path, key_file: Path) -> None:
        """Replace both files (each atomically, the key first)."""
        for path, data in ((key_file, self.key_pem), (cert_file, self.cert_pem)):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)


class TestCA:
    """A root that signs server certificates for the tests."""

    __test__ = False  # not a pytest class

    def __init__(self, path: Path):
        self.path = path
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RelayAPI e2e test CA")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str, dns: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = ("127.0.0.1",)) -> Leaf:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ip_address(i)) for i in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return Leaf(cert, key)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.path))


def served_cert(port: int, sni: str | None = "localhost", verify: ssl.SSLContext | None = None) -> x509.Certificate:
    """The leaf a new TLS handshake with 127.0.0.1:port gets (verified, with
    the name checked against sni, when verify is given)."""
    if verify is None:
        verify = ssl.create_default_context()
        verify.check_hostname = False
        verify.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            verify.wrap_socket(raw, server_hostname=sni) as tls:
        der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der)


def dns_names(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def port_of(relay: Relay) -> int:
    return int(relay.url.rsplit(":", 1)[1])


def log_records(proc: Proc, msg: str) -> list[dict]:
    """The JSON log lines of proc whose message starts with msg."""
    out = []
    for line in proc.log_path.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and str(rec.get("msg", "")).startswith(msg):
            out.append(rec)
    return out


def https_config(base: dict, **tls) -> dict:
    cfg = copy.deepcopy(base)
    cfg["tls"] = tls
    return cfg


def content(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca") / "ca.pem")


# ---------------------------------------------------------------------------
# Certificate files


@pytest.fixture(scope="module")
def https_relay(relay_factory, relay_config, ca, tmp_path_factory):
    """A relay on certificate files for localhost/127.0.0.1, with HSTS and
    the redirect listener (relay.redirect_port)."""
    d = tmp_path_factory.mktemp("https-relay")
    ca.issue("relay-e2e").write(d / "cert.pem", d / "key.pem")
    redirect_port = free_port()
    relay = relay_factory(https_config(relay_config, cert_file=str(d / "cert.pem"), key_file=str(d / "key.pem"),
                                       hsts=True, redirect_http=f"127.0.0.1:{redirect_port}"))
    relay.redirect_port = redirect_port
    relay.start(ca_file=ca.path)
    (rec,) = log_records(relay.proc, "relay listening")
    assert rec["scheme"] == "https" and rec["http2"] is True, rec
    yield relay
    relay.stop()


def test_openai_client_over_https_and_http2(https_relay, ca, mock, mint):
    m = mint(max_calls=5)
    with httpx.Client(verify=ca.context(), http2=True, timeout=30) as http:
        client = openai_client(https_relay.url, m, http_client=http)
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        assert raw.http_response.http_version == "HTTP/2"
        assert raw.parse().choices[0].message.content == expected_completion(PROMPT)[0]

        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True,
                                                extra_headers={"x-mock-chunks": "6"})
        assert content(stream) == expected_completion(PROMPT, chunks=6)[0]
        assert stream.response.http_version == "HTTP/2"

        h = http.get(https_relay.url + "/health")
        assert (h.status_code, h.http_version) == (200, "HTTP/2")
    assert_forwarded_safely(mock, m, expect=2)

    # HTTP/1.1 over TLS still works (a client offering only http/1.1).
    with httpx.Client(verify=ca.context(), timeout=10) as http1:
        h = http1.get(https_relay.url + "/health")
        assert (h.status_code, h.http_version) == (200, "HTTP/1.1")

    # Without the test CA the certificate does not verify: nothing is sent.
    with httpx.Client(timeout=10) as untrusting, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.get(https_relay.url + "/health")
    with pytest.raises(openai.APIConnectionError):
        openai_client(https_relay.url, m).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert mock.count(m.api_key) == 2

    # Plain HTTP on the TLS port gets Go's refusal, not the API.
    r = httpx.get(https_relay.url.replace("https://", "http://") + "/health", timeout=10)
    assert r.status_code == 400 and "HTTPS" in r.text, (r.status_code, r.text)


def test_redirect_listener_and_hsts(https_relay, ca):
    port, rport = port_of(https_relay), https_relay.redirect_port
    with httpx.Client(timeout=10) as http:  # redirects not followed
        r = http.get(f"http://127.0.0.1:{rport}/v1/models?limit=2")
        assert r.status_code == 308, r.text
        assert r.headers["location"] == f"https://127.0.0.1:{port}/v1/models?limit=2"
        assert "strict-transport-security" not in r.headers, "HSTS must not be sent over plain HTTP (RFC 6797 §7.2)"
        r = http.head(f"http://localhost:{rport}/health")
        assert (r.status_code, r.headers["location"]) == (308, f"https://localhost:{port}/health")

        # A body already crossed in clear text: refused, not redirected.
        r = http.post(f"http://127.0.0.1:{rport}/v1/chat/completions", json={"model": "gpt-4o", "messages": MESSAGES})
        assert r.status_code == 400 and "location" not in r.headers
        err = relay_error(r)
        assert err["code"] == "bad_request" and f"https://127.0.0.1:{port}" in err["message"], err

    with httpx.Client(verify=ca.context(), timeout=10) as https:
        r = https.get(f"https://127.0.0.1:{port}/health")
        assert r.status_code == 200 and r.headers.get("strict-transport-security") == HSTS
        r = https.get(f"https://127.0.0.1:{port}/v1/models")  # no token: an error answer has it too
        assert r.status_code == 401 and r.headers.get("strict-transport-security") == HSTS


@pytest.fixture
def file_relay(relay_factory, relay_config, ca, tmp_path):
    """start(leaf) -> (relay, cert_file, key_file): a relay on certificate files
    written from leaf (no redirect listener, no HSTS)."""

    def start(leaf: Leaf):
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        leaf.write(cert, key)
        relay = relay_factory(https_config(relay_config, cert_file=str(cert), key_file=str(key)))
        return relay.start(ca_file=ca.path), cert, key

    return start


def test_sighup_reload_keeps_open_streams(file_relay, ca, mock, mint):
    first, second = ca.issue("relay-e2e-first"), ca.issue("relay-e2e-second")
    relay, cert_file, key_file = file_relay(first)
    port = port_of(relay)
    assert served_cert(port, verify=ca.context()).serial_number == first.serial

    m = mint(max_calls=1)
    n, delay_ms = 30, 100  # a 3-second stream
    with httpx.Client(verify=ca.context(), http2=True, timeout=30) as http:
        stream = openai_client(relay.url, m, http_client=http).chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True,
            extra_headers={"x-mock-chunks": str(n), "x-mock-chunk-delay-ms": str(delay_ms)},
        )
        chunks = iter(stream)
        got = [next(c for c in chunks if c.choices and c.choices[0].delta.content)]
        ssl_object = stream.response.extensions["network_stream"].get_extra_info("ssl_object")
        assert x509.load_der_x509_certificate(ssl_object.getpeercert(True)).serial_number == first.serial

        # New pair, SIGHUP: new handshakes get it while the stream goes on.
        second.write(cert_file, key_file)
        relay.proc.p.send_signal(signal.SIGHUP)
        wait_until(lambda: served_cert(port, verify=ca.context()).serial_number == second.serial, 10,
                   "a new handshake to get the reloaded certificate")
        reloaded_at = time.monotonic()
        arrivals = []
        for c in chunks:
            got.append(c)
            arrivals.append(time.monotonic())

    assert content(got) == expected_completion(PROMPT, chunks=n)[0], "the stream did not complete intact"
    assert got[-1].choices[0].finish_reason == "stop"
    # The stream was still being produced well after the reload, on the
    # connection made before it.
    assert arrivals[-1] - reloaded_at > 5 * delay_ms / 1000, "the stream ended before the reload: this proves nothing"
    assert mock.count(m.api_key) == 1
    loaded = log_records(relay.proc, "TLS certificate loaded")
    assert [r["subject"] for r in loaded] == ["CN=relay-e2e-first", "CN=relay-e2e-second"], loaded
    assert loaded[-1]["dns_names"] == ["localhost"]
    assert not log_records(relay.proc, "TLS certificate reload failed")


def test_bad_pair_keeps_previous_certificate(file_relay, ca, mock, mint):
    good = ca.issue("relay-e2e-good")
    relay, cert_file, key_file = file_relay(good)
    port = port_of(relay)

    def failures() -> list[dict]:
        return log_records(relay.proc, "TLS certificate reload failed")

    # A certificate with another certificate's key; then a truncated file.
    cert_file.write_bytes(ca.issue("relay-e2e-bad-cert").cert_pem)
    key_file.write_bytes(ca.issue("relay-e2e-bad-key").key_pem)
    relay.proc.p.send_signal(signal.SIGHUP)
    (rec,) = wait_until(failures, 10, "the relay to log the failed reload")
    assert "tls.cert_file/tls.key_file" in rec["err"], rec
    cert_file.write_bytes(good.cert_pem[:200])
    key_file.write_bytes(good.key_pem)
    relay.proc.p.send_signal(signal.SIGHUP)
    wait_until(lambda: len(failures()) == 2, 10, "the relay to log the second failed reload")

    assert relay.proc.alive()
    assert served_cert(port, verify=ca.context()).serial_number == good.serial
    m = mint(max_calls=1)
    with httpx.Client(verify=ca.context(), http2=True, timeout=30) as http:
        r = openai_client(relay.url, m, http_client=http).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert r.choices[0].message.content == expected_completion(PROMPT)[0]
    log = relay.proc.log_path.read_text()
    assert "PRIVATE KEY" not in log and "BEGIN CERTIFICATE" not in log

    # A good pair again is taken.
    fixed = ca.issue("relay-e2e-fixed")
    fixed.write(cert_file, key_file)
    relay.proc.p.send_signal(signal.SIGHUP)
    wait_until(lambda: served_cert(port, verify=ca.context()).serial_number == fixed.serial, 10,
               "the relay to serve the fixed pair")


# ---------------------------------------------------------------------------
# ACME: pebble (letsencrypt/pebble, the pinned module in e2e/acme)


@pytest.fixture(scope="session")
def pebble_bins(tmp_path_factory) -> tuple[Path, Path]:
    pebble, chall = os.environ.get("PEBBLE_BIN"), os.environ.get("CHALLTESTSRV_BIN")
    targets = []
    out = tmp_path_factory.mktemp("pebble-bin")
    if not pebble:
        targets.append("github.com/letsencrypt/pebble/v2/cmd/pebble")
        pebble = str(out / "pebble")
    if not chall:
        targets.append("github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv")
        chall = str(out / "pebble-challtestsrv")
    if targets:
        res = subprocess.run(["go", "build", "-o", str(out) + os.sep, *targets], cwd=ACME_MODULE,
                             capture_output=True, text=True, timeout=600, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"go build (pebble) failed:\n{res.stdout}\n{res.stderr}")
    return Path(pebble), Path(chall)


class Pebble:
    """pebble with pebble-challtestsrv as its DNS server (every name is
    127.0.0.1, no AAAA). It validates HTTP-01 on 127.0.0.1:http_port and
    TLS-ALPN-01 on 127.0.0.1:tls_port; its own HTTPS listeners use a
    certificate from the test CA."""

    def __init__(self, bins: tuple[Path, Path], workdir: Path, ca: TestCA, http_port: int, tls_port: int):
        self.procs: list[Proc] = []
        self.ca = ca
        try:
            self._start(bins, workdir, http_port, tls_port)
        except BaseException:
            self.stop()
            raise

    def _start(self, bins: tuple[Path, Path], workdir: Path, http_port: int, tls_port: int) -> None:
        pebble_bin, chall_bin = bins
        ca = self.ca
        dns_port = free_port()
        self.procs.append(Proc("pebble-challtestsrv", [
            str(chall_bin), "-dnsserver", f"127.0.0.1:{dns_port}", "-management", f"127.0.0.1:{free_port()}",
            "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
            "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
        ], workdir / "challtestsrv.log"))

        def dns_up() -> bool:
            if not self.procs[0].alive():
                raise AssertionError(f"pebble-challtestsrv exited:\n{self.procs[0].log_tail()}")
            with socket.create_connection(("127.0.0.1", dns_port), timeout=1):
                return True

        wait_until(dns_up, 15, "pebble-challtestsrv DNS (TCP)")

        ca.issue("pebble", dns=("localhost",), ips=("127.0.0.1",)).write(workdir / "pebble.pem", workdir / "pebble.key")
        self.port, self.mgmt_port = free_port(), free_port()
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": str(workdir / "pebble.pem"), "privateKey": str(workdir / "pebble.key"),
            "httpPort": http_port, "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False,
            "retryAfter": {"authz": 1, "order": 1}, "keyAlgorithm": "ecdsa",
            # 90 days, so autocert (renewing 30 days ahead) never renews here.
            "profiles": {"default": {"description": "e2e", "validityPeriod": 7776000}},
        }}
        (workdir / "pebble.json").write_text(json.dumps(config, indent=2))
        env = dict(os.environ,
                   PEBBLE_VA_NOSLEEP="1",       # no random 0-5 s sleep before each validation
                   PEBBLE_WFE_NONCEREJECT="0",  # no random badNonce rejections
                   PEBBLE_AUTHZREUSE="0")       # every order is validated afresh
        self.procs.append(Proc("pebble", [str(pebble_bin), "-config", str(workdir / "pebble.json"),
                                          "-dnsserver", f"127.0.0.1:{dns_port}"],
                               workdir / "pebble.log", env=env))
        self.directory = f"https://localhost:{self.port}/dir"

        def up() -> bool:
            if not self.procs[1].alive():
                raise AssertionError(f"pebble exited:\n{self.procs[1].log_tail()}")
            return all(httpx.get(url, verify=ca.context(), timeout=2).status_code == 200 for url in (
                f"https://127.0.0.1:{self.port}/dir", f"https://127.0.0.1:{self.mgmt_port}/roots/0"))

        wait_until(up, 15, "pebble's ACME directory and management interface")

    def root(self) -> ssl.SSLContext:
        """A client context trusting pebble's issuing root (and only it)."""
        r = httpx.get(f"https://127.0.0.1:{self.mgmt_port}/roots/0", verify=self.ca.context(), timeout=5)
        r.raise_for_status()
        assert "BEGIN CERTIFICATE" in r.text
        return ssl.create_default_context(cadata=r.text)

    def log(self) -> str:
        return self.procs[1].log_path.read_text(errors="replace")

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()


@pytest.fixture
def pebble(pebble_bins, ca, tmp_path):
    """pebble(http_port=, tls_port=) -> Pebble, stopped at the end of the test."""
    started: list[Pebble] = []

    def start(http_port: int, tls_port: int) -> Pebble:
        d = tmp_path / f"pebble-{len(started)}"
        d.mkdir()
        started.append(Pebble(pebble_bins, d, ca, http_port, tls_port))
        return started[-1]

    yield start
    for p in started:
        p.stop()


def acme_config(base: dict, peb: Pebble, cache_dir: Path | None, **extra) -> dict:
    """tls.domains from pebble; cache_dir None leaves tls.cache_dir out
    (for tls.cache "store", which excludes it)."""
    if cache_dir is not None:
        extra["cache_dir"] = str(cache_dir)
    return https_config(base, domains=[ACME_DOMAIN], acme_directory=peb.directory, acme_email="ops@relay.test",
                        acme_ca_file=str(peb.ca.path), **extra)


def wait_certificate(relay: Relay) -> dict:
    def ready():
        if not relay.proc.alive():
            raise AssertionError(f"relayapi exited:\n{relay.proc.log_tail()}")
        failed = log_records(relay.proc, "ACME: no certificate yet")
        assert not failed, f"the relay got no certificate: {failed}"
        return log_records(relay.proc, "ACME certificate ready")

    (rec,) = wait_until(ready, 30, "the relay to log 'ACME certificate ready'", interval=0.1)
    assert rec["domain"] == ACME_DOMAIN, rec
    return rec


class SNITransport(httpx.HTTPTransport):
    """Connects to the URL's address but names `host` (SNI, certificate
    check, Host): the relay's domain without DNS for it."""

    def __init__(self, host: str, **kw):
        super().__init__(**kw)
        self.host = host

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions = dict(request.extensions, sni_hostname=self.host)
        request.headers["Host"] = f"{self.host}:{request.url.port}"
        return super().handle_request(request)


def assert_acme_certificate(relay: Relay, root: ssl.SSLContext) -> x509.Certificate:
    """A handshake naming the domain verifies against pebble's root (the
    relay sends the intermediate) and gets a leaf for exactly that domain."""
    port = port_of(relay)
    leaf = served_cert(port, sni=ACME_DOMAIN, verify=root)
    assert dns_names(leaf) == [ACME_DOMAIN]
    assert "Pebble Intermediate CA" in leaf.issuer.rfc4514_string(), leaf.issuer
    # The test CA's certificate for pebble is not what the relay serves.
    test_ca = ssl.create_default_context(cafile=relay.config["tls"]["acme_ca_file"])
    with pytest.raises(ssl.SSLCertVerificationError):
        served_cert(port, sni=ACME_DOMAIN, verify=test_ca)
    return leaf


def chat_via_domain(relay: Relay, root: ssl.SSLContext, mint) -> None:
    m = mint(max_calls=1)
    with httpx.Client(transport=SNITransport(ACME_DOMAIN, verify=root, http2=True), timeout=30) as http:
        raw = openai_client(relay.url, m, http_client=http).chat.completions.with_raw_response.create(
            model="gpt-4o", messages=MESSAGES)
    assert raw.http_response.http_version == "HTTP/2"
    assert raw.parse().choices[0].message.content == expected_completion(PROMPT)[0]


def test_acme_http01(pebble, relay_factory, relay_config, mock, mint, tmp_path):
    """HTTP-01 on tls.redirect_http. pebble's TLS-ALPN-01 port has nothing
    listening, so autocert's first choice (tls-alpn-01) fails and only the
    redirect listener can prove control."""
    redirect_port = free_port()
    peb = pebble(http_port=redirect_port, tls_port=free_port())
    relay = relay_factory(acme_config(relay_config, peb, tmp_path / "cache",
                                      redirect_http=f"127.0.0.1:{redirect_port}")).start()
    # pebble sends Host: relay.test:<port> (RFC 9110 allows the port; Let's
    # Encrypt leaves it out for port 80): an unknown token must get 404 from
    # the challenge handler, not autocert's 403 "not configured in HostWhitelist".
    probe = httpx.get(f"http://127.0.0.1:{redirect_port}/.well-known/acme-challenge/no-such-token",
                      headers={"Host": f"{ACME_DOMAIN}:{redirect_port}"}, timeout=10)
    assert probe.status_code == 404, f"HTTP-01 answers {probe.status_code} {probe.text.strip()!r} to a Host with a port"
    wait_certificate(relay)
    assert f"validate w/ HTTP: http://{ACME_DOMAIN}:{redirect_port}/.well-known/acme-challenge/" in peb.log()

    root = peb.root()
    assert_acme_certificate(relay, root)
    chat_via_domain(relay, root, mint)

    # A name outside tls.domains gets no certificate, and the CA is not asked.
    with pytest.raises(ssl.SSLError):
        served_cert(port_of(relay), sni="other.test")
    assert "other.test" not in peb.log()
    # A handshake naming nothing (a health check by IP address) gets the
    # first domain's certificate rather than a handshake failure.
    assert served_cert(port_of(relay), sni=None).serial_number == served_cert(port_of(relay), sni=ACME_DOMAIN).serial_number


def test_acme_tls_alpn01_then_cache_without_ca(pebble, relay_factory, relay_config, mock, mint, tmp_path):
    """TLS-ALPN-01 on the HTTPS listener (no redirect listener: pebble's
    HTTP-01 port has nothing listening); then a restart on the same cache
    serves the same certificate with pebble stopped."""
    port = free_port()
    peb = pebble(http_port=free_port(), tls_port=port)
    relay = relay_factory(acme_config(relay_config, peb, tmp_path / "cache")).start(port=port)
    issued = wait_certificate(relay)
    assert "Attempting to validate w/ HTTP" not in peb.log(), "HTTP-01 was tried: this test is about TLS-ALPN-01"

    root = peb.root()
    leaf = assert_acme_certificate(relay, root)
    chat_via_domain(relay, root, mint)

    relay.stop()
    peb.stop()
    relay.start(port=port)
    cached = wait_certificate(relay)
    assert cached["not_after"] == issued["not_after"]
    assert served_cert(port, sni=ACME_DOMAIN, verify=root).serial_number == leaf.serial_number
    chat_via_domain(relay, root, mint)


@pytest.fixture
def redis_store(tmp_path):
    r = RedisServer(tmp_path).start()
    yield r
    r.stop()


def redis_get(redis: RedisServer, key: str) -> bytes:
    out = subprocess.run(["redis-cli", "-p", str(redis.port), "--no-raw", "EXISTS", key],
                         capture_output=True, text=True, timeout=10, check=True)
    if out.stdout.strip() != "(integer) 1":
        return b""
    return subprocess.run(["redis-cli", "-p", str(redis.port), "GET", key],
                          capture_output=True, timeout=10, check=True).stdout


def test_acme_certificate_shared_by_two_relays_through_redis(pebble, redis_store, relay_factory, relay_config,
                                                             mock, mint):
    """tls.cache "store": relay A obtains the certificate (TLS-ALPN-01) and
    keeps it, with the ACME account key, in the Redis it shares with relay
    B. With pebble gone, B starts on an empty data dir and serves the very
    same certificate from Redis at once, never asking the CA."""
    port_a, port_b = free_port(), free_port()
    peb = pebble(http_port=free_port(), tls_port=port_a)
    cfg = acme_config(dict(relay_config, store={"driver": "redis", "url": redis_store.url}), peb, None, cache="store")
    a = relay_factory(cfg).start(port=port_a)
    issued = wait_certificate(a)
    root = peb.root()
    leaf = assert_acme_certificate(a, root)
    chat_via_domain(a, root, mint)
    assert log_records(a.proc, "ACME cache in the usage store")
    assert not (a.data_dir / "certs").exists(), "tls.cache \"store\" wrote a cache directory"

    # What Redis holds: the certificate with its key, and the account key.
    cached = redis_get(redis_store, f"ra:blob:acme/{ACME_DOMAIN}")
    assert b"PRIVATE KEY" in cached and b"BEGIN CERTIFICATE" in cached, cached[:80]
    stored_leaf = x509.load_pem_x509_certificates(cached[cached.index(b"-----BEGIN CERTIFICATE"):])[0]
    assert stored_leaf.serial_number == leaf.serial_number
    assert b"PRIVATE KEY" in redis_get(redis_store, "ra:blob:acme/acme_account+key")

    peb.stop()
    b = relay_factory(cfg).start(port=port_b)
    assert not (b.data_dir / "certs").exists() and b.data_dir != a.data_dir
    loaded = wait_certificate(b)  # fails on "ACME: no certificate yet"
    assert loaded["not_after"] == issued["not_after"]
    assert served_cert(port_b, sni=ACME_DOMAIN, verify=root).serial_number == leaf.serial_number
    assert served_cert(port_b, sni=None).serial_number == leaf.serial_number
    chat_via_domain(b, root, mint)
    # And A still serves it too: one certificate for the domain.
    assert served_cert(port_a, sni=ACME_DOMAIN, verify=root).serial_number == leaf.serial_number
    for relay in (a, b):
        assert not log_records(relay.proc, "ACME: no certificate yet")
        assert not log_records(relay.proc, "ACME cache:"), "a store read or write failed"
    assert not (b.data_dir / "certs").exists()
