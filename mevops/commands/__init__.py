"""One module per command group: parse options, call the library, print. Nothing heavy at import."""
