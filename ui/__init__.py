"""The Qt (PySide6) operator and engineer UI. Imports station/, never drivers/.

Importing the package first guards against a PySide6 reference-count bug on CPython 3.11
(see ``ui.qt_refcount``), before any other UI module makes a Qt call.
"""

from ui.qt_refcount import protect_singletons

protect_singletons()
