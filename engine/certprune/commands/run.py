"""certprune-engine run: one experiment, as newline-delimited JSON events on stdout.

Exit codes: 0 finished, 1 failed (a `failed` event says why), 2 invalid configuration,
130/143 interrupted. Logs go to stderr; artifacts under --out.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import platform
import signal
import sys
import time
import traceback

from certprune.protocol import ConfigError, EventWriter, load_config, run_id

log = logging.getLogger("certprune")


class Interrupted(Exception):
    pass


def add_arguments(parser) -> None:
    parser.add_argument("--config", required=True, help="run configuration (JSON file)")
    parser.add_argument("--out", required=True, help="directory for this run's artifacts")
    parser.add_argument("--shared", default=None, help="directory shared by a sweep's runs (dense round cache)")


def _on_signal(signum, _frame):
    raise Interrupted(f"stopped by signal {signal.Signals(signum).name}")


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the process that started us dies.

    Otherwise a dashboard killed hard leaves its engine running, and the restarted
    dashboard's engine would share the run folder with it.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _lock_run_dir(out_dir: str, wait_seconds: float = 20.0):
    """An exclusive lock on the run folder: one engine per run, ever.

    Waits a little, so that an engine still shutting down can finish first.
    """
    handle = open(os.path.join(out_dir, ".engine.lock"), "w")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                handle.close()
                raise RuntimeError(f"another engine process is already running the run in {out_dir}; "
                                   "stop it first (or wait for it to finish)") from None
            time.sleep(0.25)


def main(args) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    writer = EventWriter(sys.stdout)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"error: invalid configuration: {e}", file=sys.stderr)
        writer.emit("failed", reason=f"invalid configuration: {e}", detail=None, phase="config")
        return 2

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    _die_with_parent()
    phase = {"name": "setup"}
    try:
        import torch  # imported late so that config errors answer fast

        from certprune import experiment
        from certprune.device import engine_device
        from certprune.plan import is_uploaded_model, run_plan

        device = engine_device(config["device"])
        os.makedirs(args.out, exist_ok=True)
        phase["name"] = "lock"
        _lock = _lock_run_dir(args.out)  # noqa: F841 (held until the process exits)
        resumed = experiment.has_progress(args.out)
        writer.emit("started", runId=run_id(config), config=config, device=str(device.type),
                    torchVersion=torch.__version__, resumed=resumed, plan=run_plan(config))
        log.info("run %s on %s (python %s, torch %s)", run_id(config), device, platform.python_version(), torch.__version__)
        if is_uploaded_model(config):
            # A model CertPrune did not train: verify it (one round), no training or pruning.
            from certprune import verify_model
            verify_model.run_verify_model(config, args.out, writer.emit, device=device, phase=phase)
        else:
            experiment.run_experiment(config, args.out, writer.emit, device=device, shared_dir=args.shared, phase=phase)
        return 0
    except Interrupted as e:
        writer.emit("failed", reason=str(e), detail=None, phase=phase.get("name"))
        return 143
    except Exception as e:  # every error becomes a `failed` event with its reason
        detail = traceback.format_exc()
        print(detail, file=sys.stderr)
        reason = str(e).strip() or type(e).__name__
        writer.emit("failed", reason=reason, detail=detail[-4000:], phase=phase.get("name"))
        return 1
