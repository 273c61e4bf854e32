"""mongotx-tui: explore MongoDB sessions and transactions by hand, in the terminal.

Importing the package costs nothing: the app, textual and pymongo load only when used.
"""

__version__ = "0.1.0"
