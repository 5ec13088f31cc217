"""The command line: argument parsing, output, exit codes. The only layer that prints."""
