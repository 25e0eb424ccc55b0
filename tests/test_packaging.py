"""Packaging checks: the Slack app manifest, dependencies and lock files, the Dockerfile and hadolint."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.yml"
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = ROOT / "pyproject.toml"
DEVELOPMENT = ROOT / "docs" / "development.md"
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"

EVENTS_PATH = "/slack/events"
MINIMAL_BOT_SCOPES = {
    "commands",
    "chat:write",
    "usergroups:read",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
}
"""The history scopes find a post whose answer was lost (``conversations.history``) before posting again;
the read scopes let ``check`` ask whether the bot is in its channels (``conversations.info``)."""
SECRET_NAMES = ("SLACK_BOT_TOKEN", "SIGNING_SECRET", "PASSWORD", "CLIENT_SECRET")


# --- manifest.yml -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "manifest.yml must be a YAML mapping"
    return data


def _commands(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cmd["command"]: cmd for cmd in manifest["features"]["slash_commands"]}


def test_manifest_metadata_and_bot_user(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 1
    assert manifest["display_information"]["name"] == "Commerce Approvals"
    assert manifest["display_information"]["description"].strip()
    bot_user = manifest["features"]["bot_user"]
    assert bot_user["display_name"] == "approvals-bot"
    assert bot_user["always_online"] is True


def test_manifest_enables_the_home_tab_and_its_event(manifest: dict[str, Any]) -> None:
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is False
    events = manifest["settings"]["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened"]
    assert events["request_url"].startswith("https://")
    assert events["request_url"].endswith(EVENTS_PATH)


def test_manifest_has_both_slash_commands(manifest: dict[str, Any]) -> None:
    commands = _commands(manifest)
    assert set(commands) == {"/approvals", "/process-status"}
    assert commands["/approvals"]["usage_hint"] == (
        "list | show <id> | approve <id> [comment] | reject <id> <reason> | digest | whoami | help"
    )
    assert commands["/process-status"]["usage_hint"] == (
        "<id> | watch <id> | unwatch <id> | entity <entity-id> <EVENT_TYPE> [page] | "
        "follow <entity-id> <EVENT_TYPE> | unfollow <entity-id> <EVENT_TYPE> | batches | help"
    )
    for name, command in commands.items():
        assert command["description"].strip(), name
        assert command["should_escape"] is False, name


def test_manifest_urls_point_at_slack_events(manifest: dict[str, Any]) -> None:
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    urls = [interactivity["request_url"], *(cmd["url"] for cmd in _commands(manifest).values())]
    assert len(urls) == 3
    for url in urls:
        assert url.startswith("https://"), url
        assert url.endswith(EVENTS_PATH), url


def test_manifest_has_exactly_the_minimal_bot_scopes(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    bot_scopes = scopes["bot"]
    assert len(bot_scopes) == len(set(bot_scopes)), "duplicate scopes"
    assert set(bot_scopes) == MINIMAL_BOT_SCOPES
    assert not scopes.get("user"), "the bot needs no user scopes"


def test_manifest_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is False
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


# --- dependencies and lock files ----------------------------------------------------------------


def _project() -> dict[str, Any]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert isinstance(project, dict)
    return project


def _runtime_requirements() -> list[Requirement]:
    return [Requirement(spec) for spec in _project()["dependencies"]]


def _dev_requirements() -> list[Requirement]:
    return [Requirement(spec) for spec in _project()["optional-dependencies"]["dev"]]


def _pins(lock: Path) -> dict[str, str]:
    """Pinned versions by normalised name; every pin must carry a hash."""
    pins: dict[str, str] = {}
    lines = lock.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            name, version = match.groups()
            assert "--hash=sha256:" in lines[number + 1], f"{lock.name}: {name} has no hash"
            pins[canonicalize_name(name)] = version
    assert pins, f"{lock.name} pins nothing"
    return pins


def _compile_command(lock: Path) -> str:
    """The regenerate command that uv wrote in the lock file's header."""
    header = lock.read_text(encoding="utf-8").splitlines()[:2]
    assert header[0] == "# This file was autogenerated by uv via the following command:", lock.name
    return header[1].removeprefix("#").strip()


def test_runtime_dependencies_are_bounded_above() -> None:
    for requirement in _runtime_requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert ">=" in operators, f"{requirement}: no lower bound"
        assert "<" in operators, f"{requirement}: no upper bound (use <next major)"


def test_dev_tools_are_pinned_exactly() -> None:
    for requirement in _dev_requirements():
        operators = [spec.operator for spec in requirement.specifier]
        assert operators == ["=="], f"{requirement}: pin dev tools with =="


