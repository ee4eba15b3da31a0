#!/usr/bin/env bash
# Create (or update) the project's reproducible environment in .venv/.
#
#   bash tools/setup_env.sh          # usually through `make install`
#
# Environment variables:
#   VENV        where to create the environment (default: .venv at the repo root)
#   PYTHON      interpreter used to create it (default: python3; the stack needs 3.11
#               for the torch 2.13.0 CPU wheel this project pins)
#   MMCV_WHEELHOUSE  where the compiled mmcv wheel is kept between installs
#               (default: ~/.cache/mmdet-bags/wheels/<torch version>-<python tag>)
#   MAX_JOBS    parallel compile jobs for mmcv (default: number of cores)
#
# mmcv 2.1.0 exists on PyPI only as source. It is compiled once (several minutes on
# 2 cores) into the wheelhouse; later installs, including fresh clones on the same
# machine, reuse that wheel, and an environment whose mmcv already runs its ops is
# left alone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=${VENV:-.venv}
python=${PYTHON:-python3}
constraints=requirements/constraints.txt
started=$(date +%s)

say() { printf '[setup_env] %s\n' "$*"; }
die() { printf '[setup_env] ERROR: %s\n' "$*" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
    say "creating virtual environment $venv with $($python --version 2>&1)"
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check)
# Some machines' pip configuration names local package indexes that do not
# exist; pip warns about each package it looks up there. Hide only that noise.
quiet_pip() {
    "${pip[@]}" "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
}

say "installing build tools and torch (CPU build pinned in $constraints)"
quiet_pip install -q -c "$constraints" -r requirements/build.txt
quiet_pip install -q -c "$constraints" torch numpy

torch_version=$("$py" -c 'import torch; print(torch.__version__)')
py_tag=$("$py" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
case "$torch_version" in
    *+cu*) die "torch $torch_version is a CUDA build; this environment pins the CPU build" ;;
esac
wheelhouse=${MMCV_WHEELHOUSE:-$HOME/.cache/mmdet-bags/wheels/torch-$torch_version-$py_tag}

if "$py" tools/check_mmcv_ops.py --mmcv-version 2.1.0 >/dev/null 2>&1; then
    say "mmcv with compiled ops already installed: not rebuilding"
else
    mmcv_wheel=$(ls "$wheelhouse"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$mmcv_wheel" ]; then
        mkdir -p "$wheelhouse"
        log="$wheelhouse/mmcv-build.log"
        jobs=${MAX_JOBS:-$(nproc)}
        say "COMPILING mmcv 2.1.0 with its ops from source ($jobs jobs)."
        say "This takes several minutes (about 6 on 2 cores); progress every 20 s, full log: $log"
        # --no-build-isolation: mmcv's setup.py needs the torch installed above.
        MMCV_WITH_OPS=1 MAX_JOBS=$jobs "${pip[@]}" wheel -v --no-deps \
            --no-build-isolation -c "$constraints" -w "$wheelhouse" mmcv==2.1.0 \
            >"$log" 2>&1 &
        build_pid=$!
        while kill -0 "$build_pid" 2>/dev/null; do
            sleep 20
            # ninja prints "[done/total] <command>" for each compiled file.
            step=$(grep -aoE '^ *\[[0-9]+/[0-9]+\]' "$log" | tail -n 1 | tr -d ' ' || true)
            say "  still compiling mmcv: $(( $(date +%s) - started )) s elapsed, ninja step ${step:-(preparing)}"
        done
        if ! wait "$build_pid"; then
            tail -n 40 "$log" >&2
            die "building mmcv failed; see $log"
        fi
        mmcv_wheel=$(ls "$wheelhouse"/mmcv-2.1.0-*.whl | head -n 1)
        say "built $(basename "$mmcv_wheel") in $(( $(date +%s) - started )) s"
    else
        say "reusing compiled $mmcv_wheel"
    fi
    quiet_pip install -q --no-deps --force-reinstall "$mmcv_wheel"
    # mmcv's own dependencies (addict, yapf, opencv, ...), from its metadata.
    quiet_pip install -q -c "$constraints" "mmcv==2.1.0" --find-links "$wheelhouse"
    "$py" tools/check_mmcv_ops.py --mmcv-version 2.1.0 || die "mmcv is installed but its compiled ops do not work"
fi

say "installing MMDetection, lvis, test tools and mmdet-bags (editable)"
quiet_pip install -q -c "$constraints" --find-links "$wheelhouse" \
    -r requirements/runtime.txt -r requirements/tests.txt
quiet_pip install -q -c "$constraints" \
    $(grep -vE '^(#|openmim|$)' requirements/tools.txt)
quiet_pip install -q -c "$constraints" --no-deps \
    $(grep -E '^openmim' requirements/tools.txt)
quiet_pip install -q -c "$constraints" --find-links "$wheelhouse" \
    --no-build-isolation -e .
# openmim's declared opendatalab is left out on purpose (requirements/tools.txt);
# any other inconsistency fails the install.
problems=$("${pip[@]}" check 2>&1 | grep -vE "^WARNING: Location 'file:|^openmim [0-9.]+ requires opendatalab, which is not installed\.$" || true)
if [ -n "$problems" ] && [ "$problems" != "No broken requirements found." ]; then
    printf '%s\n' "$problems" >&2
    die "pip check found inconsistent requirements"
fi
"$py" tools/check_mmcv_ops.py --mmcv-version 2.1.0 || die "mmcv ops stopped working after installing the rest"
"$py" -c 'import mmdet_bags' || die "mmdet_bags does not import"
say "environment ready in $venv ($(( $(date +%s) - started )) s)"
