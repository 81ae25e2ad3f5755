import os

# Metaflow needs a user name and never accepts "root"; CI runs as root, maybe without USER.
if not os.environ.get("METAFLOW_USER") and os.environ.get("USER", "root") == "root":
    os.environ["METAFLOW_USER"] = "flowenv-tests"
