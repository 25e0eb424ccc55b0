"""``.env.example`` works both for the bot's own ``.env`` reader and for ``docker run --env-file``."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from bot.settings import Settings
from tests.env_files import ENV_EXAMPLE, docker_env_file, uncommented_examples


def test_env_example_values_carry_no_inline_comments_even_when_uncommented() -> None:
    text = ENV_EXAMPLE.read_text()
    active = docker_env_file(text)
    examples = [docker_env_file(line) for line in uncommented_examples(text)]
    assert active and examples
    for values in [active, *examples]:
        for name, value in values.items():
            assert "#" not in value, f"{name} would include a comment under docker --env-file: {value!r}"
            assert value == value.strip(), f"{name} has surrounding whitespace: {value!r}"


def test_env_example_names_only_real_settings() -> None:
    text = ENV_EXAMPLE.read_text()
    names = set(docker_env_file(text))
    for line in uncommented_examples(text):
        names |= set(docker_env_file(line))
    known = {name.upper() for name in Settings.model_fields}
    assert names - known == set()


def test_env_example_sqlite_database_lives_in_the_container_data_volume() -> None:
    examples = [docker_env_file(line) for line in uncommented_examples(ENV_EXAMPLE.read_text())]
    sqlite_urls = [v["DATABASE_URL"] for v in examples if v.get("DATABASE_URL", "").startswith("sqlite")]
    assert sqlite_urls
    for url in sqlite_urls:
        # The image's working directory /app is read-only for the bot's user; /data is the volume.
        assert (make_url(url).database or "").startswith("/data/"), url
