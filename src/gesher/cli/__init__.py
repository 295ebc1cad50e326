"""The `gesher` command line: wires settings to the library and prints results."""
