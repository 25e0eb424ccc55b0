"""The deployment files a user copies: valid for Compose and Kubernetes, and consistent with the bot.

Offline: the Compose schema is vendored in ``tests/schemas/``; ``kubernetes-validate`` ships the
Kubernetes schemas.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.server import DEFAULT_DRAIN_SECONDS as DRAIN_SECONDS
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
COMPOSE_SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"
KUBERNETES = DEPLOY / "kubernetes"
CHECK_JSONSCHEMA = str(Path(sys.executable).with_name("check-jsonschema"))
# The oldest Kubernetes release still supported upstream when this was written, and the newest
# whose schemas the installed kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.35.0", kubernetes_validate.latest_version())
PLACEHOLDER = "CHANGE-ME"


def required_settings() -> set[str]:
    return {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}


def manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object under deploy/kubernetes (not the kustomization), by kind."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            found[document["kind"]] = document
    return found


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--schemafile", str(COMPOSE_SCHEMA), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- Compose ----------------------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification() -> None:
    result = check_compose(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_check_rejects_a_misspelt_condition(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text().replace("service_healthy", "service_healty"))
    assert check_compose(broken).returncode != 0


def test_compose_waits_for_a_healthy_postgresql_kept_in_a_named_volume() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    bot, postgres = compose["services"]["bot"], compose["services"]["postgres"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in bot and "healthcheck" in postgres
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert bot["read_only"] is True
    assert bot["cap_drop"] == ["ALL"]
    assert int(bot["stop_grace_period"].rstrip("s")) > DRAIN_SECONDS


def test_compose_takes_its_secrets_from_the_env_file_only() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert compose["services"]["bot"]["env_file"][0]["path"] == ".env"
    password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD")
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / "compose.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required_settings() - {"DATABASE_URL"} <= example.keys()
    for name in ("POSTGRES_PASSWORD", "SLACK_BOT_TOKEN", "COMMERCE_LOGON_PASSWORD", "BOL_CLIENT_SECRET"):
        assert example[name] == PLACEHOLDER


# -- Kubernetes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(version: str) -> None:
    objects = manifests()
    assert set(objects) == {"Deployment", "Service", "Secret", "PodDisruptionBudget", "Ingress"}
    for document in objects.values():
        assert "namespace" not in document["metadata"], "manifests must not pin a namespace"
        kubernetes_validate.validate(document, version, strict=True)


def test_the_kubernetes_check_rejects_a_misplaced_field() -> None:
    deployment = manifests()["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFilesystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_deployment_runs_two_locked_down_replicas_with_probes() -> None:
    deployment = manifests()["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    user = re.search(r"^USER (\d+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert user is not None and pod["securityContext"]["runAsUser"] == int(user.group(1))
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > pre_stop + DRAIN_SECONDS
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["PORT"]) == port
    assert container["envFrom"][0]["secretRef"]["name"] == manifests()["Secret"]["metadata"]["name"]


def test_service_budget_and_ingress_select_the_deployments_pods() -> None:
    objects = manifests()
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert objects["Deployment"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert objects["Service"]["spec"]["selector"].items() <= pod_labels.items()
    assert objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (rule,) = objects["Ingress"]["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/slack/events"
    backend = path["backend"]["service"]
    assert backend["name"] == objects["Service"]["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in objects["Service"]["spec"]["ports"]}


def test_the_secret_example_names_every_required_setting_and_holds_no_real_value() -> None:
    data = manifests()["Secret"]["stringData"]
    assert required_settings() <= data.keys()
    for name, value in data.items():
        assert PLACEHOLDER in value or "example" in value, f"{name} looks like a real value"


def test_the_kustomization_lists_the_manifests_to_apply() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["deployment.yaml", "service.yaml", "poddisruptionbudget.yaml"]
    for name in kustomization["resources"]:
        assert (KUBERNETES / name).is_file()
