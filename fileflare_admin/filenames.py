"""Whether two file names are the same file: the one rule, used by every app that compares names.

The records API keeps a file name as text and Fileflare may write it with other spacing or case, so a
name's key sets runs of white space and case aside."""

import functools


@functools.lru_cache(maxsize=4096)  # a page keys its 100 records' names two or three times a load
def file_key(name: str) -> str:
    """A file name as the records API and Fileflare both may write it: spaces and case set aside. Two
    names are the same file when their keys are equal."""
    return " ".join(name.split()).casefold()


def same_file(one: str, other: str) -> bool:
    """Whether two names (a record's, an asset's, a link's last part) are the same file."""
    return file_key(one) == file_key(other)
