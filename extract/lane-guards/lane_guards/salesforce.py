"""``tap-salesforce-guard``: run tap-salesforce with its secrets kept out of the logs.

tap-salesforce 2.8.1 logs its OAuth request body (client secret and refresh token) at INFO and
writes a rotated refresh token into its config file, which Meltano deletes after the run. This
wrapper, from the tap's own environment:

1. gives the tap the newest refresh token (a rotated one from the token store wins over the
   configured one, which Salesforce may already have revoked);
2. runs the real tap with stdout (the Singer stream) passed through untouched and every stderr
   line masked (known secret values and anything shaped like a credential);
3. saves a refresh token the tap rotated during the run to the token store;
4. makes a run after an unfinished one sync every stream from its own bookmark (see
   `resume_every_stream`).

Where BRIGHTCART_SF_PROXY is set (a local world: the Salesforce emulator behind a TLS proxy that
answers for login.salesforce.com), the guard gives the tap alone HTTPS_PROXY and the proxy's
authority (BRIGHTCART_SF_CA_BUNDLE): no other process's traffic goes through the proxy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from types import FrameType

from lane_guards import token_store
from lane_guards.common import option, read_json, real_executable
from lane_guards.redact import Redactor

SECRET_KEYS = ("client_id", "client_secret", "refresh_token")
LOCAL_HOSTS = "127.0.0.1,localhost"


def proxy_env(environ: dict[str, str]) -> dict[str, str]:
    """The tap's environment: the Salesforce proxy and its authority when a world names them.

    NO_PROXY keeps the instance_url (plain HTTP on 127.0.0.1) off the proxy. Both spellings are
    set because requests prefers the lower-case ones when a parent process set them.
    """
    env = dict(environ)
    proxy = environ.get("BRIGHTCART_SF_PROXY")
    if proxy:
        env.update(HTTPS_PROXY=proxy, https_proxy=proxy, NO_PROXY=LOCAL_HOSTS, no_proxy=LOCAL_HOSTS)
        bundle = environ.get("BRIGHTCART_SF_CA_BUNDLE")
        if bundle:
            env["REQUESTS_CA_BUNDLE"] = bundle
    return env


def resume_every_stream(state_path: str | None) -> str | None:
    """Remove `current_stream` from the state file the tap is given; returns the name removed.

    tap-salesforce writes the stream it is syncing into its state as `current_stream` (None once
    every stream is done). Given a state that still names one, the state of a run that failed
    mid-sync (Meltano keeps it as partial state and merges it into the next run's), the tap
    skips every stream it lists before that one as "already synced", so the changes those streams
    saw since the failed run wait one more run, and so does the lane's high-water mark. Every
    stream keeps its own bookmark in `bookmarks`, moved only past records the loader committed:
    without `current_stream` each stream resumes from there, the finished ones included.
    """
    if not state_path:
        return None
    state = read_json(state_path)
    stream = state.pop("current_stream", None)
    if not stream:
        return None
    fresh = f"{state_path}.resumed"
    with open(fresh, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(fresh, state_path)
    return str(stream)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    config_path = option(args, "--config")
    unfinished = resume_every_stream(option(args, "--state"))
    if unfinished:
        sys.stderr.write(
            f"tap-salesforce-guard: the last run stopped in {unfinished}; every stream resumes "
            "from its own bookmark\n"
        )
    config = read_json(config_path)
    redactor = Redactor(str(config.get(key) or "") for key in SECRET_KEYS)

    store = token_store.from_environment()
    stored = store.load()
    if config_path and stored and stored != config.get("refresh_token"):
        config["refresh_token"] = stored
        redactor.add(stored)
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(config, handle)
    started_with = config.get("refresh_token")

    child = subprocess.Popen(
        [real_executable("tap-salesforce"), *args],
        stderr=subprocess.PIPE,
        env=proxy_env(dict(os.environ)),
        text=True,
        errors="backslashreplace",
    )

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)

    assert child.stderr is not None
    for line in child.stderr:
        sys.stderr.write(redactor(line))
        sys.stderr.flush()
    code = child.wait()

    if config_path:
        rotated = read_json(config_path).get("refresh_token")
        if rotated and rotated != started_with:
            store.save(str(rotated))
            sys.stderr.write("tap-salesforce-guard: saved the rotated refresh token\n")
    raise SystemExit(code)


if __name__ == "__main__":
    main()
