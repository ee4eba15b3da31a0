import pytest


def pytest_configure(config):
    import os

    from detection_helpers import skip_config_formatting
    skip_config_formatting()
    # Under pytest-xdist (`make test`), each worker takes its share of the
    # cores, and so do the processes its tests start, instead of every
    # worker starting one thread per core.
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    if workers > 1 and 'OMP_NUM_THREADS' not in os.environ:
        import torch
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ['OMP_NUM_THREADS'] = str(threads)
        torch.set_num_threads(threads)


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
