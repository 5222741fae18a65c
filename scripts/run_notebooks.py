"""Execute the notebooks in notebooks/ and store them with their outputs.

    .venv/bin/python scripts/run_notebooks.py            # all notebooks
    .venv/bin/python scripts/run_notebooks.py 03 05      # those whose name starts so

The notebooks are kept in the repository with their outputs, so that they
read well on a repository page; run this after editing one.  The tests
(tests/test_notebooks.py) execute them again, without writing them.
"""
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"


def execute(path: pathlib.Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run ``path`` top to bottom in a fresh python3 kernel (this Python's
    ipykernel), from the notebooks folder; return the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def main(prefixes):
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(prefixes))]
    for path in paths:
        start = time.perf_counter()
        nb = execute(path)
        nbformat.write(nb, path)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
