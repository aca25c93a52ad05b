"""The public API is what `cascada.__all__` lists, and all of it exists."""

import cascada


def test_all_members_exist():
    missing = [name for name in cascada.__all__ if not hasattr(cascada, name)]
    assert missing == []


def test_public_names_are_exported():
    public = {
        name for name, value in vars(cascada).items()
        if not name.startswith("_") and not getattr(value, "__module__", "").startswith("builtins")
        and callable(value)
    }
    assert public <= set(cascada.__all__)
