"""``python -m rdnet``: the ``rdnet`` command line, as the console script runs it."""

from rdnet.cli.main import main

if __name__ == "__main__":
    main()
