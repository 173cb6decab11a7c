"""What a tap needs to reach the emulator: proxy environment, credentials, a config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from brightcart_world.salesforce import tls
from brightcart_world.salesforce.auth import credentials
from brightcart_world.settings import Settings


def proxy_env(proxy_port: int, ca_pem: Path) -> dict[str, str]:
    """Send HTTPS for the login hosts through the local proxy and trust its authority.

    NO_PROXY keeps the instance_url (plain HTTP on 127.0.0.1) off the proxy. Both spellings are
    set because requests prefers the lower-case ones when a parent process set them.
    """
    proxy = f"http://127.0.0.1:{proxy_port}"
    no_proxy = "127.0.0.1,localhost"
    return {
        "HTTPS_PROXY": proxy,
        "https_proxy": proxy,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
        "REQUESTS_CA_BUNDLE": str(ca_pem),
    }


def tap_env(settings: Settings) -> dict[str, str]:
    """What tap-salesforce-guard needs to reach the emulator described by settings.

    Only the guard reads these: it gives the proxy and the authority to the tap's own process
    (lane_guards.salesforce.proxy_env), so a shell or a Meltano process that carries them sends
    no other traffic through the proxy.
    """
    return {
        "BRIGHTCART_SF_PROXY": f"http://127.0.0.1:{settings.sf_proxy_port}",
        "BRIGHTCART_SF_CA_BUNDLE": str(tls.ca_path(settings.home)),
    }


def meltano_credentials_env(settings: Settings) -> dict[str, str]:
    """The connected app's credentials as Meltano setting variables (never written to files)."""
    creds = credentials(settings.home)
    return {
        "TAP_SALESFORCE_CLIENT_ID": creds.client_id,
        "TAP_SALESFORCE_CLIENT_SECRET": creds.client_secret,
        "TAP_SALESFORCE_REFRESH_TOKEN": creds.refresh_token,
    }


def tap_config(home: Path, start_date: str) -> dict[str, Any]:
    """A tap-salesforce config for running the tap binary directly (tests, smoke checks)."""
    creds = credentials(home)
    return {
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
        "start_date": start_date,
        "api_type": "REST",
        "select_fields_by_default": True,
        "is_sandbox": False,
    }
