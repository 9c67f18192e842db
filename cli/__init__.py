"""The ``rdnet`` command line (click). Thin: parses, calls library functions, prints."""
