"""The one image: pinned base and lock, plugins installed at build time, a lean build context."""

from __future__ import annotations

from pathlib import Path

from infra.brightcart_infra.compute import DOCKERFILE, REPO_ROOT, docker_excludes


def _instructions() -> list[tuple[str, str]]:
    text = (REPO_ROOT / DOCKERFILE).read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_base_lock_and_meltano_install() -> None:
    steps = _instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [rest for word, rest in steps if word == "RUN"]
    # The runtime lock, byte-compiled; never the dev lock (local world, bench peers, test tools).
    assert any("--compile-bytecode -r requirements/runtime.lock" in r for r in runs)
    assert not any("dev.lock" in r for r in runs)
    assert (REPO_ROOT / "requirements" / "runtime.lock").is_file()
    install = next(i for i, r in enumerate(runs) if "meltano install" in r)
    project = next(i for i, r in enumerate(runs) if r.endswith("--no-deps ."))
    assert project < install  # plugins are built after the project is in the image
    assert ("USER", "brightcart") in steps  # tasks do not run as root


def test_build_context_leaves_out_local_state() -> None:
    excluded = set(docker_excludes())
    for name in (
        ".git",
        ".venv",
        ".local",
        ".meltano",
        "ops/infra/cdk.out",
        "extract/brightcart-world",
    ):
        assert name in excluded, name
    assert (REPO_ROOT / "ops" / "infra" / "Dockerfile.dockerignore").is_file()
    assert Path(REPO_ROOT / DOCKERFILE).name == "Dockerfile"
