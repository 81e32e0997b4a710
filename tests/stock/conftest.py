from tests.sync.conftest import sap_config, world  # noqa: F401  (shared end-to-end fixtures)
