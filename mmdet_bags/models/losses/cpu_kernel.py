"""The fused CPU kernel of the group softmax (``group_softmax_cpu.c``).

The C source ships inside the package. On first use it is compiled with the
machine's C compiler (``$CC``, else ``cc``; about a second, no torch headers)
into a shared library cached under ``~/.cache/mmdet-bags/kernels`` (or
``$MMDET_BAGS_KERNEL_DIR``; a per-user temporary folder if that cannot be
written), keyed by the source, the compiler, the flags
and this CPU's instruction-set flags (``-march=native``: a cluster's shared
home directory gets one build per CPU kind). It is loaded with ``ctypes``,
so a wheel needs no build step.

Where the compiler targets AVX-512 (``-march=native`` on such a CPU) the
kernel's row passes use its intrinsics; elsewhere plain loops that compilers
vectorise (same arithmetic, see the C source). ``MMDET_BAGS_CPU_KERNEL=portable``
builds and uses the plain loops on any CPU (the tests compare the two).

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
from typing import Dict, List, Optional

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
#: Extra flags of each build: ``native`` may use AVX-512 intrinsics,
#: ``portable`` never does.
VARIANTS: Dict[str, List[str]] = {'native': [], 'portable': ['-DBAGS_PORTABLE']}
_lock = threading.Lock()
_libraries: Dict[str, ctypes.CDLL] = {}
_failures: Dict[str, str] = {}


def variant() -> Optional[str]:
    """The build ``MMDET_BAGS_CPU_KERNEL`` asks for: ``'native'`` (default,
    also ``1``/``true``/``on``), ``'portable'``, or None for off
    (``0``/``false``/``off``/``no``)."""
    value = os.environ.get('MMDET_BAGS_CPU_KERNEL', '1').strip().lower()
    if value in ('0', 'false', 'off', 'no'):
        return None
    if value in ('', '1', 'true', 'on', 'yes', 'native'):
        return 'native'
    if value == 'portable':
        return 'portable'
    raise ValueError(f'MMDET_BAGS_CPU_KERNEL={value!r}: expected 1 (or '
                     "native), 'portable' or 0")


def enabled() -> bool:
    """False when ``MMDET_BAGS_CPU_KERNEL`` is ``0``/``false``/``off``."""
    return variant() is not None


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
        pointer, size, size, pointer, size, size, pointer, pointer, size,
        pointer, ctypes.c_int]
    library.bags_select_rois.argtypes = [
        pointer, pointer, size, pointer, size, size, ctypes.c_double,
        pointer, pointer]
    library.bags_select_rois.restype = size
    library.bags_group_ce_forward.restype = size
    library.bags_group_scores.restype = ctypes.c_int
    library.bags_group_ce_backward.restype = None
    library.bags_kernel_avx512.argtypes = []
    library.bags_kernel_avx512.restype = ctypes.c_int
    return library


def _load(name: str = 'native') -> ctypes.CDLL:
    source = SOURCE.read_bytes()
    compiler = shutil.which(_compiler()[0])
    if compiler is None:
        raise RuntimeError('no C compiler found (tried '
                           f'{" ".join(_compiler())!r}; set CC)')
    directory = _writable_cache_dir()
    errors = []
    for flag_set in FLAG_SETS:
        flags = [*flag_set, *VARIANTS[name]]
        key = hashlib.sha256(b'\0'.join([
            source, ' '.join([compiler, *_compiler()[1:]]).encode(),
            ' '.join(flags).encode(),
            _cpu_signature().encode()
        ])).hexdigest()[:16]
        target = directory / f'group_softmax_cpu-{name}-{key}.so'
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
    """The compiled kernel of :func:`variant`, or None (switched off, or it
    cannot be built: warned once, with the reason)."""
    name = variant()
    if name is None:
        return None
    found = _libraries.get(name)
    if found is not None or name in _failures:
        return found
    with _lock:
        if name not in _libraries and name not in _failures:
            try:
                _libraries[name] = _load(name)
            except Exception as error:  # noqa: BLE001 - any failure falls back
                _failures[name] = str(error)
                warnings.warn(
                    'mmdet-bags: the fused CPU kernel of GroupSoftmaxLoss is '
                    'not available, so the slower tensor implementation is '
                    f'used (same results). Reason: {_failures[name]}')
    return _libraries.get(name)


def uses_avx512() -> Optional[bool]:
    """Whether the kernel in use runs its AVX-512 passes (None: no
    kernel)."""
    found = library()
    return None if found is None else bool(found.bags_kernel_avx512())


def library_for(tensor, float32_only: bool = True) -> Optional[ctypes.CDLL]:
    """The kernel if it serves ``tensor``: on the CPU and (for logits)
    float32; else None."""
    if tensor.device.type != 'cpu' or (float32_only
                                       and tensor.dtype != torch.float32):
        return None
    return library()


def failure() -> Optional[str]:
    """Why the kernel of :func:`variant` could not be built, if it was tried
    and failed."""
    name = variant()
    return None if name is None else _failures.get(name)
