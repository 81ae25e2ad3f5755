# Import-light on purpose: `metaflow environment ...` is loaded only when invoked.
CMDS_DESC = [("environment", ".environment_cli.cli")]
