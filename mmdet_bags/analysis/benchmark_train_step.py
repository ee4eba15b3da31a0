"""What BAGS adds to a whole Mask R-CNN training step and inference image.
Used by ``tools/analysis/benchmark_train_step.py``.

Two models are built from MMDetection's LVIS v1 Mask R-CNN R50-FPN config
(random initialisation, no download): the config's own softmax
``CrossEntropyLoss`` head and a ``BAGSBBoxHead`` with the LVIS v1 groups.
Inputs are synthetic: images of a fixed size with boxes, masks and labels
drawn by LVIS v1 instance frequency.

* **Where the cost arises.** One training step of the BAGS model records
  what its ``loss_cls`` receives (the step's sampled RoIs, labels and label
  weights) and one inference image what its ``get_activation`` receives.
  On the same number of RoIs, the BAGS loss (forward + backward, plus the
  accuracies ``BBoxHead.loss`` logs) is timed against ``CrossEntropyLoss``
  (plus ``accuracy``), and the BAGS scores against softmax. The difference,
  divided by the whole step's (image's) median time, is what BAGS adds.
* **Whole-step A/B.** Training steps (and inference images) of the two
  models, interleaved in one process; the spread of the paired
  differences shows what such a comparison can resolve on the machine.
"""
import statistics
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .benchmark_loss import (forward_backward, median_seconds,
                             timed_round_robin)

LVIS_V1_MASK_RCNN = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
RESNET_CHANNELS = {18: [64, 128, 256, 512], 34: [64, 128, 256, 512],
                   50: [256, 512, 1024, 2048], 101: [256, 512, 1024, 2048]}


def build_lvis_mask_rcnn(head: str, depth: int = 50, device: str = 'cpu',
                         seed: int = 0,
                         test_sizes: Optional[Tuple[int, int]] = None
                         ) -> torch.nn.Module:
    """MMDetection's LVIS v1 Mask R-CNN with the ``'ce'`` (config) or
    ``'bags'`` bbox head, randomly initialised (backbone of ``depth``);
    ``test_sizes`` = (proposals, detections) per test image instead of the
    config's (1000, 300)."""
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope

    import mmdet_bags  # noqa: F401  (registers BAGSBBoxHead)
    from mmdet_bags.analysis.experiments import use_small_test_sizes
    init_default_scope('mmdet')
    cfg = get_config(LVIS_V1_MASK_RCNN)
    cfg.model.backbone.init_cfg = None  # no pretrained download
    if depth != 50:
        cfg.model.backbone.depth = depth
        cfg.model.neck.in_channels = RESNET_CHANNELS[depth]
    if test_sizes is not None:
        use_small_test_sizes(cfg.model, test_sizes)
    if head == 'bags':
        cfg.model.roi_head.bbox_head.update(type='BAGSBBoxHead',
                                            groups='lvis_v1')
    elif head != 'ce':
        raise ValueError(f"head must be 'ce' or 'bags', got {head!r}")
    torch.manual_seed(seed)
    return MODELS.build(cfg.model).to(device)


