"""python -m tensorgrad.run script.py [args...]: run a torch script unmodified on tensorgrad.

`import torch` inside the script (and torch.nn, torch.utils.data, ...) gives tensorgrad
(tensorgrad.install_as_torch). When the script reaches something tensorgrad does not have, the run
stops with one line naming it and the script's line, e.g.
    train.py:12: tensorgrad does not implement torch.distributed
`python -m tensorgrad.run -m package.module [args...]` runs a module the same way."""
import os
import runpy
import sys
import traceback

from .missing import PREFIX
from .torch_alias import install_as_torch

USAGE = "usage: python -m tensorgrad.run script.py [args...]   (or: -m module [args...])"


def _missing_feature(e: BaseException):
    while e is not None:
        if str(e).startswith(PREFIX):
            return e
        e = e.__cause__ or e.__context__
    return None


def _where(e: BaseException, path: str) -> str:
    """path:line of the innermost frame of the traceback that is in the user's script."""
    frames = traceback.extract_tb(e.__traceback__)
    mine = [f for f in frames if os.path.abspath(f.filename) == os.path.abspath(path)] if path else []
    frame = (mine or frames or [None])[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno}: " if frame is not None else ""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    install_as_torch()
    as_module = argv[0] == "-m"
    if as_module and len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    target = argv[1] if as_module else argv[0]
    sys.argv = argv[1:] if as_module else argv
    path = "" if as_module else target
    if not as_module:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except Exception as e:
        missing = _missing_feature(e)
        if missing is None:
            raise
        print(f"{_where(e, path)}{missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
