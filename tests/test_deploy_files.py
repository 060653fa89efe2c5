"""The deployment files, checked without a Docker engine: docker-compose.yml against the Compose
specification's JSON schema (as check-jsonschema vendors it), the Dockerfile by its instructions.
"""

from __future__ import annotations

import re

import jsonschema
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from django.conf import settings

ROOT = settings.BASE_DIR


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_docker_compose_is_valid_under_the_compose_specification():
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.validators.validator_for(schema)(schema)

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose())]

    assert errors == []


def test_only_the_proxy_publishes_ports_and_the_app_trusts_that_one_proxy():
    services = _compose()["services"]

    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["80:80", "443:443", "443:443/udp"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DJANGO_TRUSTED_PROXY_COUNT"] == "1"


def test_the_caddyfile_sends_everything_to_gunicorn():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()

    rules = [line.strip() for line in caddyfile.splitlines() if not line.lstrip().startswith("#")]
    assert [rule for rule in rules if rule] == [
        "{$SITE_ADDRESS:localhost} {",
        "reverse_proxy web:8000",
        "}",
    ]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def test_the_image_collects_static_files_at_build_time_and_runs_unprivileged():
    instructions = _dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]

    collect = [
        i
        for i, (keyword, arguments) in enumerate(instructions)
        if keyword == "RUN" and "manage.py collectstatic --noinput" in arguments
    ]
    assert len(collect) == 1
    assert "DJANGO_DEBUG=0" in instructions[collect[0]][1]
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users == ["10001:10001"]
    # Everything after USER, the command included, runs as that user.
    assert keywords.index("USER") > collect[0]
    assert keywords[-1] == "CMD" and keywords.index("USER") < len(keywords) - 1


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()

    assert {".env", ".git", ".venv", "var"} <= set(ignored)
