"""Check that the installed mmcv has its compiled ops and that they run on CPU.

Exit status 0 when ``mmcv.ops`` loads its compiled extension and ``nms`` and
``RoIAlign`` give the expected results on CPU tensors; 1 otherwise, with the
reason on stderr. Any mmcv build passes (upstream or a fork such as
onedl-mmcv); ``--mmcv-version X`` also demands exactly that version, which
``tools/setup_env.sh`` uses to decide whether its pinned mmcv must be
(re)built and to fail the install loudly when the build produced no ops.

This script imports nothing from ``mmdet_bags`` so it can run before the
package is installed.
"""
import argparse
import sys
from typing import Optional


def check(expected_version: Optional[str] = None) -> str:
    import torch

    import mmcv
    if expected_version is not None and mmcv.__version__ != expected_version:
        raise RuntimeError(f'mmcv {mmcv.__version__} is installed, '
                           f'expected {expected_version}')
    # mmcv-lite (or a build without MMCV_WITH_OPS=1) has no `mmcv._ext`.
    from mmcv.ops import RoIAlign, nms

    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    if keep.tolist() != [0, 2]:
        raise RuntimeError(f'mmcv.ops.nms kept {keep.tolist()}, expected [0, 2]')

    # A constant feature map: every aligned sample must equal the constant.
    features = torch.full((1, 2, 8, 8), 3.0, requires_grad=True)
    rois = torch.tensor([[0., 1., 1., 6., 6.]])
    pooled = RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=2)(features, rois)
    if pooled.shape != (1, 2, 2, 2) or not torch.allclose(
            pooled, torch.full_like(pooled, 3.0)):
        raise RuntimeError(f'mmcv.ops.RoIAlign gave {pooled.flatten().tolist()}')
    pooled.sum().backward()
    if features.grad is None or not torch.isfinite(features.grad).all():
        raise RuntimeError('mmcv.ops.RoIAlign backward produced no gradient')
    return mmcv.__version__


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mmcv-version',
                        help='also require exactly this mmcv version')
    args = parser.parse_args(argv)
    try:
        version = check(args.mmcv_version)
    except Exception as error:  # report any failure (ImportError included)
        print(f'mmcv ops check FAILED: {type(error).__name__}: {error}',
              file=sys.stderr)
        return 1
    print(f'mmcv {version} with compiled ops: nms and RoIAlign run on CPU')
    return 0


if __name__ == '__main__':
    sys.exit(main())
