"""Progress of a command, from tqdm: a bar on a terminal (counting the jobs an earlier,
interrupted run already stored), a plain line per job otherwise (logs, CI), nothing when quiet.
Lines go through the ``logging`` module (logger ``model``), so ``-q`` silences them."""

from __future__ import annotations

import logging
import sys
import time

from model.experiments.runner import Progress

log = logging.getLogger("model")


class Bar(Progress):
    """What the command line shows while jobs run (``desc``: what the jobs are; ``header``: a line
    said before the first job, once the output folder is claimed)."""

    def __init__(self, desc: str = "replications", header: str = "") -> None:
        self.desc, self.header = desc, header
        self.bar = None
        self.total = self.done = self.resumed = 0
        self.t0 = time.perf_counter()

    def start(self, total: int, done: int) -> None:
        if self.header:  # said once, when the folder is claimed and the jobs are known
            log.info("%s", self.header)
            self.header = ""
        self.total, self.done, self.resumed = total, done, done
        self.t0 = time.perf_counter()
        if done:
            log.info("%d of %d %s already stored: resuming", done, total, self.desc)
        if sys.stderr.isatty() and log.isEnabledFor(logging.INFO):
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=self.desc, unit="job", file=sys.stderr,
                            dynamic_ncols=True, leave=True)

    def advance(self, label: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.update(1)
            return
        elapsed = time.perf_counter() - self.t0
        ran = self.done - self.resumed
        eta = f", about {elapsed / ran * (self.total - self.done):.0f} s to go" if self.done < self.total else ""
        log.info("[%d/%d] %s done (%.0f s%s)", self.done, self.total, label, elapsed, eta)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
