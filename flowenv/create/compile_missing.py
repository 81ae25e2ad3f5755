"""Run by an environment's own python: compile every module of the given folders that has
no .pyc yet into a checked-hash .pyc, one worker process per core. Standard library only
(it runs before anything else is known to import)."""

import os
import sys


def _compile(path):
    import py_compile

    try:
        py_compile.compile(path, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except Exception:  # a template or a file for another Python: pip and uv skip it too
        pass


def _missing(folders):
    from importlib.util import cache_from_source

    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    if not os.path.exists(cache_from_source(path)):
                        yield path


def main(folders):
    from concurrent.futures import ProcessPoolExecutor

    todo = list(_missing(folders))
    if len(todo) < 200:  # starting workers costs more than a few modules
        for path in todo:
            _compile(path)
        return
    with ProcessPoolExecutor() as pool:
        list(pool.map(_compile, todo, chunksize=32))


if __name__ == "__main__":
    main(sys.argv[1:])
