import pytest


def pytest_configure(config):
    """Runners print and dump their whole config; MMEngine formats that text
    with yapf, which costs about 0.7 s per call on these configs, several
    times per Runner. The tests keep the text but skip the formatting (the
    unformatted text is the same Python; nothing here reads its layout)."""
    import mmengine.config.config as mmengine_config
    mmengine_config.FormatCode = lambda text, **kwargs: (text, False)


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
