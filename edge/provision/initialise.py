"""`examgate provision init`: data dir, device key + CSR, data key, config file, service user, systemd units."""

from __future__ import annotations

import grp
import pwd
import re
import shutil
import string
import subprocess
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from edge.config import AppConfig
from edge.provision import identity
from edge.provision.errors import ProvisionError
from edge.provision.layout import (
    DEVICE_GROUPS,
    ENABLED_UNITS,
    LIVE_CREDENTIALS_DIR,
    LIVE_DATA_DIR,
    SERVICE_USER,
    UNITS,
    Layout,
    source_root,
)
from edge.provision.steps import Runner

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # same rule as site.site_id / site.gate_id


def _check_id(what: str, value: str) -> None:
    if not _ID.fullmatch(value):
        raise ProvisionError(
            f"{what} {value!r} is not a valid id",
            code="E_PROVISION_BAD_ID",
            remedy=f"use 1-64 letters, digits, '-', '_' or '.' for --{what}, starting with a letter or digit",
        )


def render_config(template: str, layout: Layout, site_id: str, gate_id: str, broker_url: str) -> str:
    """Fill the config template and check the result against the config models (typed error if not)."""
    tls = ""
    if broker_url.startswith("mqtts://"):
        tls = "\n".join(
            [
                f'ca_file = "{layout.live(layout.ca_cert)}"',
                f'cert_file = "{layout.live(layout.cert)}"',
                f'key_file = "{LIVE_CREDENTIALS_DIR}/mqtt-client-key"',
            ]
        )
    text = string.Template(template).substitute(
        site_id=site_id,
        gate_id=gate_id,
        cn=identity.common_name(site_id, gate_id),
        broker_url=broker_url,
        mqtt_tls=tls,
        credentials_dir=str(LIVE_CREDENTIALS_DIR),
    )
    validate_config_text(text)
    return text


def validate_config_text(text: str) -> None:
    try:
        AppConfig.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[:6]
        raise ProvisionError(
            "the rendered config is not valid: " + " | ".join(first),
            code="E_PROVISION_CONFIG_INVALID",
            remedy="check --broker (mqtts://host:port for a remote broker) and provisioning/examgate.toml.tmpl",
        ) from exc


def _names_in(db: Path) -> set[str]:
    """Account names in a passwd/group file of another root (an SD-card image being prepared)."""
    try:
        lines = db.read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    return {line.split(":", 1)[0] for line in lines if ":" in line}


def _account_exists(layout: Layout, db: Literal["passwd", "group"], name: str) -> bool:
    """Whether the user (``db="passwd"``) or group (``db="group"``) ``name`` exists on the provisioned root."""
    if not layout.is_live:
        return name in _names_in(layout.root / "etc" / db)
    lookup = pwd.getpwnam if db == "passwd" else grp.getgrnam
    try:
        lookup(name)
    except KeyError:
        return False
    return True