@pytest.mark.parametrize(
    ("lock", "with_dev"), [(RUNTIME_LOCK, False), (DEV_LOCK, True)], ids=["runtime", "dev"]
)
def test_lock_pins_every_dependency_within_its_range(lock: Path, with_dev: bool) -> None:
    pins = _pins(lock)
    requirements = _runtime_requirements() + (_dev_requirements() if with_dev else [])
    for requirement in requirements:
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is missing from {lock.name}"
        assert requirement.specifier.contains(version), f"{lock.name}: {requirement.name}=={version}"
    if not with_dev:
        dev_only = {canonicalize_name(r.name) for r in _dev_requirements()} - {
            canonicalize_name(r.name) for r in _runtime_requirements()
        }
        assert not dev_only & set(pins), f"dev tools in {lock.name}: {dev_only & set(pins)}"


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=["runtime", "dev"])
def test_lock_names_its_regenerate_command_and_the_development_page_repeats_it(lock: Path) -> None:
    command = _compile_command(lock)
    assert command.startswith("uv pip compile pyproject.toml "), command
    assert "--generate-hashes" in command
    assert command.endswith(f"-o {lock.name}"), command
    assert command in DEVELOPMENT.read_text(encoding="utf-8"), f"docs/development.md does not show: {command}"


# --- Dockerfile -----------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def _args(keyword: str) -> list[str]:
    return [rest for kw, rest in _instructions() if kw == keyword]


def test_dockerfile_is_multi_stage() -> None:
    froms = _args("FROM")
    assert len(froms) > 1
    for image in froms:
        assert not image.split()[0].endswith(":latest"), image
        assert ":" in image.split()[0], f"untagged base image: {image}"


def test_dockerfile_runs_as_non_root_user() -> None:
    users = _args("USER")
    assert users, "no USER instruction"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}
    # The USER must come after the last FROM, i.e. apply to the final image.
    instructions = _instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    assert any(kw == "USER" for kw, _ in instructions[last_from:])


def test_dockerfile_healthcheck_hits_healthz() -> None:
    healthchecks = _args("HEALTHCHECK")
    assert len(healthchecks) == 1
    assert "/healthz" in healthchecks[0]
    assert "CMD" in healthchecks[0]


def test_dockerfile_entrypoint_serves() -> None:
    entrypoints, cmds = _args("ENTRYPOINT"), _args("CMD")
    assert entrypoints and cmds
    assert yaml.safe_load(entrypoints[-1]) == ["approvals-bot"]
    assert yaml.safe_load(cmds[-1]) == ["serve"]


def test_dockerfile_bakes_in_no_secret() -> None:
    declared: list[str] = []
    for keyword, rest in _instructions():
        if keyword == "ENV":
            # ENV A=1 B="x y"  |  ENV A 1 (legacy form)
            tokens = shlex.split(rest)
            if tokens and "=" not in tokens[0]:
                declared.append(tokens[0])
            else:
                declared.extend(token.split("=", 1)[0] for token in tokens)
        elif keyword == "ARG":
            declared.append(rest.split("=", 1)[0].strip())
    assert declared, "expected at least the runtime ENV settings"
    for name in declared:
        for secret in SECRET_NAMES:
            assert secret not in name.upper(), f"{name} looks like a secret baked into the image"
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"\bxox[abp]-", text), "a Slack token is baked into the Dockerfile"
    assert not any(re.match(r"https?://", rest) for rest in _args("ADD")), "ADD of a remote URL"


def test_dockerfile_runtime_settings() -> None:
    env = " ".join(_args("ENV"))
    assert "DATABASE_URL=sqlite:////data/approvals-bot.db" in env
    assert "PORT=3000" in env
    assert "3000" in _args("EXPOSE")


def test_dockerfile_installs_locked_dependencies_before_copying_the_code() -> None:
    instructions = _instructions()
    locked = [
        i
        for i, (kw, rest) in enumerate(instructions)
        if kw == "RUN" and "--require-hashes" in rest and "requirements.lock" in rest
    ]
    assert locked, "no RUN pip install --require-hashes -r requirements.lock"
    code_copies = [i for i, (kw, rest) in enumerate(instructions) if kw == "COPY" and "bot" in rest.split()]
    assert code_copies, "the Dockerfile does not COPY bot"
    assert locked[0] < code_copies[0], "dependencies must be installed before the code is copied"
    # Every pip install: the builder's apt-get install (binutils, to strip) resolves no Python package.
    pip_installs = [i for i, (kw, rest) in enumerate(instructions) if kw == "RUN" and "pip install" in rest]
    assert len(pip_installs) >= 2, "expected the lock's install and the project's"
    assert all("--no-deps" in instructions[i][1] for i in pip_installs), "a pip install without --no-deps"


# --- hadolint -------------------------------------------------------------------------------------


def _hadolint() -> Path | None:
    candidate = Path(sys.executable).parent / "hadolint"
    return candidate if candidate.exists() else None


def test_hadolint_passes() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing next to the Python interpreter (pip install -e '.[dev]')")
        pytest.skip("hadolint is not installed next to the Python interpreter")
    done = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"hadolint reported problems:\n{done.stdout}{done.stderr}"
