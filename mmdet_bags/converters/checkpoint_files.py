"""Reading checkpoint files safely, and the errors of the converters."""
import os.path as osp
import pickle
from typing import Dict

import torch


class CheckpointConversionError(ValueError):
    """A checkpoint that cannot be converted; the message names the file."""


def load_checkpoint_file(path: str, trust_pickle: bool = False) -> dict:
    """Read a checkpoint on the CPU, by default with ``weights_only=True``.

    Raises:
        CheckpointConversionError: missing file, or a file that holds more
            than tensors and plain containers (unless ``trust_pickle``).
    """
    if not osp.isfile(path):
        raise CheckpointConversionError(f'{path}: no such checkpoint file')
    with open(path, 'rb') as file:
        magic = file.read(2)
    # torch.save writes a zip archive ('PK') or, before torch 1.6, a pickle
    # (protocol byte 0x80).
    if magic != b'PK' and magic[:1] != b'\x80':
        raise CheckpointConversionError(
            f'{path} is not a readable PyTorch checkpoint (neither a zip '
            'archive nor a pickle written by torch.save)')
    try:
        checkpoint = torch.load(path, map_location='cpu',
                                weights_only=not trust_pickle)
    except pickle.UnpicklingError as error:
        reasons = [line.strip() for line in str(error).splitlines()
                   if 'WeightsUnpickler error' in line]
        reason = reasons[0] if reasons else str(error).splitlines()[0]
        raise CheckpointConversionError(
            f'{path} cannot be read with torch.load(weights_only=True) '
            f'({reason}). If you trust this file, pass --trust-pickle (it '
            'may then run code from the file).') from None
    except Exception as error:  # e.g. a truncated file
        raise CheckpointConversionError(
            f'{path} is not a readable PyTorch checkpoint: {error}') from None
    return checkpoint


def state_dict_of(checkpoint, path: str) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint: its ``state_dict`` (MMCV/MMEngine), or
    the object itself when it is a plain mapping of tensors."""
    if isinstance(checkpoint, dict) and isinstance(
            checkpoint.get('state_dict'), dict):
        state_dict = checkpoint['state_dict']
    elif isinstance(checkpoint, dict) and checkpoint and all(
            isinstance(value, torch.Tensor) for value in checkpoint.values()):
        state_dict = checkpoint
    else:
        raise CheckpointConversionError(
            f'{path}: expected a detector checkpoint (a dict with a '
            f"'state_dict' of tensors), got {type(checkpoint).__name__}"
            + (f' with keys {sorted(checkpoint)[:6]}'
               if isinstance(checkpoint, dict) else ''))
    return {key[len('module.'):] if key.startswith('module.') else key: value
            for key, value in state_dict.items()}
