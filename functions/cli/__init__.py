"""The partners command-line tool, run as `python -m functions.partners`: `commands`
parses the command line, calls `functions.operations` and prints (text, or `--json`),
and only that."""
