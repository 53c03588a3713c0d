"""``python -m imgtrans``."""

from imgtrans.cli import main

main()
