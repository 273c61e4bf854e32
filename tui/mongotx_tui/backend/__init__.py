"""IO with MongoDB through pymongo's AsyncMongoClient. Never imports textual or rich.

Everything here runs on the app's event loop, from async workers.
"""
