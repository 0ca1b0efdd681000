"""Helpers shared by the gliclass-haystack components (private: import the components instead)."""