def synthetic_batch(num_images: int, image_size: Tuple[int, int],
                    instance_counts: Sequence[int],
                    objects_per_image: int = 12,
                    seed: int = 0) -> Dict[str, list]:
    """Images (random uint8) with box-shaped masks and labels drawn by
    training-instance frequency, in the form MMDetection's data
    preprocessor takes."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData

    generator = torch.Generator().manual_seed(seed)
    height, width = image_size
    frequencies = torch.tensor(instance_counts,
                               dtype=torch.float64).clamp(min=1)
    inputs, data_samples = [], []
    for index in range(num_images):
        inputs.append(torch.randint(0, 256, (3, height, width),
                                    generator=generator, dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(
            img_id=index, img_path=f'synthetic_{index}.jpg',
            img_shape=(height, width), ori_shape=(height, width),
            scale_factor=(1.0, 1.0), flip=False, flip_direction=None))
        corner = torch.rand(objects_per_image, 2, generator=generator) * \
            torch.tensor([width * 0.7, height * 0.7])
        size = 16 + torch.rand(objects_per_image, 2, generator=generator) * \
            torch.tensor([width * 0.28, height * 0.28])
        bboxes = torch.cat([corner, corner + size], dim=1).floor()
        masks = np.zeros((objects_per_image, height, width), dtype=np.uint8)
        for mask, (x1, y1, x2, y2) in zip(masks, bboxes.int().tolist()):
            mask[y1:y2, x1:x2] = 1
        sample.gt_instances = InstanceData(
            bboxes=bboxes,
            labels=torch.multinomial(frequencies, objects_per_image,
                                     replacement=True, generator=generator),
            masks=BitmapMasks(masks, height, width))
        data_samples.append(sample)
    return dict(inputs=inputs, data_samples=data_samples)


class _Recorder:
    """Records the arguments of the first call of a module's ``loss_cls``
    forward (as a forward pre-hook) or of its ``get_activation``."""

    def __init__(self, loss_cls: torch.nn.Module) -> None:
        self.loss_cls = loss_cls
        self.loss_args: Tuple[Tensor, ...] = ()
        self.activation_input = None

    def __enter__(self) -> '_Recorder':

        def before_forward(module, args, kwargs):
            if not self.loss_args:
                self.loss_args = tuple(a.detach() for a in args[:3])

        self.handle = self.loss_cls.register_forward_pre_hook(
            before_forward, with_kwargs=True)
        original = self.loss_cls.get_activation

        def get_activation(cls_score):
            if self.activation_input is None:
                self.activation_input = cls_score.detach()
            return original(cls_score)

        self.loss_cls.get_activation = get_activation
        return self

    def __exit__(self, *exc) -> None:
        self.handle.remove()
        del self.loss_cls.get_activation  # the class's method again


def _spread(values: List[float]) -> Dict[str, float]:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else \
        [values[0]] * 3
    return dict(median=statistics.median(values), p25=quartiles[0],
                p75=quartiles[2], min=min(values), max=max(values),
                n=len(values))


def benchmark_train_step(image_size: int = 512, num_images: int = 2,
                         steps: int = 5, warmup: int = 1,
                         loss_repeats: int = 30, depth: int = 50,
                         device: str = 'cpu',
                         seed: int = 0,
                         test_sizes: Optional[Tuple[int, int]] = None,
                         objects_per_image: int = 12
                         ) -> Dict[str, object]:
    """Measure what BAGS adds to a training step and an inference image.

    Args:
        image_size (int): images are ``image_size x image_size``.
        num_images (int): images per training step.
        steps (int): timed training steps (and inference images) per
            model, interleaved CE / BAGS.
        warmup (int): untimed steps per model first.
        loss_repeats (int): timed calls of the losses and activations.
        depth (int): ResNet depth (50 is the config's).
        device (str): ``'cpu'`` or ``'cuda'``.
        seed (int): inputs and initialisation.
        test_sizes: (proposals, detections) per inference image instead of
            the LVIS config's (1000, 300), e.g. for a smoke run.
        objects_per_image (int): annotated objects per synthetic image.

    Returns:
        dict: ``train`` and ``inference``, each with the RoIs, the BAGS and
        baseline times where the cost arises (``bags_s``, ``baseline_s``),
        ``added_s``, the whole step's median ``step_s`` (BAGS model),
        ``added_fraction``, and ``ab`` (per model the spread of step times;
        the paired differences BAGS - CE, absolute and relative).
    """
    from mmdet.models.losses import CrossEntropyLoss, accuracy
    from mmengine.optim import OptimWrapper

    from mmdet_bags.grouping import build_group_layout

    layout = build_group_layout('lvis_v1')
    models = {head: build_lvis_mask_rcnn(head, depth, device, seed,
                                         test_sizes)
              for head in ('ce', 'bags')}
    batch = synthetic_batch(num_images, (image_size, image_size),
                            layout.instance_counts, objects_per_image,
                            seed=seed)
    image = synthetic_batch(1, (image_size, image_size),
                            layout.instance_counts, objects_per_image,
                            seed=seed + 1)
    optimizers = {head: OptimWrapper(torch.optim.SGD(
        model.parameters(), lr=1e-4, momentum=0.9))
        for head, model in models.items()}

    def train_step(head: str) -> Callable[[], None]:
        def step():
            models[head].train()
            models[head].train_step(batch, optimizers[head])
        return step

    def test_image(head: str) -> Callable[[], None]:
        def step():
            models[head].eval()
            with torch.no_grad():
                models[head].test_step(image)
        return step

    bags_loss = models['bags'].roi_head.bbox_head.loss_cls
    with _Recorder(bags_loss) as recorder:
        train_step('bags')()
        test_image('bags')()
    train_times = timed_round_robin(
        {head: train_step(head) for head in models}, warmup, steps, device)
    test_times = timed_round_robin(
        {head: test_image(head) for head in models}, warmup, steps, device)

    # Where the cost arises, on the step's own RoIs.
    cls_score, labels, label_weights = recorder.loss_args
    ce_score = torch.randn(cls_score.size(0), layout.num_classes + 1,
                           device=device)
    cross_entropy = CrossEntropyLoss(use_sigmoid=False)

    def bags_call(x):
        losses = bags_loss(x, labels, label_weights)
        bags_loss.get_accuracy(x.detach(), labels)
        return losses

    def ce_call(x):
        loss = cross_entropy(x, labels, label_weights)
        accuracy(x.detach(), labels)
        return loss

    loss_times = median_seconds(
        dict(bags=forward_backward(bags_call, cls_score),
             ce=forward_backward(ce_call, ce_score)),
        3, loss_repeats, device)
    test_score = recorder.activation_input
    softmax_score = torch.randn(test_score.size(0), layout.num_classes + 1,
                                device=device)
    with torch.no_grad():
        score_times = median_seconds(
            dict(bags=lambda: bags_loss.get_activation(test_score),
                 ce=lambda: F.softmax(softmax_score, dim=-1)),
            3, loss_repeats, device)
    return dict(
        setting=dict(image_size=image_size, num_images=num_images,
                     steps=steps, warmup=warmup, loss_repeats=loss_repeats,
                     depth=depth, device=device,
                     test_sizes=list(test_sizes) if test_sizes else None,
                     objects_per_image=objects_per_image,
                     threads=torch.get_num_threads()),
        train=_summary(int(cls_score.size(0)), loss_times, train_times),
        inference=_summary(int(test_score.size(0)), score_times, test_times))


def _summary(num_rois: int, part_times: Dict[str, float],
             step_times: Dict[str, List[float]]) -> Dict[str, object]:
    added = part_times['bags'] - part_times['ce']
    step = statistics.median(step_times['bags'])
    differences = [b - c for b, c in zip(step_times['bags'],
                                         step_times['ce'])]
    relative = [d / c for d, c in zip(differences, step_times['ce'])]
    return dict(num_rois=num_rois, bags_s=part_times['bags'],
                baseline_s=part_times['ce'], added_s=added, step_s=step,
                added_fraction=added / step,
                ab=dict(ce=_spread(step_times['ce']),
                        bags=_spread(step_times['bags']),
                        difference_s=_spread(differences),
                        difference_fraction=_spread(relative)))


def format_train_step(result: Dict[str, object]) -> str:
    """Markdown tables of :func:`benchmark_train_step`'s result."""
    lines = [
        '| phase | RoIs | BAGS part ms | baseline ms | added ms | '
        'whole step ms | added / step |', '|---|---:|---:|---:|---:|---:|---:|'
    ]
    names = dict(train='training step (loss fwd+bwd + accuracy vs CE)',
                 inference='inference image (scores vs softmax)')
    for phase in ('train', 'inference'):
        row = result[phase]
        lines.append(
            f'| {names[phase]} | {row["num_rois"]} | '
            f'{1000 * row["bags_s"]:.2f} | {1000 * row["baseline_s"]:.2f} | '
            f'{1000 * row["added_s"]:.2f} | {1000 * row["step_s"]:.0f} | '
            f'{100 * row["added_fraction"]:.2f} % |')
    lines += [
        '', '| A/B, interleaved | CE median ms (p25-p75) | BAGS median ms '
        '(p25-p75) | BAGS - CE, paired: median (p25-p75, min-max) |',
        '|---|---:|---:|---:|'
    ]
    for phase in ('train', 'inference'):
        ab = result[phase]['ab']
        ce, bags, rel = ab['ce'], ab['bags'], ab['difference_fraction']
        lines.append(
            f'| {phase} ({ce["n"]} each) | {1000 * ce["median"]:.0f} '
            f'({1000 * ce["p25"]:.0f}-{1000 * ce["p75"]:.0f}) | '
            f'{1000 * bags["median"]:.0f} ({1000 * bags["p25"]:.0f}-'
            f'{1000 * bags["p75"]:.0f}) | {100 * rel["median"]:+.1f} % '
            f'({100 * rel["p25"]:+.1f} to {100 * rel["p75"]:+.1f}, '
            f'{100 * rel["min"]:+.1f} to {100 * rel["max"]:+.1f}) |')
    return '\n'.join(lines)
