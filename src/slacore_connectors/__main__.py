"""``python -m slacore_connectors``: the same as the ``slacore`` script."""

from slacore_connectors._entry import main

if __name__ == "__main__":
    main()
