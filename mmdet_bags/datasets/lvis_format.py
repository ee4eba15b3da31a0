"""An LVIS v1-format dataset whose categories are whatever its file lists."""
from typing import List

from mmdet.datasets import LVISV1Dataset
from mmdet.registry import DATASETS
from mmengine.fileio import get_local_path

from mmdet_bags.grouping import count_instances_in_annotation_file


@DATASETS.register_module()
class LVISFormatDataset(LVISV1Dataset):
    """``LVISV1Dataset`` for LVIS-format files with their own categories.

    MMDetection's ``LVISV1Dataset`` always reports the 1203 LVIS class names.
    This subclass reads the class names from the annotation file, in the
    order of the labels ``LVISV1Dataset`` assigns (the file's category
    order), unless ``metainfo=dict(classes=...)`` gives them. Everything else
    (image paths from ``coco_url``, LVIS evaluation fields) is
    ``LVISV1Dataset``'s.
    """

    def __init__(self, *args, metainfo: dict = None, **kwargs) -> None:
        self._classes_from_file = not (metainfo and 'classes' in metainfo)
        super().__init__(*args, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self._classes_from_file:
            with get_local_path(self.ann_file,
                                backend_args=self.backend_args) as path:
                table = count_instances_in_annotation_file(path)
            name_of_id = dict(zip(table.category_ids, table.names))
            self._metainfo['classes'] = tuple(
                name_of_id[category_id] for category_id in self.cat_ids)
        return data_list
