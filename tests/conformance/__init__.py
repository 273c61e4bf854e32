"""Runner for MongoDB's unified-format specification tests (see README in this folder)."""
