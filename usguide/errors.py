"""The one error type users see: a single clear line, exit code 2."""


class UsguideError(Exception):
    """An error caused by the user's input or environment (file, device, option, model).

    The CLI prints ``usguide: error: <message>`` on one line and exits with code 2. The message
    must say what is wrong and what to do about it.
    """

    exit_code = 2
