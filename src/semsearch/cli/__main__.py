"""`python -m semsearch.cli …`, as the `semsearch` script."""

from semsearch.cli import main

main()
