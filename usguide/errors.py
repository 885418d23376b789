"""The errors users see, each as a single clear line: bad input (exit code 2) and a runtime
failure that usguide recognised (exit code 1)."""


class UsguideError(Exception):
    """An error caused by the user's input or environment (file, device, option, model).

    The CLI prints ``usguide: error: <message>`` on one line and exits with code 2. The message
    must say what is wrong and what to do about it.
    """

    exit_code = 2


class RuntimeFailure(UsguideError):
    """A run that started well and then failed: a device lost mid-run, inputs of a batch failing.

    The CLI prints ``usguide: error: <message>`` on one line and exits with code 1 (usage and
    input errors exit with 2). Unexpected crashes exit with 1 too.
    """

    exit_code = 1
