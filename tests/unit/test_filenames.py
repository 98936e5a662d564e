"""The one rule for "is this the same file name" (fileflare_admin/filenames.py)."""

from fileflare_admin.filenames import file_key, same_file


def test_space_and_case_are_set_aside() -> None:
    assert same_file("  Guide  Book.PDF ", "guide book.pdf")
    assert file_key("Straße\tMap.zip") == file_key("STRASSE map.zip")


def test_other_names_are_other_files() -> None:
    assert not same_file("guide.pdf", "guide-book.pdf")
    assert not same_file("guide.pdf", "")
