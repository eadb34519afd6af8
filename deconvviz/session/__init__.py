"""The app's Qt-free middle layer, between the faces (``gui/``, ``cli/``) and the figures below.

:mod:`.recipes` holds one frozen *recipe* per headless command: the CLI parses into it, the app builds it,
and either renders the command line that regenerates a figure (``recipe.shell()``).
"""
