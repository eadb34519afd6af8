"""The one exception type that carries a message meant for the user."""


class DeconvvizError(Exception):
    """A problem with the user's input (a file, a name, an index) that the user can fix.

    The CLI prints it as one line and exits with code 2; the app shows it in the status bar.
    Anything else that escapes is a bug in deconvviz.
    """
