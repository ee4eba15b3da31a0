"""``mmdet-bags``: run a shipped tool, or find a shipped config.

The tools are the repository's ``tools/`` scripts, shipped in the wheel as
``mmdet_bags/.mim/tools`` (see :mod:`mmdet_bags.package_files`); this runs
one exactly as ``python tools/<name>.py ARGS`` runs it in a clone, so every
tool works the same from a wheel, outside any clone::

    mmdet-bags demo --quick
    mmdet-bags benchmark_longtail --quick
    mmdet-bags analysis/group_stats lvis_v1
    mmdet-bags --list                      # shipped tools and configs
    mmdet-bags --config-path demo/bags_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py

``python -m mmdet_bags ...`` is the same command.
"""
import os.path as osp
import runpy
import sys
from typing import List, Optional

from mmdet_bags import package_files

USAGE = """usage: mmdet-bags TOOL [ARGS...]      run a shipped tool (tools/TOOL.py)
       mmdet-bags --list                 list the shipped tools and configs
       mmdet-bags --config-path CONFIG   print a shipped config's path
                                         (CONFIG relative to configs/)"""


def run_tool(name: str, args: List[str]) -> int:
    """Run a shipped tool as ``python tools/<name>.py args`` would.

    Returns:
        int: the tool's exit status.

    Raises:
        FileNotFoundError: no such tool (before anything runs).
    """
    script = package_files.tool_path(name)
    saved_argv, saved_path = sys.argv, list(sys.path)
    # What `python script.py` does: argv[0] is the script and its folder is
    # first on sys.path (tools import their siblings).
    sys.argv = [script] + list(args)
    sys.path.insert(0, osp.dirname(script))
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as exit_:
        code = exit_.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(USAGE)
        print('tools: ' + ', '.join(package_files.list_tools()))
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == '--list':
        print(f'tools ({package_files.files_root()}/tools):')
        print('\n'.join(f'  {name}' for name in package_files.list_tools()))
        print(f'configs ({package_files.config_dir()}):')
        print('\n'.join(f'  {name}'
                        for name in package_files.list_configs()))
        return 0
    if command == '--config-path':
        if len(rest) != 1:
            print(USAGE, file=sys.stderr)
            return 2
        try:
            print(package_files.config_path(rest[0]))
        except FileNotFoundError as error:
            print(f'mmdet-bags: {error}', file=sys.stderr)
            return 2
        return 0
    if command.startswith('-'):
        print(f'unknown option {command!r}\n{USAGE}', file=sys.stderr)
        return 2
    try:
        package_files.tool_path(command)
    except FileNotFoundError as error:
        print(f'mmdet-bags: {error}', file=sys.stderr)
        return 2
    return run_tool(command, rest)


if __name__ == '__main__':
    sys.exit(main())
