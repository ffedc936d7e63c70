import stat

from service.config import Settings, redact_url


def test_defaults_need_no_server(tmp_path):
    settings = Settings.from_env({"MIXGRADE_INSTANCE": str(tmp_path / "inst")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'inst' / 'mixgrade.sqlite'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.result_backend.startswith("db+sqlite:///")


def test_secret_key_is_generated_once_and_private(tmp_path):
    env = {"MIXGRADE_INSTANCE": str(tmp_path / "inst")}
    first = Settings.from_env(env).secret_key
    second = Settings.from_env(env).secret_key
    assert first == second and len(first) == 64
    mode = (tmp_path / "inst" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_environment_overrides_defaults(tmp_path):
    env = {
        "MIXGRADE_INSTANCE": str(tmp_path),
        "DATABASE_URL": "postgresql+psycopg://u:pw@db/x",
        "CELERY_BROKER_URL": "redis://r:6379/0",
        "CELERY_RESULT_BACKEND": "redis://r:6379/1",
        "SECRET_KEY": "k",
    }
    settings = Settings.from_env(env)
    assert (settings.database_url, settings.broker_url, settings.secret_key) == (
        "postgresql+psycopg://u:pw@db/x",
        "redis://r:6379/0",
        "k",
    )
    assert not (tmp_path / "secret_key").exists()


def test_redact_url_hides_passwords():
    assert redact_url("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"
