"""Run the mtdnn command line from a checkout.

Example: ``python cli.py train configs/quickstart.jsonnet -s runs/quickstart``.
"""

from mtdnn.cli import main

if __name__ == "__main__":
    main()