def provision_init(
    *,
    site_id: str,
    gate_id: str,
    broker_url: str,
    root: Path,
    dry_run: bool,
    source: Path | None = None,
) -> dict[str, Any]:
    _check_id("site", site_id)
    _check_id("gate", gate_id)
    src = source or source_root()
    template_path = src / "provisioning" / "examgate.toml.tmpl"
    unit_sources = [src / "systemd" / u for u in UNITS]
    missing = [p for p in [template_path, *unit_sources] if not p.is_file()]
    if missing:
        raise ProvisionError(
            f"provisioning sources missing: {', '.join(str(p) for p in missing)}",
            code="E_PROVISION_SOURCE_MISSING",
            remedy="run from the ExamGate source checkout (/opt/examgate/src) or pass --source DIR",
        )
    layout = Layout(root)
    cn = identity.common_name(site_id, gate_id)
    config_text = render_config(template_path.read_text(encoding="utf-8"), layout, site_id, gate_id, broker_url)
    run = Runner(dry_run=dry_run)
    live = layout.is_live

    # 1. service user and device groups (before any chown)
    for group in DEVICE_GROUPS:
        run.run(
            "group", ["groupadd", "--system", group], needed=not _account_exists(layout, "group", group), execute=live
        )
    run.run(
        "user",
        [
            "useradd",
            "--system",
            "--user-group",
            "--home-dir",
            str(LIVE_DATA_DIR),
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SERVICE_USER,
        ],
        needed=not _account_exists(layout, "passwd", SERVICE_USER),
        execute=live,
    )

    # 2. directories
    run.ensure_dir(layout.etc_dir, 0o755)
    run.ensure_dir(layout.credentials_dir, 0o700)
    run.ensure_dir(layout.tls_dir, 0o755)
    run.ensure_dir(layout.csca_dir, 0o755)
    run.ensure_dir(layout.data_dir, 0o750)
    if live and not dry_run:
        shutil.chown(layout.data_dir, SERVICE_USER, SERVICE_USER)

    # 3. keys (never replaced once they exist) and the CSR
    run.ensure_file(
        layout.device_key,
        identity.new_device_key_pem,
        0o600,
        action="device key (EC P-256)",
        replace="never",
        same=identity.is_device_key,
    )
    run.ensure_file(
        layout.data_key,
        identity.new_data_key,
        0o600,
        action="data key (32 bytes)",
        replace="never",
        same=lambda b: len(b) == identity.DATA_KEY_BYTES,
    )
    _ensure_csr(run, layout, cn)

    # 4. config file (the operator's once written)
    config_bytes = config_text.encode()
    run.ensure_file(layout.config, lambda: config_bytes, 0o644, action="config", replace="never")

    # 5. systemd units
    run.ensure_dir(layout.units_dir, 0o755)
    units_changed = False
    for unit_src in unit_sources:
        status = run.ensure_file(layout.units_dir / unit_src.name, unit_src.read_bytes, 0o644, action="unit")
        units_changed = units_changed or status in ("created", "updated")
    _enable_units(run, layout, reload=units_changed)

    return run.report(
        root=str(root),
        identity=cn,
        csr=str(layout.csr),
        next=[
            f"send {layout.live(layout.csr)} to the centre's CA; it issues a certificate with CN={cn}",
            "examgate provision import-cert device.crt --ca centre-ca.crt",
            "put thresholds.toml and the CSCA certificates in /etc/examgate, then: systemctl start examgate",
        ],
    )


def _ensure_csr(run: Runner, layout: Layout, cn: str) -> None:
    if not layout.device_key.is_file():  # dry run on a fresh root: the key is not there yet
        run.note("CSR", str(layout.csr), "would-create", f"CN={cn}")
        return
    key_pem = layout.device_key.read_bytes()
    if layout.csr.is_file():
        existing = layout.csr.read_bytes()
        named = identity.csr_common_name(existing)
        if named is not None and named != cn:
            raise ProvisionError(
                f"this gate is already provisioned as {named!r}, not {cn!r}",
                code="E_PROVISION_IDENTITY_CONFLICT",
                remedy="re-run with the original --site/--gate, or to re-provision move /etc/examgate away first",
            )
    run.ensure_file(
        layout.csr,
        lambda: identity.make_csr_pem(key_pem, cn),
        0o644,
        action=f"CSR (CN={cn})",
        same=lambda b: identity.csr_matches(b, key_pem, cn),
    )


def _enable_units(run: Runner, layout: Layout, *, reload: bool) -> None:
    systemctl = shutil.which("systemctl")
    root_args = [] if layout.is_live else [f"--root={layout.root}"]
    enabled = bool(systemctl) and all(_is_enabled(systemctl or "", root_args, u) for u in ENABLED_UNITS)
    argv = ["systemctl", *root_args, "enable", *ENABLED_UNITS]
    # systemctl --root works offline on an image; without systemctl we can only say what to run.
    run.run("enable units", argv, needed=not enabled, execute=bool(systemctl))
    if layout.is_live and Path("/run/systemd/system").is_dir():  # a running systemd must re-read the units
        run.run("reload systemd", ["systemctl", "daemon-reload"], needed=reload, execute=True)


def _is_enabled(systemctl: str, root_args: list[str], unit: str) -> bool:
    result = subprocess.run(
        [systemctl, *root_args, "is-enabled", unit], capture_output=True, text=True, check=False, timeout=30
    )
    return result.stdout.strip() == "enabled"
