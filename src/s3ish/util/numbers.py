"""Client-supplied decimal numbers (part numbers, declared lengths, page sizes)."""


def ascii_int(value: str | None, max_digits: int = 19) -> int | None:
    """`value` as an int if it is 1..max_digits ASCII digits, else None. str.isdigit() alone
    also accepts '²' (which int() refuses), and int() refuses numbers of 4300+ digits: both
    used to escape the parsers as ValueError, a 500."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > max_digits:
        return None
    return int(value)
