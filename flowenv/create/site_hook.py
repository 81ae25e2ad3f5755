"""Copied into every environment flowenv creates (as site-packages/_flowenv_site_hook.py,
imported at start-up by a .pth file), so that it runs in every Python of the environment.

1. Appends FLOWENV_SITE_APPEND's folders to sys.path *after* site-packages, so a host
   (Metaflow) can provide its own runtime needs without shadowing the env's packages.
2. Marks the environment in use for the life of the process (see flowenv/usage.py): a
   shared flock on its in-use file, and its last use stamped. `metaflow environment gc`
   never removes an environment a running process holds.

Standard library only, and never an error: it runs before anything else in the env.
"""

import os
import site
import sys

for _folder in os.environ.get("FLOWENV_SITE_APPEND", "").split(os.pathsep):
    if _folder:
        site.addsitedir(_folder)


def _hold(prefix):
    try:
        import fcntl

        fd = os.open(os.path.join(prefix, ".flowenv-in-use"),
                     os.O_RDONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # kept until the process ends
        os.utime(prefix)
    except (OSError, ImportError):
        pass


_hold(sys.prefix)
