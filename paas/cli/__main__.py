"""Run the CLI as ``python -m paas.cli``."""

from paas.cli.main import main

main()
