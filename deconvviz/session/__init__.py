"""The app's Qt-free middle layer, between the faces (``gui/``, ``cli/``) and the figures below.

:mod:`.state` is the inspection state the main window and the analysis views observe (``Session``, with
change events from :mod:`.events`); :mod:`.tracker` drops stale results; :mod:`.messages` are the frozen
requests and results; :mod:`.runner` is the one job runner's core around :mod:`.compute`. :mod:`.recipes`
holds one frozen *recipe* per headless command: the CLI parses into it, the app builds it, and either
renders the command line that regenerates a figure (``recipe.shell()``).
"""
