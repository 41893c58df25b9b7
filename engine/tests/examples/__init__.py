"""The worked examples of docs/extending.md, byte for byte (tests/test_extending.py checks
the document against these files and registers each one to run it)."""
