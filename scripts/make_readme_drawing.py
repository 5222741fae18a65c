"""Write docs/images/lecture_example.svg, the drawing shown in the README.

The lecture example f(x, y) = y log x + sqrt(y log x) at (2, 3), drawn by
cr.draw with every variable's value and gradient.  Run it (Graphviz's `dot`
needed) after changing the drawing:

    .venv/bin/python scripts/make_readme_drawing.py
"""
import pathlib

import numpy as np

import chainrule as cr

OUT = pathlib.Path(__file__).resolve().parent.parent / "docs" / "images" / "lecture_example.svg"


def f(x, y):
    a = np.log(x)
    b = y * a
    return b + np.sqrt(b)


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cr.draw(f, 2.0, 3.0, grad=True, rankdir="LR").save(str(OUT))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
