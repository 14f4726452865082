"""``mtdnn train`` that SIGKILLs itself at a chosen moment (run by tests/reliability/test_kill.py).

Usage: ``python crash_worker.py WHEN N -- ARGS...`` where WHEN is ``step`` (after the N-th
optimizer step), ``checkpoint`` (inside the N-th checkpoint write, its files written but not yet
in place) or ``model`` (inside the N-th write of the best model); ``none`` runs to the end.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _kill_on(count: int) -> Any:
    calls = 0

    def hook(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == count:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _kill_inside(module: Any, name: str, count: int) -> None:
    original = getattr(module, name)
    kill = _kill_on(count)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        kill()  # the folder's files are written; it is not yet renamed into place
        return result

    setattr(module, name, wrapped)


def main() -> None:
    when, count = sys.argv[1], int(sys.argv[2])
    arguments = sys.argv[sys.argv.index("--") + 1 :]
    if when == "step":
        from torch.optim.optimizer import register_optimizer_step_post_hook

        register_optimizer_step_post_hook(_kill_on(count))
    elif when == "checkpoint":
        import mtdnn.training.checkpoint as checkpoint

        _kill_inside(checkpoint, "write_checksums", count)
    elif when == "model":
        import mtdnn.rundir as rundir

        _kill_inside(rundir, "write_checksums", count)
    from mtdnn.cli import main as mtdnn

    mtdnn(arguments)


if __name__ == "__main__":
    main()
