"""The seed's story in one flow: a named base for every step, one step extending it,
one step running in the launching Python."""

from metaflow import FlowSpec, named_env, named_env_base, pypi, step


@named_env_base(name="demo/quickstart:v1")
class QuickstartFlow(FlowSpec):
    @step
    def start(self):
        import dateutil
        import tabulate

        # demo/quickstart:v1 as resolved from requirements.txt
        self.base = {"tabulate": tabulate.__version__, "python-dateutil": dateutil.__version__}
        print(tabulate.tabulate(self.base.items(), headers=["package", "version"]))
        self.next(self.extend)

    @pypi(packages={"humanize": "4.9.0"})
    @step
    def extend(self):
        import humanize
        import tabulate

        # demo/quickstart:v1 + humanize, the base's pins kept
        print("humanize", humanize.__version__, "next to tabulate", tabulate.__version__,
              "-", humanize.naturalsize(123456789))
        self.next(self.end)

    @named_env(disabled=True)
    @step
    def end(self):
        import sys

        print("end runs in the launching Python:", sys.executable)


if __name__ == "__main__":
    QuickstartFlow()
