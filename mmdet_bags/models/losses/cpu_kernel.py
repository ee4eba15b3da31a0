"""The fused CPU kernel of the group softmax (``group_softmax_cpu.c``).

The C source ships inside the package. On first use it is compiled with the
machine's C compiler (``$CC``, else ``cc``; about a second, no torch headers)
into a shared library cached under ``~/.cache/mmdet-bags/kernels`` (or
``$MMDET_BAGS_KERNEL_DIR``; a per-user temporary folder if that cannot be
written), keyed by the source, the compiler, the flags
and this CPU's instruction-set flags (``-march=native``: a cluster's shared
home directory gets one build per CPU kind). It is loaded with ``ctypes``,
so a wheel needs no build step.

Where no compiler works, a warning says so once and the tensor
implementation of :mod:`.group_softmax` is used instead (same results, more
time). ``MMDET_BAGS_CPU_KERNEL=0`` switches the kernel off.
"""
import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path
from typing import List, Optional

import torch

SOURCE = Path(__file__).with_name('group_softmax_cpu.c')
#: Tried in order; the first that compiles is used.
#: 512-bit vectors where the CPU has them (AVX-512: exp_nonpositive's loop
#: ran about 12 % faster than with 256-bit vectors on our Xeon).
FLAG_SETS: List[List[str]] = [
    ['-O3', '-march=native', '-mprefer-vector-width=512', '-fopenmp'],
    ['-O3', '-march=native', '-fopenmp'],
    ['-O3', '-fopenmp'],
    ['-O3', '-march=native', '-fopenmp-simd'],
    ['-O3'],
]
_lock = threading.Lock()
_library: Optional[ctypes.CDLL] = None
_failure: Optional[str] = None


def enabled() -> bool:
    """False when ``MMDET_BAGS_CPU_KERNEL`` is ``0``/``false``/``off``."""
    return os.environ.get('MMDET_BAGS_CPU_KERNEL', '1').strip().lower() not in (
        '0', 'false', 'off', 'no')


def cache_dir() -> Path:
    """Where compiled kernels are kept."""
    configured = os.environ.get('MMDET_BAGS_KERNEL_DIR')
    if configured:
        return Path(configured).expanduser()
    return Path.home() / '.cache' / 'mmdet-bags' / 'kernels'


def _cpu_signature() -> str:
    """The CPU's model and instruction-set flags (what -march=native
    depends on)."""
    signature = [platform.machine(), platform.system()]
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith(('flags', 'Features', 'model name')):
                    signature.append(line.strip())
                if len(signature) >= 4:
                    break
    except OSError:
        signature.append(platform.processor())
    return '\n'.join(signature)


def _compiler() -> List[str]:
    """``$CC`` (which may carry flags, e.g. ``gcc -m64``), else ``cc``."""
    return shlex.split(os.environ.get('CC') or 'cc') or ['cc']


def _writable_cache_dir() -> Path:
    """:func:`cache_dir`, or a per-user temporary folder if it cannot be
    written (a read-only home directory)."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if os.access(directory, os.W_OK):
            return directory
    except OSError:
        pass
    uid = os.getuid() if hasattr(os, 'getuid') else 'user'
    fallback = Path(tempfile.gettempdir()) / f'mmdet-bags-kernels-{uid}'
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _build(flags: List[str], target: Path) -> Optional[str]:
    """Compile to ``target`` (atomically); the compiler's error, or None."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix='.so', dir=target.parent)
    os.close(handle)
    command = [*_compiler(), *flags, '-fPIC', '-shared', '-o', temporary,
               str(SOURCE), '-lm']
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=300)
    except (OSError, subprocess.SubprocessError) as error:
        os.unlink(temporary)
        return f'{" ".join(command)}: {error}'
    if result.returncode != 0:
        os.unlink(temporary)
        return f'{" ".join(command)}:\n{result.stderr.strip()[-2000:]}'
    os.replace(temporary, target)  # concurrent builds: the last one wins
    return None


def _declare(library: ctypes.CDLL) -> ctypes.CDLL:
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    library.bags_group_ce_forward.argtypes = [
        pointer, size, size, pointer, size, pointer, pointer, pointer,
        pointer, ctypes.c_int]
    library.bags_group_ce_backward.argtypes = [
        pointer, size, size, pointer, size, pointer, pointer, pointer,
        pointer, pointer, ctypes.c_int]
    library.bags_group_scores.argtypes = [
        pointer, size, size, pointer, size, size, pointer, size, pointer,
        ctypes.c_int]
    library.bags_select_rois.argtypes = [
        pointer, pointer, size, pointer, size, size, ctypes.c_double,
        pointer, pointer]
    library.bags_select_rois.restype = size
    library.bags_group_ce_forward.restype = size
    library.bags_group_scores.restype = ctypes.c_int
    library.bags_group_ce_backward.restype = None
    return library


def _load() -> ctypes.CDLL:
    source = SOURCE.read_bytes()
    compiler = shutil.which(_compiler()[0])
    if compiler is None:
        raise RuntimeError('no C compiler found (tried '
                           f'{" ".join(_compiler())!r}; set CC)')
    directory = _writable_cache_dir()
    errors = []
    for flags in FLAG_SETS:
        key = hashlib.sha256(b'\0'.join([
            source, ' '.join([compiler, *_compiler()[1:]]).encode(),
            ' '.join(flags).encode(),
            _cpu_signature().encode()
        ])).hexdigest()[:16]
        target = directory / f'group_softmax_cpu-{key}.so'
        if not target.exists():
            error = _build(flags, target)
            if error is not None:
                errors.append(error)
                continue
        try:
            return _declare(ctypes.CDLL(str(target)))
        except OSError as error:
            errors.append(f'{target}: {error}')
    raise RuntimeError('could not compile ' + str(SOURCE) + ':\n' +
                       '\n'.join(errors))


def library() -> Optional[ctypes.CDLL]:
    """The compiled kernel, or None (switched off, or it cannot be built:
    warned once, with the reason)."""
    global _library, _failure
    if not enabled():
        return None
    if _library is not None or _failure is not None:
        return _library
    with _lock:
        if _library is None and _failure is None:
            try:
                _library = _load()
            except Exception as error:  # noqa: BLE001 - any failure falls back
                _failure = str(error)
                warnings.warn(
                    'mmdet-bags: the fused CPU kernel of GroupSoftmaxLoss is '
                    'not available, so the slower tensor implementation is '
                    f'used (same results). Reason: {_failure}')
    return _library


def library_for(tensor, float32_only: bool = True) -> Optional[ctypes.CDLL]:
    """The kernel if it serves ``tensor``: on the CPU and (for logits)
    float32; else None."""
    if tensor.device.type != 'cpu' or (float32_only
                                       and tensor.dtype != torch.float32):
        return None
    return library()


def failure() -> Optional[str]:
    """Why the kernel could not be built, if it was tried and failed."""
    return _failure
