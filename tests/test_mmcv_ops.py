"""mmcv is the full build: its compiled ops run on CPU tensors."""
import pytest
import torch


def test_mmcv_has_compiled_extension():
    """Any supported mmcv build (upstream or a fork) with its ops."""
    import mmcv
    from mmengine.utils import digit_version

    from mmdet_bags.dependencies import SUPPORTED_VERSIONS
    low, high = SUPPORTED_VERSIONS['mmcv']
    assert digit_version(low) <= digit_version(mmcv.__version__) < \
        digit_version(high)
    from mmcv.utils import ext_loader
    ext_loader.load_ext('_ext', ['nms', 'roi_align_forward'])


def test_nms_suppresses_the_overlapping_box():
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    detections, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    assert detections[:, 4].tolist() == pytest.approx([0.9, 0.7])


def test_roi_align_averages_a_linear_ramp_exactly():
    """On f(x, y) = x the aligned bin value is the bin centre's x."""
    from mmcv.ops import RoIAlign
    width = 16
    ramp = torch.arange(width, dtype=torch.float32).expand(1, 1, width, width)
    features = ramp.clone().requires_grad_(True)
    # Box from x=2 to x=10 (pixel-centre convention of aligned=True: -0.5).
    rois = torch.tensor([[0., 2.5, 2.5, 10.5, 10.5]])
    pooled = RoIAlign((1, 2), spatial_scale=1.0, sampling_ratio=2,
                      aligned=True)(features, rois)
    # Two bins of width 4 over [2, 10]: centres 4 and 8.
    assert pooled.flatten().tolist() == pytest.approx([4.0, 8.0])
    pooled.sum().backward()
    assert features.grad.sum().item() == pytest.approx(2.0)


def test_check_script_passes():
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).parents[1] / 'tools' / 'check_mmcv_ops.py'
    result = subprocess.run([sys.executable, str(script)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'compiled ops' in result.stdout
    # setup_env.sh demands its pinned version; any other one fails, named.
    import mmcv
    result = subprocess.run(
        [sys.executable, str(script), '--mmcv-version', '0.0.1'],
        capture_output=True, text=True)
    assert result.returncode == 1
    assert f'mmcv {mmcv.__version__} is installed, expected 0.0.1' in \
        result.stderr
