"""flowenv errors as Metaflow shows them: a headline and the message, no traceback."""

from contextlib import contextmanager

from metaflow.exception import MetaflowException


class FlowenvException(MetaflowException):
    headline = "flowenv"


@contextmanager
def user_errors():
    """Turn flowenv's errors into Metaflow's, which Metaflow prints without a traceback."""
    from flowenv.errors import FlowenvError

    try:
        yield
    except FlowenvError as exc:
        raise FlowenvException(str(exc)) from exc
