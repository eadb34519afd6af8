"""The paper's analyses over a LoadedModel and a data set: the glue between data sources, the engine and files.

The engine modules take bare networks and tensors; these functions take what a user names (a LoadedModel,
a data set path) and are what the CLI, the app and the README call.
"""
