import os

# Metaflow refuses to run without a user name; CI may not set USER.
os.environ.setdefault("USER", "flowenv-tests")
