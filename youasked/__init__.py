"""youasked: turn what people say about a product into product decisions, and close the loop.

This package is the shell, the top floor: the ``youasked`` command, the demo, replay and the
local broker's start and stop. It may import every other package; none imports it.
"""

__version__ = "0.1.0"
