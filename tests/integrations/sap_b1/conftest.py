from tests.kit.conftest import redis, redis_settings, rkey  # noqa: F401  (real Redis fixtures)
