"""Compatibility fixes for the stack mmdet-bags runs on, applied on import.

Importing :mod:`mmdet_bags` (directly or through a config's
``custom_imports``) calls :func:`apply_compat_fixes` once. Each fix is scoped
as narrowly as the breakage allows and does nothing where it is not needed:

* **lvis 0.5.3 and numpy >= 1.24.** ``lvis.eval.LVISEval.accumulate`` calls
  ``np.float``, an alias numpy removed in 1.24, so MMDetection's
  ``LVISMetric`` crashes at the end of every evaluation. The fix gives the
  affected modules (and only them) a view of numpy in which the removed
  aliases resolve to the builtins they always meant; numpy itself is not
  modified.
* **torch >= 2.6 and MMEngine checkpoints.** ``torch.load`` now defaults to
  ``weights_only=True`` and MMEngine 0.10.7 calls it without the argument, so
  ``load_from``/``resume`` refuse MMEngine's own checkpoints, which carry a
  message hub (``HistoryBuffer`` objects holding numpy arrays) besides
  tensors. The fix allow-lists exactly those types with
  ``torch.serialization.add_safe_globals``; any other pickled object is still
  refused. A ``HistoryBuffer`` also pickles its statistics methods, which
  Python writes as ``getattr(HistoryBuffer, 'mean')``: instead of allowing
  ``getattr`` (which would open every attribute of every allowed object),
  that name is bound to :func:`history_buffer_attribute`, which resolves only
  ``HistoryBuffer``'s registered statistics methods.
"""
import importlib
import pickle
import types
from typing import Dict, List, Tuple

import numpy as np
import torch

# The aliases numpy 1.24 removed, and the builtins they were equal to.
_REMOVED_NUMPY_ALIASES: Dict[str, type] = {
    'float': float,
    'int': int,
    'bool': bool,
    'object': object,
    'complex': complex,
    'str': str,
}

# Modules of the pinned stack that still use the removed aliases.
_MODULES_USING_REMOVED_NUMPY_ALIASES: Tuple[str, ...] = (
    'lvis.eval',
    'mmdet.evaluation.functional.ytviseval',
)

# HistoryBuffer's built-in statistics methods (mmengine 0.10).
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

_applied = False


class NumpyWithRemovedAliases(types.ModuleType):
    """A stand-in for the ``numpy`` module that also knows removed aliases.

    Every attribute is looked up on the real numpy module; only names numpy
    no longer has (``np.float`` and friends) fall back to the builtins they
    aliased.
    """

    def __init__(self) -> None:
        super().__init__('numpy', np.__doc__)

    def __getattr__(self, name: str):
        try:
            return getattr(np, name)
        except AttributeError:
            if name in _REMOVED_NUMPY_ALIASES:
                return _REMOVED_NUMPY_ALIASES[name]
            raise

    def __dir__(self) -> List[str]:
        return sorted(set(dir(np)) | set(_REMOVED_NUMPY_ALIASES))


def numpy_lacks_removed_aliases() -> bool:
    """Whether this numpy has dropped ``np.float`` and the other aliases."""
    return not hasattr(np, 'float')


def patch_numpy_aliases(module_name: str) -> bool:
    """Give ``module_name`` a numpy view with the removed aliases.

    Returns:
        bool: True if the module's ``np`` now resolves the removed aliases,
        False if the module is not installed or does not use ``np``.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    current = getattr(module, 'np', None)
    if isinstance(current, NumpyWithRemovedAliases):
        return True
    if current is not np:
        return False
    module.np = NumpyWithRemovedAliases()
    return True


def history_buffer_attribute(owner: object, name: str):
    """``getattr`` restricted to what an MMEngine checkpoint needs.

    Used in place of ``builtins.getattr`` while ``torch.load`` unpickles with
    ``weights_only=True``: only ``HistoryBuffer``'s statistics methods
    (``min``, ``max``, ``current``, ``mean`` and any registered with
    ``HistoryBuffer.register_statistics``) resolve; anything else is refused.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    # The built-in statistics are registered only when a first HistoryBuffer
    # is created, which a fresh process loading a checkpoint has not done.
    allowed = set(_HISTORY_BUFFER_STATISTICS).union(
        HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics methods are allowed under weights_only')


def mmengine_checkpoint_safe_globals() -> List[object]:
    """The non-tensor types that MMEngine checkpoints pickle.

    A checkpoint saved by MMEngine's ``CheckpointHook`` holds, besides
    tensors, builtin containers and numbers that ``torch.load`` accepts
    anyway, the message hub state: ``HistoryBuffer`` objects whose logs are
    numpy arrays, and numpy scalars (e.g. a logged ``np.float64``). Unpickling
    those needs the classes and reconstruction functions listed here, under
    both the numpy 2 (``numpy._core``) and numpy 1 (``numpy.core``) module
    names so checkpoints written with either numpy load.

    Returns:
        list: entries for ``torch.serialization.add_safe_globals``: objects,
        or ``(object, 'module.name')`` pairs for an alternative pickled name.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    try:
        multiarray = importlib.import_module('numpy._core.multiarray')
    except ImportError:  # numpy 1.x
        multiarray = importlib.import_module('numpy.core.multiarray')

    safe_globals: List[object] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        (history_buffer_attribute, 'builtins.getattr'),
    ]
    # numpy >= 1.25 pickles dtypes by their class (numpy.dtypes.Float64DType);
    # every concrete dtype class is a plain data description.
    dtypes_module = getattr(np, 'dtypes', None)
    if dtypes_module is not None:
        safe_globals.extend(
            cls for cls in vars(dtypes_module).values()
            if isinstance(cls, type) and issubclass(cls, np.dtype)
            and cls is not np.dtype)
    for name in ('_reconstruct', 'scalar'):
        function = getattr(multiarray, name)
        for module_name in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            safe_globals.append((function, f'{module_name}.{name}'))
    return safe_globals


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read MMEngine checkpoints."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 has no weights_only default
        return
    add_safe_globals(mmengine_checkpoint_safe_globals())


def apply_compat_fixes() -> None:
    """Apply every fix in this module once (later calls do nothing)."""
    global _applied
    if _applied:
        return
    if numpy_lacks_removed_aliases():
        for module_name in _MODULES_USING_REMOVED_NUMPY_ALIASES:
            patch_numpy_aliases(module_name)
    allow_mmengine_checkpoints()
    _applied = True
