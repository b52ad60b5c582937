"""The deployment files in deploy/, checked without Docker or a cluster.

No Docker engine, compose plugin or Kubernetes API server runs here, so
nothing is built into an image or applied. Instead:

- every YAML file parses (multi-document), and the compose file, the
  Kubernetes objects, the Dockerfile and the systemd unit are checked for
  what the deployment relies on (non-root, probes, no secrets, graceful
  shutdown longer than the relay's drain, keys mounted read-only, ...);
- the binary is built exactly as the Dockerfile builds it
  (CGO_ENABLED=0, -trimpath, -ldflags="-s -w") and must be static (no ELF
  interpreter, no dynamic section): the distroless "static" image has no libc;
- every config.json shipped in deploy/ (compose, single node, the
  Kubernetes ConfigMap) is loaded by that binary, which must start, answer
  /ready and /metrics where the file says, and stop cleanly on SIGTERM
  (the store is switched to SQLite through RELAYAPI_* variables, since no
  Redis or PostgreSQL is part of this check);
- where the tools exist: `systemd-analyze verify` and `security --offline`
  on the unit, `kubectl kustomize` on deploy/kubernetes.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import secrets
import shutil
import struct
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from relaytest import MOCK_CONTROLS, SERVER_DIR, Mock, Proc, free_port, keygen, mint_token, wait_until

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"

# The build flags the Dockerfile uses; the static-binary test builds with them.
BUILD_ENV = {"CGO_ENABLED": "0"}
BUILD_FLAGS = ["-trimpath", "-ldflags=-s -w"]

SECRET_NAME = re.compile(r"(KEY|PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL)", re.IGNORECASE)


# --------------------------------------------------------------------------
# helpers


def load_yaml_docs(path: Path) -> list:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def parse_duration(s: str) -> float:
    """Seconds of a Go duration ("30s", "1m30s", "2m0s") or a systemd/compose time ("45s", "1min")."""
    s = str(s).strip()
    if re.fullmatch(r"\d+", s):
        return float(s)
    units = {"h": 3600, "m": 60, "min": 60, "s": 1, "ms": 0.001}
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|min|h|m|s)", s):
        assert m.start() == pos, f"bad duration {s!r}"
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    assert pos == len(s) and pos > 0, f"bad duration {s!r}"
    return total


def shutdown_seconds(cfg: dict) -> float:
    """timeouts.shutdown of a relay config (the relay's default is 30s)."""
    return parse_duration(cfg.get("timeouts", {}).get("shutdown", "30s"))


def compose() -> dict:
    return load_yaml_docs(DEPLOY / "compose.yaml")[0]


def k8s_objects() -> list[dict]:
    objs = []
    for p in sorted(K8S.glob("*.yaml")):
        if p.name == "kustomization.yaml":
            continue
        for d in load_yaml_docs(p):
            d["__file__"] = p.name
            objs.append(d)
    return objs


def k8s_one(kind: str, file: str | None = None) -> dict:
    found = [o for o in k8s_objects() if o["kind"] == kind and (file is None or o["__file__"] == file)]
    assert len(found) == 1, f"want one {kind}, found {len(found)}"
    return found[0]


def configmap_config() -> dict:
    cm = k8s_one("ConfigMap")
    return json.loads(cm["data"]["config.json"])


def dockerfile_stages() -> list[dict]:
    """Stages of deploy/Dockerfile: {"from", "name", "instructions": [(OP, args)]}."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        lines.append(buf + line)
        buf = ""
    stages: list[dict] = []
    for line in lines:
        op, _, args = line.partition(" ")
        op = op.upper()
        if op == "FROM":
            words = [w for w in args.split() if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"from": words[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((op, args.strip()))
    return stages


def stage_ops(stage: dict, op: str) -> list[str]:
    return [a for o, a in stage["instructions"] if o == op]


def relay_services(c: dict) -> dict:
    return {k: v for k, v in c["services"].items() if k in ("relay-a", "relay-b")}


def env_items(env) -> list[tuple[str, str]]:
    if env is None:
        return []
    if isinstance(env, dict):
        return [(k, "" if v is None else str(v)) for k, v in env.items()]
    return [(e.partition("=")[0], e.partition("=")[2]) for e in env]


# --------------------------------------------------------------------------
# every file parses


def test_every_yaml_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert DEPLOY / "compose.yaml" in files and len(files) >= 6, files
    for p in files:
        docs = load_yaml_docs(p)
        assert docs, f"{p} has no YAML document"
        for d in docs:
            assert isinstance(d, dict), f"{p}: a document is not a mapping"


def test_every_deploy_json_parses():
    files = sorted((DEPLOY / "config").glob("*.json"))
    assert {p.name for p in files} >= {"compose.json", "single-node.json"}
    for p in files:
        assert isinstance(json.loads(p.read_text()), dict), p
    assert isinstance(configmap_config(), dict)


def test_no_secret_material_in_deploy_files():
    """No key, admin key, password or private key is committed under deploy/."""
    patterns = {
        "a 64-hex AES key": re.compile(r"\b[0-9a-fA-F]{64}\b"),
        "an admin key": re.compile(r"\brak_[0-9a-f]{16,}"),
        "a provider key": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
        "a PEM private key": re.compile(r"BEGIN [A-Z ]*PRIVATE KEY"),
        "a .rai key body": re.compile(r'"(aes_key|private_key|d)"\s*:\s*"[^"R]'),
    }
    checked = 0
    for p in DEPLOY.rglob("*"):
        if not p.is_file():
            continue
        assert p.suffix != ".rai", f"{p}: a key file under deploy/ (keys are mounted, never committed)"
        assert p.name != ".env", f"{p}: a real env file under deploy/ (only .env.example is committed)"
        text = p.read_text(errors="replace")
        for what, rx in patterns.items():
            assert not rx.search(text), f"{p}: looks like {what}"
        checked += 1
    assert checked >= 10


# --------------------------------------------------------------------------
# compose


def test_compose_has_the_services():
    c = compose()
    services = c["services"]
    for name in ("relay-a", "relay-b", "redis", "postgres", "mock"):
        assert name in services, f"compose has no service {name}"
    stage_names = {s["name"] for s in dockerfile_stages()}
    for name, svc in relay_services(c).items():
        b = svc["build"]
        assert b["dockerfile"] == "deploy/Dockerfile" and (DEPLOY / b["context"] / b["dockerfile"]).is_file(), name
        assert b.get("target") in stage_names, f"{name}: build target {b.get('target')!r} is not a Dockerfile stage"
    mock = services["mock"]["build"]
    assert mock["dockerfile"] == "deploy/Dockerfile" and mock["target"] in stage_names
    assert "mockprovider" in " ".join(
        a for st in dockerfile_stages() if st["name"] == mock["target"] for a in stage_ops(st, "ENTRYPOINT")
    )


def test_compose_relays_share_redis_and_postgres():
    c = compose()
    cfg = json.loads((DEPLOY / "config" / "compose.json").read_text())
    assert cfg["store"]["driver"] == "redis" and cfg["store"]["url"].startswith("redis://redis:")
    assert cfg["store"]["log_driver"] == "postgres"
    assert cfg["store"]["on_unavailable"] == "fail_closed"
    assert cfg["providers"]["mock"]["base_url"] == "http://mock:9000"
    for name, svc in relay_services(c).items():
        env = dict(env_items(svc.get("environment")))
        assert (
            env["RELAYAPI_STORE_LOG_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["RELAYAPI_STORE_LOG_URL"]
        )
        for dep in ("redis", "postgres"):
            assert svc["depends_on"][dep]["condition"] == "service_healthy", f"{name} -> {dep}"
            assert "healthcheck" in c["services"][dep], f"{dep} has no healthcheck for service_healthy"
        assert "mock" in svc["depends_on"]
    # Both relays run the same image, config and keys.
    a, b = relay_services(c).values()
    for k in ("build", "command", "volumes", "environment", "env_file"):
        assert a[k] == b[k], k


def test_compose_relays_mount_keys_and_config_read_only():
    c = compose()
    for name, svc in relay_services(c).items():
        vols = svc["volumes"]
        assert "./keys:/etc/relayapi/keys:ro" in vols, f"{name}: keys not mounted read-only from ./keys"
        assert any(v.endswith(":/etc/relayapi/config.json:ro") for v in vols), name
        cmd = svc["command"]
        assert cmd[cmd.index("--config") + 1] == "/etc/relayapi/config.json"
        assert cmd[cmd.index("--rai") + 1] == "/etc/relayapi/keys"
        assert svc.get("read_only") is True and "ALL" in svc.get("cap_drop", [])
    assert (DEPLOY / "keys" / "README.md").is_file()


def test_compose_has_no_inline_secrets():
    c = compose()
    for name, svc in c["services"].items():
        for k, v in env_items(svc.get("environment")):
            if SECRET_NAME.search(k) or "://" in v and "@" in v:
                assert "${" in v, f"{name}: {k} is set inline; take it from .env"
        env_files = svc.get("env_file", [])
        env_files = [env_files] if isinstance(env_files, str) else env_files
        for f in env_files:
            assert (f if isinstance(f, str) else f["path"]) == ".env", f"{name}: env_file {f}"
    # The admin key reaches the relays only through the env file.
    for name, svc in relay_services(c).items():
        assert ".env" in svc["env_file"] and "RELAYAPI_ADMIN_KEY" not in dict(env_items(svc.get("environment")))
    example = (DEPLOY / ".env.example").read_text()
    values = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert set(values) >= {"RELAYAPI_ADMIN_KEY", "POSTGRES_PASSWORD"}
    assert all(v.strip() == "" for v in values.values()), ".env.example must hold no values"


def test_env_file_and_keys_are_gitignored():
    ignore = (DEPLOY / ".gitignore").read_text().splitlines()
    assert ".env" in ignore and "keys/*" in ignore
    if shutil.which("git") and (ROOT / ".git").exists():
        for p in ("deploy/.env", "deploy/keys/app.rai", "deploy/keys/relay.rai"):
            r = subprocess.run(["git", "check-ignore", "-q", p], check=False, cwd=ROOT)
            assert r.returncode == 0, f"{p} is not gitignored"
        r = subprocess.run(["git", "check-ignore", "-q", "deploy/.env.example"], check=False, cwd=ROOT)
        assert r.returncode == 1, ".env.example must be committed"


def test_compose_graceful_stop_outlasts_the_drain():
    c = compose()
    cfg = json.loads((DEPLOY / "config" / "compose.json").read_text())
    for name, svc in relay_services(c).items():
        assert parse_duration(svc["stop_grace_period"]) > shutdown_seconds(cfg), name
        assert svc["ulimits"]["nofile"]["soft"] >= 65536


def test_compose_load_balancer_is_the_only_trusted_proxy():
    c = compose()
    cfg = json.loads((DEPLOY / "config" / "compose.json").read_text())
    lb_ip = c["services"]["lb"]["networks"]["relaynet"]["ipv4_address"]
    assert cfg["network"]["trusted_proxies"] == [f"{lb_ip}/32"]
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "relay-a:8840" in conf and "relay-b:8840" in conf
    assert "proxy_buffering off" in conf, "SSE needs unbuffered proxying"
    assert "X-Forwarded-For" in conf


# --------------------------------------------------------------------------
# Kubernetes


EXPECTED_KINDS = {
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
}


def test_k8s_kinds_and_api_versions():
    objs = k8s_objects()
    got = {(o["apiVersion"], o["kind"]) for o in objs}
    assert got >= EXPECTED_KINDS, EXPECTED_KINDS - got
    known = EXPECTED_KINDS | {("policy/v1", "PodDisruptionBudget")}
    assert got <= known, got - known
    for o in objs:
        assert o["metadata"]["name"], o


def _container() -> dict:
    dep = k8s_one("Deployment")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return c


def test_k8s_deployment_probes_and_ports():
    dep = k8s_one("Deployment")
    assert dep["spec"]["replicas"] == 2
    c = _container()
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["http"] == 8840
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["readinessProbe"]["httpGet"]["port"] in ("http", 8840)
    assert c["livenessProbe"]["httpGet"]["path"] == "/health", "liveness must not depend on the store"
    cfg = configmap_config()
    assert ports["metrics"] == int(cfg["metrics"]["listen"].rsplit(":", 1)[1])


def test_k8s_runs_as_non_root_read_only():
    pod = k8s_one("Deployment")["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0
    assert pod.get("automountServiceAccountToken") is False
    for c in pod["containers"]:
        sc = c["securityContext"]
        assert sc.get("runAsNonRoot", psc["runAsNonRoot"]) is True
        assert sc.get("runAsUser", psc["runAsUser"]) not in (0, None)
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc.get("privileged", False) is False
        assert "ALL" in sc["capabilities"]["drop"]
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
        assert c["resources"]["limits"]["memory"]


def test_k8s_config_keys_and_admin_key_sources():
    pod = k8s_one("Deployment")["spec"]["template"]["spec"]
    c = _container()
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    args = c["args"]

    cm = k8s_one("ConfigMap")
    assert vols["config"]["configMap"]["name"] == cm["metadata"]["name"]
    assert mounts["config"]["mountPath"] == args[args.index("--config") + 1]
    assert mounts["config"]["readOnly"] is True

    assert "secret" in vols["keys"], "keys must come from a Secret"
    assert mounts["keys"]["mountPath"] == args[args.index("--rai") + 1]
    assert mounts["keys"]["readOnly"] is True
    secret_names = {o["metadata"]["name"] for o in k8s_objects() if o["kind"] == "Secret"}
    assert vols["keys"]["secret"]["secretName"] in secret_names

    env = {e["name"]: e for e in c["env"]}
    ref = env["RELAYAPI_ADMIN_KEY"]["valueFrom"]["secretKeyRef"]
    assert ref["name"] in secret_names
    for e in c["env"]:
        assert "value" not in e or not SECRET_NAME.search(e["name"]), f"{e['name']} set inline"

    cfg = configmap_config()
    assert cfg["store"]["driver"] == "redis" and cfg["store"]["url"].startswith("redis://")
    assert cfg.get("admin", {}).get("key", "") == "", "the admin key belongs in a Secret"


def test_k8s_termination_outlasts_prestop_and_drain():
    pod = k8s_one("Deployment")["spec"]["template"]["spec"]
    pre = _container()["lifecycle"]["preStop"]
    sleep = pre["sleep"]["seconds"] if "sleep" in pre else 0
    assert sleep > 0, "preStop must wait for the endpoint removal to propagate"
    assert pod["terminationGracePeriodSeconds"] > sleep + shutdown_seconds(configmap_config())


def test_k8s_service_and_hpa_target_the_deployment():
    dep = k8s_one("Deployment")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = k8s_one("Service")
    assert svc["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in _container()["ports"]}
    for p in svc["spec"]["ports"]:
        assert p["targetPort"] in port_names or p["targetPort"] in (8840, 9464)
    hpa = k8s_one("HorizontalPodAutoscaler")
    t = hpa["spec"]["scaleTargetRef"]
    assert (t["apiVersion"], t["kind"], t["name"]) == ("apps/v1", "Deployment", dep["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    (m,) = [m for m in hpa["spec"]["metrics"] if m["type"] == "Resource"]
    assert m["resource"]["name"] == "cpu" and m["resource"]["target"]["type"] == "Utilization"


def test_k8s_secret_example_holds_placeholders_only():
    text = (K8S / "secret.example.yaml").read_text()
    assert "PLACEHOLDER" in text.upper() and "EXAMPLE" in text.upper()
    for o in load_yaml_docs(K8S / "secret.example.yaml"):
        assert o["kind"] == "Secret"
        assert "data" not in o, "use stringData placeholders, never base64 data"
        for k, v in o["stringData"].items():
            assert "REPLACE" in v, f"{o['metadata']['name']}.{k} is not a placeholder"


def test_k8s_kustomization():
    k = load_yaml_docs(K8S / "kustomization.yaml")[0]
    res = k["resources"]
    assert "secret.example.yaml" not in res, "the placeholder Secret must never be applied"
    for r in res:
        assert (K8S / r).is_file(), r
    assert {"deployment.yaml", "service.yaml", "configmap.yaml", "hpa.yaml"} <= set(res)
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl not installed: kustomize build not checked")
    out = subprocess.run([kubectl, "kustomize", str(K8S)], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(out.stdout) if d}
    assert kinds >= {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler"} and "Secret" not in kinds


# --------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_stages():
    stages = dockerfile_stages()
    build = stages[0]
    assert build["from"].startswith("golang:"), build["from"]
    text = (DEPLOY / "Dockerfile").read_text()
    m = re.search(r"^ARG GO_VERSION=(\S+)", text, re.MULTILINE)
    gomod = re.search(r"^go (\d+\.\d+)", (SERVER_DIR / "go.mod").read_text(), re.MULTILINE).group(1)
    assert m and m.group(1) == gomod, f"golang image {m and m.group(1)} vs go.mod go {gomod}"
    runs = " ".join(stage_ops(build, "RUN"))
    for cmd in ("./cmd/relayapi", "./cmd/mockprovider"):
        assert re.search(r"CGO_ENABLED=0 [^&]*go build -trimpath -ldflags=\"-s -w\" -o \S+ " + re.escape(cmd), runs), (
            cmd
        )


def test_dockerfile_final_stage_is_non_root_distroless():
    stages = dockerfile_stages()
    final = stages[-1]
    assert final["name"] == "relayapi", "the default (last) stage must be the relay"
    for st in stages[1:]:  # every runtime stage
        assert "distroless" in st["from"] or st["from"] in ("scratch", "${RUNTIME_IMAGE}"), st["from"]
        users = stage_ops(st, "USER")
        assert users, f"stage {st['name']} has no USER"
        user = users[-1].split(":")[0]
        assert user not in ("0", "root") and user.isdigit() and int(user) > 0, f"stage {st['name']} runs as {users[-1]}"
        for src in stage_ops(st, "COPY") + stage_ops(st, "ADD"):
            assert "--from=build" in src, f"stage {st['name']} copies from the build context: {src}"
    text = (DEPLOY / "Dockerfile").read_text()
    m = re.search(r"^ARG RUNTIME_IMAGE=(\S+)", text, re.MULTILINE)
    assert m and "distroless/static" in m.group(1) and m.group(1).endswith(":nonroot")
    assert stage_ops(final, "USER")[-1] == "65532:65532"
    assert json.loads(stage_ops(final, "ENTRYPOINT")[-1]) == ["/relayapi", "serve"]
    assert "8840" in " ".join(stage_ops(final, "EXPOSE"))
    assert "/data" in " ".join(stage_ops(final, "VOLUME"))
    copies = stage_ops(final, "COPY")
    assert any("/relayapi" in c for c in copies)


def test_dockerfile_copies_no_secrets():
    stages = dockerfile_stages()
    for st in stages:
        for op in ("COPY", "ADD"):
            for a in stage_ops(st, op):
                assert not re.search(r"\.rai\b|\.env\b|\.pem\b|\.key\b|keys/|config\.json", a), f"{op} {a}"
        for op in ("ENV", "ARG"):
            for a in stage_ops(st, op):
                assert not SECRET_NAME.search(a.split("=")[0]), f"{op} {a}: secrets are runtime-only"
    # Build-stage COPY from the context takes server/ and the Go SDK module only.
    for a in stage_ops(stages[0], "COPY"):
        assert a.split()[0].startswith(("server/", "sdk/go/")), a
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore and "!server/" in ignore and "!sdk/go/" in ignore
    assert any(".rai" in line for line in ignore) and any(".env" in line for line in ignore)
    assert "HEALTHCHECK" not in "".join(op for st in stages for op, _ in st["instructions"])


# --------------------------------------------------------------------------
# systemd


def unit() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, empty_lines_in_values=False)
    cp.optionxform = str  # keys are case sensitive
    cp.read_string((DEPLOY / "relayapi.service").read_text())
    return cp


def test_systemd_unit_hardening():
    u = unit()
    assert {"Unit", "Service", "Install"} <= set(u.sections())
    s = u["Service"]
    assert s.get("User") == "relayapi" or s.get("DynamicUser") == "yes"
    want = {
        "StateDirectory": "relayapi",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
        "LimitNOFILE": "65536",
        "Restart": "on-failure",
    }
    for k, v in want.items():
        assert k in s, f"[Service] has no {k}"
        assert s[k] == v, f"{k}={s[k]!r}, want {v!r}"
    exec_start = s["ExecStart"].split()
    assert exec_start[1] == "serve"
    for flag, value in (
        ("--config", "/etc/relayapi/config.json"),
        ("--rai", "/etc/relayapi/keys"),
        ("--data", "/var/lib/relayapi"),
    ):
        assert exec_start[exec_start.index(flag) + 1] == value
    cfg = json.loads((DEPLOY / "config" / "single-node.json").read_text())
    assert cfg["store"]["driver"] == "sqlite"
    assert parse_duration(s["TimeoutStopSec"]) > shutdown_seconds(cfg)
    assert u["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_reload_and_https_drop_in():
    """`systemctl reload` re-reads certificate files; the HTTPS drop-in grants
    exactly the right to bind :443/:80 and leaves the rest of the hardening."""
    assert unit()["Service"]["ExecReload"] == "/bin/kill -HUP $MAINPID"
    cp = configparser.ConfigParser(strict=False, interpolation=None, empty_lines_in_values=False)
    cp.optionxform = str
    cp.read_string((DEPLOY / "relayapi-https.conf").read_text())
    s = cp["Service"]
    assert s["AmbientCapabilities"] == s["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert s["PrivateUsers"] == "no"  # a namespaced capability cannot bind the host's :443
    env = dict(kv.split("=", 1) for kv in s["Environment"].split())
    assert env == {"RELAYAPI_LISTEN": ":443", "RELAYAPI_TLS_REDIRECT_HTTP": ":80"}
    assert set(s) == {"Environment", "AmbientCapabilities", "CapabilityBoundingSet", "PrivateUsers"}


@pytest.fixture(scope="module")
def static_bins(tmp_path_factory) -> tuple[Path, Path]:
    """relayapi and mockprovider built exactly as the Dockerfile builds them."""
    out = tmp_path_factory.mktemp("static")
    env = dict(os.environ, **BUILD_ENV)
    res = subprocess.run(
        ["go", "build", *BUILD_FLAGS, "-o", str(out) + os.sep, "./cmd/relayapi", "./cmd/mockprovider"],
        check=False,
        cwd=SERVER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, f"CGO_ENABLED=0 go build failed:\n{res.stderr}"
    return out / "relayapi", out / "mockprovider"


def test_systemd_analyze(static_bins, tmp_path):
    sa = shutil.which("systemd-analyze")
    if not sa:
        pytest.skip("systemd-analyze not installed")
    # verify checks ExecStart's binary exists: point it at the one just built.
    text = (DEPLOY / "relayapi.service").read_text().replace("/usr/local/bin/relayapi", str(static_bins[0]))
    f = tmp_path / "relayapi.service"
    f.write_text(text)
    r = subprocess.run([sa, "verify", str(f)], check=False, capture_output=True, text=True, timeout=60)
    complaints = [line for line in (r.stdout + r.stderr).splitlines() if "relayapi.service" in line]
    assert r.returncode == 0 and not complaints, r.stdout + r.stderr
    r = subprocess.run(
        [sa, "security", "--offline=yes", "--no-pager", str(f)], check=False, capture_output=True, text=True, timeout=60
    )
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
    if not m:
        pytest.skip(f"systemd-analyze security --offline unsupported: {r.stderr.strip()[:200]}")
    assert float(m.group(1)) <= 2.0, r.stdout


# --------------------------------------------------------------------------
# the static binary the image relies on


PT_INTERP, PT_DYNAMIC = 3, 2


def elf_program_header_types(path: Path) -> list[int]:
    with path.open("rb") as f:
        ident = f.read(16)
        assert ident[:4] == b"\x7fELF", f"{path} is not ELF"
        is64, endian = ident[4] == 2, "<" if ident[5] == 1 else ">"
        if is64:
            f.seek(0x20)
            (phoff,) = struct.unpack(endian + "Q", f.read(8))
            f.seek(0x36)
            phentsize, phnum = struct.unpack(endian + "HH", f.read(4))
        else:
            f.seek(0x1C)
            (phoff,) = struct.unpack(endian + "I", f.read(4))
            f.seek(0x2A)
            phentsize, phnum = struct.unpack(endian + "HH", f.read(4))
        types = []
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            (p_type,) = struct.unpack(endian + "I", f.read(4))
            types.append(p_type)
        return types


def test_cgo_disabled_build_is_static(static_bins):
    for b in static_bins:
        types = elf_program_header_types(b)
        assert types, f"{b}: no program headers"
        assert PT_INTERP not in types, f"{b} needs a dynamic loader: it would not run on distroless/static"
        assert PT_DYNAMIC not in types, f"{b} has a dynamic section"
        if shutil.which("file"):
            out = subprocess.run(["file", "-b", str(b)], check=False, capture_output=True, text=True).stdout
            assert "statically linked" in out, out
    out = subprocess.run([str(static_bins[0]), "version"], check=False, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("relayapi "), out


# --------------------------------------------------------------------------
# the shipped configs load in the real binary


def _deploy_configs() -> dict[str, dict]:
    return {
        "compose": json.loads((DEPLOY / "config" / "compose.json").read_text()),
        "single-node": json.loads((DEPLOY / "config" / "single-node.json").read_text()),
        "kubernetes": configmap_config(),
    }


@pytest.fixture(scope="module")
def static_mock(static_bins, tmp_path_factory):
    m = Mock(static_bins[1], tmp_path_factory.mktemp("deploy-mock"))
    yield m
    m.stop()


@pytest.mark.parametrize("name", ["compose", "single-node", "kubernetes"])
def test_deploy_config_starts_the_relay(name, static_bins, static_mock, tmp_path, monkeypatch):
    """The binary accepts the shipped config (unknown keys are fatal), serves
    /ready, /metrics where the file puts them, relays a call, and drains on SIGTERM."""
    relay_bin = static_bins[0]
    cfg = _deploy_configs()[name]
    # Point the demo's provider at the local mock (compose: http://mock:9000).
    cfg.setdefault("providers", {})["mock"] = {"base_url": static_mock.url, "auth": "bearer",
                                              "allow_request_headers": MOCK_CONTROLS}
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(json.dumps(cfg))
    keys = keygen(relay_bin, tmp_path / "keys")
    (tmp_path / "keys" / "e.rai").unlink()  # a key directory as deployed: relay keys only
    port, mport = free_port(), free_port()
    admin_key = "adm_" + secrets.token_hex(16)
    for k in list(os.environ):
        if k.startswith("RELAYAPI_"):
            monkeypatch.delenv(k)
    env = {
        # No Redis/PostgreSQL in this check: the same binary on SQLite.
        "RELAYAPI_STORE_DRIVER": "sqlite",
        "RELAYAPI_STORE_URL": "",
        "RELAYAPI_STORE_LOG_DRIVER": "",
        "RELAYAPI_STORE_LOG_URL": "",
        "RELAYAPI_ADMIN_KEY": admin_key,
        "RELAYAPI_LIMITS_PER_IP_RPS": "0",
    }
    metrics_on_own_port = bool(cfg.get("metrics", {}).get("listen"))
    if metrics_on_own_port:
        env["RELAYAPI_METRICS_LISTEN"] = f"127.0.0.1:{mport}"
    for k, v in env.items():
        monkeypatch.setenv(k, v)  # inherited by the relay process
    args = [
        str(relay_bin),
        "serve",
        "--config",
        str(cfg_path),
        "--rai",
        str(tmp_path / "keys"),
        "--data",
        str(tmp_path / "data"),
        "--listen",
        f"127.0.0.1:{port}",
    ]
    proc = Proc(f"relay-{name}", args, tmp_path / "relay.log", cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:

        def ready():
            if not proc.alive():
                raise AssertionError(f"relay exited on the {name} config:\n{proc.log_tail()}")
            return httpx.get(base + "/ready", timeout=2).status_code == 200

        wait_until(ready, 20, f"relay with the {name} config to be ready")
        if metrics_on_own_port:
            assert httpx.get(f"http://127.0.0.1:{mport}/metrics", timeout=5).status_code == 200
            assert httpx.get(base + "/metrics", timeout=5).status_code != 200, "metrics leak onto the relay listener"
        else:
            assert httpx.get(base + "/metrics", timeout=5).status_code == 200

        tok = mint_token(relay_bin, keys.aes, max_calls=1)
        r = httpx.post(
            f"{base}/t/{tok.token}/v1/chat/completions",
            timeout=10,
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert r.status_code == 200, r.text
        assert static_mock.count(tok.api_key) == 1
        u = httpx.get(
            f"{base}/admin/tokens/{tok_jti(relay_bin, keys.aes, tok.token)}",
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=5,
        )
        assert u.status_code == 200, "admin key from RELAYAPI_ADMIN_KEY not applied"
    finally:
        rc = proc.stop(timeout=shutdown_seconds(cfg) + 5)
    assert rc == 0, f"relay did not stop cleanly on SIGTERM (exit {rc}):\n{proc.log_tail()}"


def test_image_zero_config_start(static_bins, tmp_path, monkeypatch):
    """`docker run relayapi` with no arguments: the final stage's WORKDIR, ENV
    and ENTRYPOINT, with the image's /data played by a temporary directory."""
    final = dockerfile_stages()[-1]
    workdir = stage_ops(final, "WORKDIR")[-1]
    env = dict(e.split("=", 1) for e in stage_ops(final, "ENV"))
    assert workdir == "/data" and env == {"RELAYAPI_DATA_DIR": "/data"}
    entry = json.loads(stage_ops(final, "ENTRYPOINT")[-1])
    data = tmp_path / "data"
    data.mkdir()
    for k in list(os.environ):
        if k.startswith("RELAYAPI_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("RELAYAPI_DATA_DIR", str(data))
    port = free_port()
    args = [str(static_bins[0]), *entry[1:], "--listen", f"127.0.0.1:{port}"]
    proc = Proc("relay-zero-config", args, tmp_path / "relay.log", cwd=data)
    try:

        def ready():
            if not proc.alive():
                raise AssertionError(f"zero-config relay exited:\n{proc.log_tail()}")
            return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200

        wait_until(ready, 20, "zero-config relay to be ready")
        assert (data / "config.json").stat().st_mode & 0o077 == 0, "config.json holds the admin key: 0600"
        assert (data / "default.rai").is_file()
        assert (data / "relayapi.db").is_file(), sorted(p.name for p in data.iterdir())
    finally:
        rc = proc.stop(timeout=40)
    assert rc == 0, proc.log_tail()


def tok_jti(relay_bin: Path, rai: Path, token: str) -> str:
    out = subprocess.run(
        [str(relay_bin), "inspect", "--rai", str(rai), token],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return json.loads(out)["jti"]


# --------------------------------------------------------------------------
# the guide points at files that exist


def test_deployment_doc_references_existing_files():
    doc = (ROOT / "docs" / "deployment.md").read_text()
    refs = set(re.findall(r"deploy/[\w./-]+[\w]", doc))
    assert "deploy/compose.yaml" in refs and "deploy/relayapi.service" in refs
    # Made by the operator, gitignored: named, never committed.
    operator_made = {"deploy/.env"}
    for ref in refs - operator_made:
        if ref.startswith("deploy/keys/") and ref != "deploy/keys/README.md":
            continue
        assert (ROOT / ref).exists(), f"docs/deployment.md names {ref}, which does not exist"


def test_nginx_access_log_never_records_the_request_uri():
    """Tokens travel in the path and query: the load balancer's log must not
    contain $request, $request_uri, $uri or $args."""
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "log_format relayapi_redacted" in conf and "access_log /var/log/nginx/access.log relayapi_redacted" in conf
    fmt = conf.split("log_format relayapi_redacted", 1)[1].split(";", 1)[0]
    for leaky in ("$request ", "$request'", "$request\"", "$request_uri", "$uri", "$args", "$query_string"):
        assert leaky not in fmt, f"{leaky} would log tokens"
