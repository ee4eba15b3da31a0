import pytest


def pytest_configure(config):
    from detection_helpers import skip_config_formatting
    skip_config_formatting()


@pytest.fixture(autouse=True)
def mmdet_default_scope():
    """Build every test's modules in MMDetection's registry scope.

    Some tests run MMEngine Runners whose own scope becomes the current one;
    each test starts from 'mmdet' again.
    """
    from mmengine.registry import init_default_scope

    import mmdet_bags  # noqa: F401  (applies fixes, registers modules)
    init_default_scope('mmdet')
    yield
