"""A local certificate authority and a leaf certificate for the Salesforce login hosts.

A new authority is made at every start; its certificate is written to
<home>/salesforce/tls/ca.pem (the REQUESTS_CA_BUNDLE of a tap). Its private key never leaves
memory, so the authority can sign nothing after the process ends.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")


def ca_path(home: Path) -> Path:
    return home / "salesforce" / "tls" / "ca.pem"


def server_context(home: Path) -> ssl.SSLContext:
    """TLS server context for the login hosts; writes the authority's certificate under home."""
    ca = trustme.CA(organization_name="BrightCart local Salesforce emulator")
    leaf = ca.issue_cert(*LOGIN_HOSTS)
    path = ca_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    ca.cert_pem.write_to_path(str(tmp))
    tmp.replace(path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context
