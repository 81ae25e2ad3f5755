# Import-light on purpose: an import error here disables every Metaflow extension.
STEP_DECORATORS_DESC = [
    ("conda", ".decorators.CondaStepDecorator"),
    ("pypi", ".decorators.PypiStepDecorator"),
    ("named_env", ".decorators.NamedEnvStepDecorator"),
    ("sys_packages", ".decorators.SysPackagesStepDecorator"),
    ("pip", ".decorators.PipStepDecorator"),
]
FLOW_DECORATORS_DESC = [
    ("conda_base", ".decorators.CondaFlowDecorator"),
    ("pypi_base", ".decorators.PypiFlowDecorator"),
    ("named_env_base", ".decorators.NamedEnvFlowDecorator"),
    ("sys_packages_base", ".decorators.SysPackagesFlowDecorator"),
    ("pip_base", ".decorators.PipFlowDecorator"),
]
ENVIRONMENTS_DESC = [
    ("conda", ".environment.FlowenvEnvironment"),
    ("pypi", ".environment.PypiNamedEnvironment"),
]
CLIS_DESC = [("environment", ".flow_cli.cli")]
# Runner("flow.py").environment(): imported with Metaflow itself, so it imports nothing heavy.
RUNNER_CLIS_DESC = [("environment", ".runner_environment.RunnerEnvironment")]
