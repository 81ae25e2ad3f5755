"""Promote a named environment in CI: latest -> candidate -> stable.

    python promote.py requirements.txt team/app flow.py

1. Resolve requirements.txt and name it TEAM/APP:latest.
2. Compare it with TEAM/APP:stable; if nothing changed, stop.
3. Make it TEAM/APP:candidate and run the flow on it (the flow reads its environment as
   @named_env_base(name="team/app:@{APP_TAG}"), with APP_TAG=candidate here).
4. When the run succeeds, TEAM/APP:candidate becomes TEAM/APP:stable.

Every step is a call of flowenv's Python API with a typed result: no CLI output to parse.
Exit code 0 when stable is up to date or promoted, 1 when the candidate failed its run.
"""

import sys

from flowenv.errors import EnvNotFound
from metaflow import Runner
from metaflow_extensions.flowenv.api import EnvironmentAPI


def promote(requirements: str, name: str, flow: str) -> int:
    api = EnvironmentAPI()
    latest = api.resolve(requirements=requirements, aliases=[name + ":latest"]).lock()
    print("%s:latest is %s (Python %s, %d packages)"
          % (name, latest.full_id, latest.python, len(latest.files)))
    try:
        changes = api.diff(name + ":stable", latest)
    except EnvNotFound:
        print("%s:stable does not exist yet" % name)
    else:
        if changes.is_empty:
            print("%s:stable is up to date" % name)
            return 0
        for line in changes.lines():
            print("    " + line)

    candidate = api.alias(name + ":latest", name + ":candidate")[0]
    print("%s:candidate -> %s" % (name, candidate.envs[latest.platform]))
    with Runner(flow, environment="conda", env={"APP_TAG": "candidate"}) as runner:
        result = runner.run()
    if result.status != "successful":
        print("The candidate failed its run (%s): %s:stable is unchanged" % (result.status, name))
        return 1

    api.alias(name + ":candidate", name + ":stable")
    last = api.history(name + ":stable")[-1]
    print("%s:stable -> %s (by %s at %s)" % (name, last.envs[latest.platform], last.by, last.at))
    return 0


if __name__ == "__main__":
    sys.exit(promote(*sys.argv[1:4]))
